//! Validation of SBOMs against their format's official schema: CycloneDX 1.2 to 1.7 JSON
//! and SPDX 2.2 and 2.3 JSON against their JSON schemas ([`json`]), CycloneDX 1.0 to 1.7 XML
//! against its XSD ([`xsd`]). The schemas are the published files, kept verbatim under
//! `schemas/` and compiled once per version; nothing is fetched.

mod json;
mod xsd;

use serde::{Deserialize, Serialize};

pub use json::{CYCLONEDX_VERSIONS, SPDX_VERSIONS, validate_json};
pub use xsd::CYCLONEDX_XML_VERSIONS;

/// Errors listed in full at most; `error_count` counts them all (up to [`MAX_COUNTED`]).
const MAX_LISTED: usize = 20;
/// Errors counted at most.
const MAX_COUNTED: usize = 1000;
/// A message longer than this is cut (an enum of 700 license ids, say).
const MAX_MESSAGE: usize = 300;

/// Whether a document follows its format's schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaReport {
    /// The schema applied, e.g. `CycloneDX 1.6`, `CycloneDX 1.6 XML` or `SPDX 2.3`.
    pub schema: String,
    /// No error.
    pub valid: bool,
    /// Errors found (at most 1000 counted).
    pub error_count: u64,
    /// The first 20, in document order.
    pub errors: Vec<SchemaError>,
}

/// One place where the document breaks its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaError {
    /// Where: a JSON pointer to the failing value (`/components/0/hashes/0/content`) in
    /// JSON, empty for the document itself; in XML the failing element's path with
    /// 1-based positions (`/bom/components[1]/component[1]/hashes[1]/hash[3]`), and
    /// `/@name` for one of its attributes.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// Validates a CycloneDX or SPDX document (bytes as attested) against its version's
/// schema: JSON against the JSON schema, CycloneDX XML against the XSD. `None` when the
/// document is neither CycloneDX nor SPDX (SARIF, OpenVEX, SPDX tag-value, ...) or does not
/// parse (the reader reports that); a version without a schema is one error.
pub fn validate(doc: &[u8]) -> Option<SchemaReport> {
    let text = crate::encoding::utf8(doc, "SBOM").ok()?;
    if crate::is_xml(&text) {
        return xsd::validate(doc, &text);
    }
    validate_json(&serde_json::from_slice(&text).ok()?)
}

/// A report of the errors found: [`MAX_COUNTED`] counted at most, the first [`MAX_LISTED`]
/// described by `describe`.
fn report<E>(
    schema: String,
    errors: impl Iterator<Item = E>,
    describe: impl Fn(E) -> SchemaError,
) -> SchemaReport {
    let mut listed = Vec::new();
    let mut count = 0u64;
    for e in errors.take(MAX_COUNTED) {
        count += 1;
        if listed.len() < MAX_LISTED {
            listed.push(describe(e));
        }
    }
    SchemaReport {
        schema,
        valid: count == 0,
        error_count: count,
        errors: listed,
    }
}

/// `m`, cut at a character boundary past [`MAX_MESSAGE`] bytes.
fn cut(mut m: String) -> String {
    if m.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !m.is_char_boundary(end) {
            end -= 1;
        }
        m.truncate(end);
        m.push('…');
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_documents_are_not_validated() {
        assert_eq!(validate(b"not json"), None);
        assert_eq!(validate(br#"{"runs": []}"#), None);
        assert_eq!(validate(b"<testsuites/>"), None);
    }

    #[test]
    fn long_messages_are_cut_on_a_character() {
        let m = cut("é".repeat(400));
        assert!(m.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert!(m.ends_with('…'));
    }
}
