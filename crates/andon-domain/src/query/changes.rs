//! Queries: Changes and deployments.

use serde::Deserialize;

use super::Format;

/// The query of the change, deployment and notification listings, newest first
/// (notifications take only `limit` and `format`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    /// Only this application's.
    pub application: Option<String>,
    /// Only this environment's.
    pub environment: Option<String>,
    /// Only those before this ledger index: the next page.
    pub before: Option<u64>,
    /// At most this many (100 when absent).
    pub limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    pub format: Option<Format>,
}
