//! Queries: Policies, waivers and the Risk Control Matrix.

use serde::Deserialize;

use super::Format;

/// `GET /v1/waivers`: the query.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct WaiverQuery {
    /// Only this application's waivers.
    pub app: Option<String>,
}

/// `GET /v1/controls`: the query.
#[derive(Clone, Deserialize, schemars::JsonSchema)]
pub struct ControlsQuery {
    /// The application; without it, the organisation's matrix: every application's, each
    /// under the policy that applies to it, counted together.
    pub application: Option<String>,
    /// The environment whose policy applies (default `production`).
    pub environment: Option<String>,
    /// From this time (RFC 3339), inclusive; default 90 days ago.
    pub since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    pub until: Option<String>,
    /// `csv` for a spreadsheet; JSON by default.
    pub format: Option<Format>,
}

/// `GET /v1/controls/oscal/*`: the query (the matrix's, without a format: OSCAL is JSON).
#[derive(Deserialize, schemars::JsonSchema)]
pub struct OscalQuery {
    /// The application.
    pub application: String,
    /// The environment whose policy applies (default `production`).
    pub environment: Option<String>,
    /// From this time (RFC 3339), inclusive; default 90 days ago.
    pub since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    pub until: Option<String>,
}

impl From<OscalQuery> for ControlsQuery {
    fn from(q: OscalQuery) -> Self {
        Self {
            application: Some(q.application),
            environment: q.environment,
            since: q.since,
            until: q.until,
            format: None,
        }
    }
}
