//! The ledger: the sequencer that appends every fact, its reads and proofs, its self-check,
//! the witness, the append meter, the check a start makes, and the checkpoint file.

pub(crate) mod admission;
pub mod anchor;
pub mod cluster;
mod durable;
pub mod entries;
pub mod fact;
pub mod keyring;
pub mod meter;
pub mod restored;
pub mod self_check;
pub mod sequencer;
pub mod start;
pub mod witness;
