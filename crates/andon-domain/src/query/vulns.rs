//! Queries: vulnerabilities.

use serde::Deserialize;

/// `GET /v1/vulnerabilities/impact`: which package or vulnerability, and where.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ImpactQuery {
    /// A package URL: `pkg:pypi/requests@2.30.0` for that version only, `pkg:pypi/requests`
    /// for any version.
    pub purl: Option<String>,
    /// A vulnerability id (`CVE-…`, `GHSA-…`, `PYSEC-…`, any OSV id or alias) of an imported
    /// advisory: the versions its ranges name (not with `purl`).
    pub id: Option<String>,
    /// Only this environment.
    pub environment: Option<String>,
}

/// `GET /v1/vulnerabilities/items`: which items.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ItemQuery {
    /// Only this application's.
    pub application: Option<String>,
    /// Only items in this state (`detected`, `fix_built`, `fix_deployed`, `closed`), or
    /// `open` for every state but closed.
    pub state: Option<String>,
    /// Only this vulnerability (its id or any alias).
    pub vulnerability: Option<String>,
}
