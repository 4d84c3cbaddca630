//! Queries: The ledger's entries and proofs.

use serde::Deserialize;

/// `GET /v1/ledger/entries`: a page of entries in index order.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct EntriesQuery {
    /// The first entry's index (0 by default).
    pub start: Option<u64>,
    /// At most this many (1 to 5000; 500 by default).
    pub limit: Option<u32>,
}

/// `GET /v1/ledger/proof/inclusion`: an entry and the tree it is proved in.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct InclusionQuery {
    /// The entry's index.
    pub index: u64,
    /// The tree size the proof is for (the latest checkpoint's by default).
    pub size: Option<u64>,
}

/// `GET /v1/ledger/proof/consistency`: two tree sizes.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct ConsistencyQuery {
    /// The older tree size.
    pub from: u64,
    /// The newer tree size (the latest checkpoint's by default).
    pub to: Option<u64>,
}
