//! Reports carried inside attestations.
//!
//! Pipelines attest the raw report a tool wrote, not a summary of it: the report travels
//! base64-encoded inside the predicate, or, when it is large, is uploaded once on its own
//! (`PUT /v1/reports/sha256:<hex>`) and the predicate names its digest and size. Either way
//! the whole statement is signed, binding the report's exact bytes, and Andon derives the
//! summary itself, so a summary can never be forged apart from its report.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::{DomainError, Sha256Digest};

/// Predicate type of a JUnit XML test report.
pub const JUNIT_PREDICATE_V1: &str = "https://andon.dev/attestations/junit/v1";
/// Predicate type of a code coverage report (LCOV, Cobertura XML or JaCoCo XML).
pub const COVERAGE_PREDICATE_V1: &str = "https://andon.dev/attestations/coverage/v1";
/// Predicate type of a static analysis log (SARIF 2.1.0).
pub const SARIF_PREDICATE_V1: &str = "https://andon.dev/attestations/sarif/v1";

/// Predicate type of a software bill of materials (CycloneDX JSON or XML, SPDX 2.2/2.3 JSON
/// or tag-value, SPDX 3.0 JSON-LD).
pub const SBOM_PREDICATE_V1: &str = "https://andon.dev/attestations/sbom/v1";

/// Predicate type of a vulnerability scan or VEX (CycloneDX with vulnerabilities, a scanner's
/// SARIF, OpenVEX, CSAF 2.0).
pub const VULNERABILITIES_PREDICATE_V1: &str = "https://andon.dev/attestations/vulnerabilities/v1";

/// Predicate type of an environment hardening scan (Nmap XML, XCCDF results or ARF, Chef
/// InSpec JSON).
pub const HARDENING_PREDICATE_V1: &str = "https://andon.dev/attestations/hardening/v1";

/// Predicate type of a secrets scan (gitleaks JSON, TruffleHog JSON lines).
pub const SECRETS_PREDICATE_V1: &str = "https://andon.dev/attestations/secrets/v1";

/// Predicate type of a dynamic application security scan (OWASP ZAP JSON or XML).
pub const DAST_PREDICATE_V1: &str = "https://andon.dev/attestations/dast/v1";

/// The report kinds and their predicate types.
pub const REPORT_PREDICATES: &[(&str, &str)] = &[
    ("junit", JUNIT_PREDICATE_V1),
    ("coverage", COVERAGE_PREDICATE_V1),
    ("sarif", SARIF_PREDICATE_V1),
    ("sbom", SBOM_PREDICATE_V1),
    ("vulnerabilities", VULNERABILITIES_PREDICATE_V1),
    ("hardening", HARDENING_PREDICATE_V1),
    ("secrets", SECRETS_PREDICATE_V1),
    ("dast", DAST_PREDICATE_V1),
];

/// The report kind of a predicate type, if it is one.
pub fn report_kind(predicate_type: &str) -> Option<&'static str> {
    REPORT_PREDICATES
        .iter()
        .find(|(_, p)| *p == predicate_type)
        .map(|(k, _)| *k)
}

/// The predicate of a report attestation: `{"report": {...}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReportPredicate {
    /// The embedded report.
    pub report: EmbeddedReport,
}

/// A report file in a predicate: its bytes inline (`content`), or a reference to the bytes
/// uploaded on their own (`digest` and `size`). Exactly one of the two.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmbeddedReport {
    /// Its media type, e.g. `application/xml`.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Where the pipeline found it (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The file's bytes, standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The uploaded file's digest, an in-toto digest set: `{"sha256": "<hex>"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<std::collections::BTreeMap<String, String>>,
    /// The uploaded file's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// A report uploaded on its own and named by a predicate: what the ledger entry of the
/// evidence records, so an audit can find the bytes and check them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReport {
    /// SHA-256 of the report's bytes.
    pub digest: Sha256Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// Where a predicate's report is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportSource {
    /// Inline: its decoded bytes.
    Inline(Vec<u8>),
    /// Uploaded on its own, named by digest and size.
    Stored(StoredReport),
}

impl ReportPredicate {
    /// Wraps a report file.
    pub fn new(media_type: &str, path: Option<String>, bytes: &[u8]) -> Self {
        Self {
            report: EmbeddedReport {
                media_type: media_type.to_owned(),
                path,
                content: Some(STANDARD.encode(bytes)),
                digest: None,
                size: None,
            },
        }
    }

    /// Names a report uploaded on its own, by its digest and size.
    pub fn reference(media_type: &str, path: Option<String>, stored: StoredReport) -> Self {
        Self {
            report: EmbeddedReport {
                media_type: media_type.to_owned(),
                path,
                content: None,
                digest: Some([("sha256".to_owned(), stored.digest.hex())].into()),
                size: Some(stored.size),
            },
        }
    }

    /// Reads the predicate of a statement: the report's decoded bytes, or the uploaded
    /// report it names.
    pub fn source(predicate: &serde_json::Value) -> Result<ReportSource, DomainError> {
        let malformed = |m: String| DomainError::MalformedStatement(m);
        let report = predicate.get("report").ok_or_else(|| {
            malformed(
                "the predicate is not {\"report\": {\"mediaType\", \"content\"}} (or \"digest\" and \"size\" for an uploaded report)".into(),
            )
        })?;
        // Borrowed, not cloned: the content of a large inline report is decoded once.
        match (report.get("content"), report.get("digest")) {
            (Some(c), None) => {
                let c = c
                    .as_str()
                    .ok_or_else(|| malformed("report.content is not a string".into()))?;
                STANDARD
                    .decode(c.as_bytes())
                    .map(ReportSource::Inline)
                    .map_err(|e| malformed(format!("report.content is not base64: {e}")))
            }
            (None, Some(d)) => {
                let hex = d.get("sha256").and_then(|h| h.as_str()).ok_or_else(|| {
                    malformed("report.digest names no sha256 (a digest set: {\"sha256\": \"<hex>\"})".into())
                })?;
                let digest = Sha256Digest::from_hex(hex)
                    .map_err(|_| malformed(format!("report.digest.sha256 {hex:?} is not 64 lowercase hex")))?;
                let size = report
                    .get("size")
                    .and_then(serde_json::Value::as_u64)
                    .ok_or_else(|| malformed("report.size is missing: an uploaded report names its size in bytes".into()))?;
                Ok(ReportSource::Stored(StoredReport { digest, size }))
            }
            (Some(_), Some(_)) => Err(malformed(
                "report has both content and digest: give the bytes inline or name an upload, not both".into(),
            )),
            (None, None) => Err(malformed(
                "report has neither content (the bytes, base64) nor digest and size (an uploaded report)".into(),
            )),
        }
    }

    /// The uploaded report a predicate names, if it names one (an inline report is not
    /// decoded here).
    pub fn stored(predicate: &serde_json::Value) -> Result<Option<StoredReport>, DomainError> {
        if predicate.pointer("/report/digest").is_none() {
            return Ok(None);
        }
        match Self::source(predicate)? {
            ReportSource::Stored(s) => Ok(Some(s)),
            ReportSource::Inline(_) => Ok(None),
        }
    }

    /// The size in bytes of the report a predicate carries, without decoding it: an uploaded
    /// report's signed size, or what an inline report's base64 decodes to. `None` when the
    /// predicate is not a report's.
    pub fn size(predicate: &serde_json::Value) -> Option<u64> {
        let report = predicate.get("report")?;
        if report.get("digest").is_some() {
            return report.get("size").and_then(serde_json::Value::as_u64);
        }
        let content = report.get("content")?.as_str()?.as_bytes();
        let padding = content.iter().rev().take(2).filter(|b| **b == b'=').count();
        Some((content.len() / 4 * 3).saturating_sub(padding) as u64)
    }

    /// Reads the predicate of a statement and decodes an inline report's bytes (an
    /// uploaded one is refused: its bytes are not here).
    pub fn decode(predicate: &serde_json::Value) -> Result<Vec<u8>, DomainError> {
        match Self::source(predicate)? {
            ReportSource::Inline(bytes) => Ok(bytes),
            ReportSource::Stored(_) => Err(DomainError::MalformedStatement(
                "this predicate's report must be inline (report.content), not an upload".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reports_size_is_read_without_decoding_it() {
        for n in 0..12 {
            let bytes = vec![7u8; n];
            let p = serde_json::to_value(ReportPredicate::new("text/plain", None, &bytes))
                .expect("json");
            assert_eq!(
                ReportPredicate::size(&p),
                Some(n as u64),
                "{n} bytes inline"
            );
        }
        let stored = StoredReport {
            digest: Sha256Digest::of(b"x"),
            size: 123_456_789,
        };
        let p = serde_json::to_value(ReportPredicate::reference("text/plain", None, stored))
            .expect("json");
        assert_eq!(ReportPredicate::size(&p), Some(123_456_789));
        assert_eq!(ReportPredicate::size(&serde_json::json!({"x": 1})), None);
    }
}
