//! The ledger's error type.

/// Why a proof or a checkpoint did not verify, or a request made no sense.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    /// An index or size beyond the tree.
    #[error("index {index} is out of range for a tree of size {size}")]
    OutOfRange {
        /// The requested index or size.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A consistency proof was asked between sizes that do not allow one.
    #[error("no consistency proof from size {from} to size {to}")]
    BadSizes {
        /// The older size.
        from: u64,
        /// The newer size.
        to: u64,
    },
    /// The proof does not lead to the expected root.
    #[error("the proof does not verify: {0}")]
    ProofMismatch(&'static str),
    /// A checkpoint note was malformed.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    /// No signature by the expected key verified.
    #[error("checkpoint signature by {0} does not verify")]
    BadSignature(String),
}
