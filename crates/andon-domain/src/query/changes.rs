//! Queries: Changes and deployments.

use serde::Deserialize;

use super::{Format, SortKey, SortOrder};

/// The query of the change, deployment and notification listings, newest recorded first
/// unless `sort` says otherwise (notifications take only `limit` and `format`).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    /// Only this application's.
    pub application: Option<String>,
    /// Only this environment's.
    pub environment: Option<String>,
    /// The next page: the rows after the one at this ledger index, in the listing's order
    /// (the last row's `ledger_index` of the page before).
    pub before: Option<u64>,
    /// What orders the listing: `recorded` (the default), `application`, `environment`;
    /// deployments also `deployed` and `state`, changes also `class` and `status`. Ties go by
    /// ledger index.
    pub sort: Option<SortKey>,
    /// `asc` or `desc`; by default `recorded` and `deployed` are newest first, the others A
    /// to Z.
    pub order: Option<SortOrder>,
    /// At most this many (100 when absent).
    pub limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    pub format: Option<Format>,
}
