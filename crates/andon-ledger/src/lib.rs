//! Andon's ledger: the tamper-evident log every accepted fact is appended to.
//!
//! This crate owns the RFC 6962 / RFC 9162 Merkle tree hashing, inclusion and consistency
//! proofs (generation and verification), an in-memory tree that the server keeps beside the
//! database, and C2SP `tlog-checkpoint` signed notes. It is pure: no I/O, no clock.
//! Storage of the leaves belongs to `andon-store`; sequencing belongs to `andon-server`.

mod checkpoint;
mod cosignature;
mod error;
mod hash;
mod proof;
mod tree;

pub use checkpoint::{Checkpoint, LogSigner, NoteVerifier, SignedCheckpoint, rotation_statement};
pub use cosignature::{Cosignature, WitnessSigner, WitnessVerifier, cosignatures};
pub use error::LedgerError;
pub use hash::{EMPTY_ROOT, Hash, leaf_hash, node_hash};
pub use proof::{root_from_inclusion, root_from_leaf_hashes, verify_consistency, verify_inclusion};
pub use tree::MerkleTree;
