//! Queries: Break-glass access, environments, alerts and metrics.

use serde::Deserialize;

use crate::query::Format;

/// `GET /v1/access/requests`: which access requests to list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RequestsQuery {
    /// Only the requests for this application.
    pub application: Option<String>,
    /// Only the requests for this environment.
    pub environment: Option<String>,
    /// Only the requests in this state now: `pending`, `rejected`, `active`, `expired` or
    /// `revoked`.
    pub state: Option<String>,
    /// At most this many (100 by default).
    pub limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    pub format: Option<Format>,
}

/// `GET /v1/access/grants`: whose valid grants to list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GrantsQuery {
    /// Only the grants to this environment.
    pub environment: Option<String>,
    /// Only the grants for this application.
    pub application: Option<String>,
}

/// `GET /v1/access/debt`: whose Production Access Debt, over which span, per which period.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct DebtQuery {
    /// One application's debt (not with `team`).
    pub application: Option<String>,
    /// One team's debt (not with `application`).
    pub team: Option<String>,
    /// `day`, `week` (the default), `month` or `quarter`.
    pub period: Option<String>,
    /// From (RFC 3339 or a date); 90 days before `until` by default.
    pub since: Option<String>,
    /// Until (RFC 3339 or a date); now by default.
    pub until: Option<String>,
}

/// `GET /v1/environments/{env}/snapshots`: how many snapshots.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SnapshotsQuery {
    /// At most this many, newest first (20 by default).
    pub limit: Option<u32>,
}

/// `GET /v1/alerts`: which alerts to list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AlertsQuery {
    /// `open`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    /// Only alerts of this kind (`gate_bypass`, `unauthorized_change`, ...).
    pub kind: Option<String>,
    /// Only alerts about this application.
    pub application: Option<String>,
    /// Only alerts of this severity (`high`, `medium`, `low`).
    pub severity: Option<String>,
    /// At most this many, 1 to 1000 (100 by default).
    pub limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    pub format: Option<Format>,
}
