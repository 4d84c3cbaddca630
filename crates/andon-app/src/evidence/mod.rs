//! Evidence: signed attestations in (intake), typed summaries derived from their reports,
//! and the searches over what was accepted.

pub mod intake;
pub mod reports;
pub mod search;
mod summary;
