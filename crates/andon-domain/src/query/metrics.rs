//! Queries: DORA metrics.

use serde::Deserialize;

/// `GET /v1/metrics`: whose metrics, by which period, over which range.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MetricsQuery {
    /// An application (either this or `team`).
    pub application: Option<String>,
    /// A team: every application it owns (either this or `application`).
    pub team: Option<String>,
    /// `day`, `week` (the default), `month` or `quarter`.
    pub period: Option<String>,
    /// The range's start: an RFC 3339 time or a date (90 days before `until` by default).
    pub since: Option<String>,
    /// The range's end: an RFC 3339 time or a date (now by default).
    pub until: Option<String>,
}
