//! Parsers for the reports pipelines attest, into the normalized summaries that policies and
//! reports read.
//!
//! Every document is hostile until proven otherwise: no DTDs (so no entity expansion and no
//! external entities), bounded nesting depth and element counts, and errors that name the
//! line. This crate is pure: bytes in, a summary or an error out. It also reads GitHub and
//! GitLab webhook payloads into source-control facts, and finds ticket ids in them.

pub mod coverage;
mod csaf;
mod cyclonedx_xml;
pub mod dast;
mod encoding;
pub mod github;
pub mod gitlab;
pub mod hardening;
mod jacoco;
pub mod junit;
mod openvex;
pub mod osv;
mod payload;
pub mod provenance;
pub mod review;
pub mod sarif;
pub mod sbom;
pub mod schema;
pub mod secrets;
mod spdx3;
mod spdx_tag_value;
pub mod tickets;
pub mod vulnerabilities;
mod xml;

/// Parses a report of `kind` into its summary as JSON, with `"kind"` set, and for a
/// CycloneDX or SPDX document (`sbom`, `vulnerabilities`) its validation against the
/// format's schema as `"schema"` ([`schema::SchemaReport`]); `None` for a kind this crate
/// does not parse.
pub fn summarize(kind: &str, doc: &[u8]) -> Option<Result<serde_json::Value, ParseError>> {
    summarize_full(kind, doc).map(|r| r.map(|(v, _)| v))
}

/// A report's summary as JSON, and for an SBOM every component it lists.
pub type FullSummary = (serde_json::Value, Option<Vec<sbom::Component>>);

/// [`summarize`], and for an SBOM every component it lists (the summary keeps the first
/// 1000), read in the same pass.
pub fn summarize_full(kind: &str, doc: &[u8]) -> Option<Result<FullSummary, ParseError>> {
    fn json<T: serde::Serialize>(
        r: Result<T, ParseError>,
    ) -> Result<serde_json::Value, ParseError> {
        r.and_then(|s| {
            serde_json::to_value(s).map_err(|e| ParseError::Refused {
                format: "summary",
                message: e.to_string(),
            })
        })
    }
    let mut components = None;
    let mut v = match kind {
        "junit" => json(junit::parse(doc)),
        "coverage" => json(coverage::parse(doc)),
        "sarif" => json(sarif::parse(doc)),
        "sbom" => json(sbom::parse_full(doc).map(|s| {
            components = Some(s.components);
            s.summary
        })),
        "vulnerabilities" => json(vulnerabilities::parse(doc)),
        "hardening" => json(hardening::parse(doc)),
        "secrets" => json(secrets::parse(doc)),
        "dast" => json(dast::parse(doc)),
        _ => return None,
    };
    if let Ok(v) = v.as_mut() {
        v["kind"] = kind.into();
        if matches!(kind, "sbom" | "vulnerabilities")
            && let Some(report) = schema::validate(doc)
        {
            v["schema"] = serde_json::to_value(report).unwrap_or_default();
        }
    }
    Some(v.map(|v| (v, components)))
}

/// Why a report was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// The document is not well-formed, or not the format claimed.
    #[error("{format}{}: {message}", at_line(*line))]
    Malformed {
        /// The format being parsed.
        format: &'static str,
        /// 1-based line of the problem; 0 when the problem is the document's content as a
        /// whole (a field missing), not a place in its text.
        line: u64,
        /// What was wrong.
        message: String,
    },
    /// The document uses a feature refused for safety (DTDs, entities), or exceeds a bound.
    #[error("{format}: refused: {message}")]
    Refused {
        /// The format being parsed.
        format: &'static str,
        /// What was refused.
        message: String,
    },
}

/// Whether a report is XML: its first byte past leading white space is `<`.
pub(crate) fn is_xml(doc: &[u8]) -> bool {
    doc.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// A JSON report, or an error a person can act on: XML where JSON was expected says so and
/// what is read (`accepts`), and a JSON error gives its line (1 at least).
pub(crate) fn json_doc(
    doc: &[u8],
    format: &'static str,
    accepts: &str,
) -> Result<serde_json::Value, ParseError> {
    if is_xml(doc) {
        return Err(ParseError::Malformed {
            format,
            line: 1,
            message: format!("this is XML, not JSON; {format} reads {accepts}"),
        });
    }
    serde_json::from_slice(doc).map_err(|e| ParseError::Malformed {
        format,
        line: (e.line() as u64).max(1),
        message: format!("not valid JSON ({e}); {format} reads {accepts}"),
    })
}

/// ", line N" for a line, nothing for 0 (no place in the text).
fn at_line(line: u64) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(", line {line}")
    }
}

/// The 1-based line of byte `pos` in `doc`.
pub(crate) fn line_of(doc: &[u8], pos: u64) -> u64 {
    let end = (pos as usize).min(doc.len());
    doc[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}
