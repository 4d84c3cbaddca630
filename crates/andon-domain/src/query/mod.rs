//! The query strings of the API's listings and searches, as typed inputs: the HTTP layer
//! parses them, the application takes them. One module per capability.

pub mod access;
pub mod changes;
pub mod evidence;
pub mod gates;
pub mod ledger;
pub mod metrics;
pub mod telemetry;

/// How a listing is answered: JSON (the default) or CSV, for a spreadsheet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON, as every other answer.
    #[default]
    Json,
    /// CSV (RFC 4180) with a header line: one row per item, nested values as JSON.
    Csv,
}
