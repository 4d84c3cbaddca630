//! The ledger: the sequencer that appends every fact, its reads and proofs, its self-check,
//! the witness, and the append meter.

pub mod entries;
pub mod meter;
pub mod self_check;
pub mod sequencer;
pub mod witness;
