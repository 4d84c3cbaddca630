//! The parts of an OSV record (ossf.github.io/osv-schema) that matching reads. Unknown
//! fields are ignored, as the schema asks; the caller validates the whole record against the
//! vendored JSON schema first.

use serde::{Deserialize, Serialize};

/// One OSV record.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Advisory {
    /// The record's id (`GHSA-…`, `PYSEC-…`, `CVE-…`, `GO-…`).
    pub id: String,
    /// When the record last changed (RFC 3339).
    pub modified: String,
    /// When it was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// When it was withdrawn, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Severity scores (CVSS vectors, Ubuntu priorities).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// The affected packages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Affected>,
    /// The database's own fields (GHSA puts its severity word here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A severity score.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Severity {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector or the word.
    pub score: String,
}

/// One affected package and its versions.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    /// The package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// Version ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Versions affected, listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// The package's severity, where it differs from the record's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    /// Ecosystem fields (Debian's urgency, Go's symbols).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    /// Database fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// A package, by ecosystem and name, and maybe by purl.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Package {
    /// `PyPI`, `npm`, `Debian:12`, …
    pub ecosystem: String,
    /// The name in that ecosystem.
    pub name: String,
    /// Its package URL, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// A version range as a list of events.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Range {
    /// `SEMVER`, `ECOSYSTEM` or `GIT`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The repository of a `GIT` range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The events, in any order.
    pub events: Vec<Event>,
}

/// One event of a range: exactly one of its fields is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Event {
    /// The version where the vulnerability begins (`0`: from the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// The first version without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The last version with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// A limit of the range (`*` for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// The severity words Andon bands vulnerabilities in.
pub const BANDS: [&str; 5] = ["critical", "high", "medium", "low", "unknown"];

impl Advisory {
    /// The record's severity as one of [`BANDS`]: the database's own word when it gives one
    /// (GHSA: `CRITICAL`, `HIGH`, `MODERATE`, `LOW`), else an Ubuntu priority, else the
    /// band of the highest base score among its CVSS v3 and v4 vectors (critical from 9.0,
    /// high from 7.0, medium from 4.0, low above 0), else `unknown`.
    pub fn severity_word(&self) -> &'static str {
        let word = self
            .database_specific
            .as_ref()
            .and_then(|d| d.get("severity"))
            .and_then(|s| s.as_str())
            .or_else(|| {
                self.severity
                    .iter()
                    .find(|s| s.kind == "Ubuntu")
                    .map(|s| s.score.as_str())
            })
            .unwrap_or("");
        match band(word) {
            "unknown" => self.cvss_score().map_or("unknown", score_band),
            b => b,
        }
    }

    /// The highest base score of the record's CVSS v3 and v4 vectors that parse.
    pub fn cvss_score(&self) -> Option<f64> {
        self.severity
            .iter()
            .filter(|s| matches!(s.kind.as_str(), "CVSS_V3" | "CVSS_V4"))
            .filter_map(|s| s.score.parse::<cvss::Cvss>().ok())
            .map(|c| c.score())
            .max_by(f64::total_cmp)
    }

    /// The ids this record goes by: its own and its aliases.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// A CVSS base score as one of [`BANDS`], by the qualitative scale of CVSS v3.1 and v4.0
/// (a score of 0 is no severity: `unknown`).
pub fn score_band(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "unknown",
    }
}

/// A severity word, in any of the spellings tools use, as one of [`BANDS`].
pub fn band(word: &str) -> &'static str {
    match word.to_ascii_lowercase().as_str() {
        "critical" => "critical",
        "high" | "important" => "high",
        "medium" | "moderate" => "medium",
        "low" | "negligible" => "low",
        _ => "unknown",
    }
}
