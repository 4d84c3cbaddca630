//! Queries: Security telemetry.

use serde::Deserialize;

/// `GET /v1/telemetry`: which stored events to list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchQuery {
    /// Only the events about this application.
    pub application: Option<String>,
    /// Only the events of this kind (`login.failure`, `config.change`, ...).
    pub kind: Option<String>,
    /// Only the events from this source.
    pub source: Option<String>,
    /// Only the events of this batch (its ledger index), in order.
    pub batch: Option<u64>,
    /// From (RFC 3339 or a date).
    pub since: Option<String>,
    /// Until (RFC 3339 or a date).
    pub until: Option<String>,
    /// At most this many (100 by default, 10,000 for a batch).
    pub limit: Option<u32>,
}
