//! Queries: The ledger's entries and proofs.
