//! Reports carried inside attestations.
//!
//! Pipelines attest the raw report a tool wrote, not a summary of it: the report travels
//! base64-encoded inside the predicate, the whole statement is signed, and Andon derives the
//! summary itself, so a summary can never be forged apart from its report.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::DomainError;

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

/// A report file embedded in a predicate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EmbeddedReport {
    /// Its media type, e.g. `application/xml`.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Where the pipeline found it (informational).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The file's bytes, standard base64.
    pub content: String,
}

impl ReportPredicate {
    /// Wraps a report file.
    pub fn new(media_type: &str, path: Option<String>, bytes: &[u8]) -> Self {
        Self {
            report: EmbeddedReport {
                media_type: media_type.to_owned(),
                path,
                content: STANDARD.encode(bytes),
            },
        }
    }

    /// Reads the predicate of a statement and decodes the report's bytes.
    pub fn decode(predicate: &serde_json::Value) -> Result<Vec<u8>, DomainError> {
        let p: ReportPredicate = serde_json::from_value(predicate.clone()).map_err(|e| {
            DomainError::MalformedStatement(format!(
                "the predicate is not {{\"report\": {{\"mediaType\", \"content\"}}}}: {e}"
            ))
        })?;
        STANDARD.decode(p.report.content.as_bytes()).map_err(|e| {
            DomainError::MalformedStatement(format!("report.content is not base64: {e}"))
        })
    }
}
