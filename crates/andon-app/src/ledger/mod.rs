//! The ledger: the sequencer that appends every fact, its reads and proofs, its self-check,
//! the witness, and the append meter.

mod admission;
pub mod cluster;
mod durable;
pub mod entries;
pub mod fact;
pub mod meter;
pub mod self_check;
pub mod sequencer;
pub mod witness;
