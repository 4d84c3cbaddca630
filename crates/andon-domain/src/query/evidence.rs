//! Queries: Evidence and traces.

use serde::Deserialize;

/// `POST /v1/evidence` and `POST /v1/evidence/batch`: what the submitted envelopes are.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct SubmitQuery {
    /// The application the evidence is for; the calling pipeline must be scoped to it.
    pub app: String,
    /// The CI run the evidence comes from: 1 to 256 characters.
    pub run: Option<String>,
    /// The evidence type each envelope's predicate type must match (`generic` takes any).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// `GET /v1/evidence`: a search of the accepted evidence, newest first.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct ListQuery {
    /// Only evidence for this application.
    pub app: Option<String>,
    /// Only evidence this control relied on in the application's decisions of the period
    /// (`since`/`until`; default the last 90 days). Needs `app`.
    pub control: Option<String>,
    /// Only evidence about this artifact (`sha256:<hex>`, or `sha512:`, `sha384:`,
    /// `gitCommit:`), or about a digest a record of the same application tied to it.
    pub subject: Option<String>,
    /// Only evidence of this predicate type.
    pub predicate_type: Option<String>,
    /// Only evidence from this CI run.
    pub run: Option<String>,
    /// Only evidence signed by this identity.
    pub signer: Option<String>,
    /// Accepted at or after this RFC 3339 time.
    pub since: Option<String>,
    /// Accepted before this RFC 3339 time.
    pub until: Option<String>,
    /// Only entries before this ledger index (the previous page's `next_before`).
    pub before: Option<u64>,
    /// At most this many (1 to 1000; 50 by default).
    pub limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    pub format: Option<super::Format>,
}

/// `GET /v1/trace`: where a trace starts, exactly one of the two.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct TraceQuery {
    /// A commit: 7 to 64 hex digits, a prefix of one recorded commit.
    pub commit: Option<String>,
    /// An artifact: `sha256:<64 hex>`.
    pub artifact: Option<String>,
}
