//! Validation of SBOMs against their format's official JSON schema: CycloneDX 1.2 to 1.7
//! (with the SPDX license list, JSF and cryptography definitions they reference) and SPDX
//! 2.2 and 2.3. The schemas are the published files, kept verbatim under `schemas/` and
//! compiled once per version; nothing is fetched.
//!
//! CycloneDX XML is not validated yet: its schema is an XSD, and the only pure-Rust XSD
//! validator does not read CycloneDX's (the XML's report says "not validated", which a
//! control that requires valid SBOMs treats as not valid).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use jsonschema::{Resource, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Errors listed in full at most; `error_count` counts them all (up to [`MAX_COUNTED`]).
const MAX_LISTED: usize = 20;
/// Errors counted at most.
const MAX_COUNTED: usize = 1000;
/// A message longer than this is cut (an enum of 700 license ids, say).
const MAX_MESSAGE: usize = 300;

/// Whether a document follows its format's schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaReport {
    /// The schema applied, e.g. `CycloneDX 1.6` or `SPDX 2.3`.
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
    /// JSON pointer to the failing value (`/components/0/hashes/0/content`); empty for the
    /// document itself.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

/// The CycloneDX versions with a JSON schema, oldest first.
pub const CYCLONEDX_VERSIONS: [&str; 6] = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];
/// The SPDX versions with a JSON schema.
pub const SPDX_VERSIONS: [&str; 2] = ["2.2", "2.3"];

/// The schema a document claims, and the document to validate: CycloneDX by `bomFormat`
/// and `specVersion`, SPDX by `spdxVersion`. `None` for anything else (SARIF, OpenVEX, ...).
fn claimed(doc: &Value) -> Option<(&'static str, String)> {
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        let v = doc.get("specVersion").and_then(Value::as_str).unwrap_or("");
        return Some(("CycloneDX", v.to_owned()));
    }
    let v = doc.get("spdxVersion").and_then(Value::as_str)?;
    Some(("SPDX", v.strip_prefix("SPDX-").unwrap_or(v).to_owned()))
}

/// Validates a CycloneDX or SPDX JSON document (bytes as attested) against its version's
/// schema. `None` when the document is neither, is XML, or does not parse (the reader
/// reports that); a version without a schema is one error.
pub fn validate(doc: &[u8]) -> Option<SchemaReport> {
    let doc = crate::encoding::utf8(doc, "SBOM").ok()?;
    if crate::is_xml(&doc) {
        return None;
    }
    validate_json(&serde_json::from_slice(&doc).ok()?)
}

/// Validates a CycloneDX or SPDX document already read as JSON (a cosign-style predicate).
pub fn validate_json(doc: &Value) -> Option<SchemaReport> {
    let (format, version) = claimed(doc)?;
    let schema = format!("{format} {version}");
    let Some(validator) = validator(format, &version) else {
        let known = if format == "CycloneDX" {
            CYCLONEDX_VERSIONS.join(", ")
        } else {
            SPDX_VERSIONS.join(", ")
        };
        return Some(SchemaReport {
            schema,
            valid: false,
            error_count: 1,
            errors: vec![SchemaError {
                path: if format == "CycloneDX" {
                    "/specVersion".into()
                } else {
                    "/spdxVersion".into()
                },
                message: format!(
                    "no {format} schema for version {version:?}; schemas are known for {known}"
                ),
            }],
        });
    };
    let mut errors = Vec::new();
    let mut count = 0u64;
    for e in validator.iter_errors(doc).take(MAX_COUNTED) {
        count += 1;
        if errors.len() < MAX_LISTED {
            errors.push(SchemaError {
                path: e.instance_path().to_string(),
                message: cut(e.to_string()),
            });
        }
    }
    Some(SchemaReport {
        schema,
        valid: count == 0,
        error_count: count,
        errors,
    })
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

/// The schema files, by the name other schemas reference them with.
fn schema_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "bom-1.2.schema.json" => include_str!("../schemas/bom-1.2.schema.json"),
        "bom-1.3.schema.json" => include_str!("../schemas/bom-1.3.schema.json"),
        "bom-1.4.schema.json" => include_str!("../schemas/bom-1.4.schema.json"),
        "bom-1.5.schema.json" => include_str!("../schemas/bom-1.5.schema.json"),
        "bom-1.6.schema.json" => include_str!("../schemas/bom-1.6.schema.json"),
        "bom-1.7.schema.json" => include_str!("../schemas/bom-1.7.schema.json"),
        "spdx.schema.json" => include_str!("../schemas/spdx.schema.json"),
        "jsf-0.82.schema.json" => include_str!("../schemas/jsf-0.82.schema.json"),
        "cryptography-defs.schema.json" => {
            include_str!("../schemas/cryptography-defs.schema.json")
        }
        "spdx-2.2.schema.json" => include_str!("../schemas/spdx-2.2.schema.json"),
        "spdx-2.3.schema.json" => include_str!("../schemas/spdx-2.3.schema.json"),
        _ => return None,
    })
}

/// The files a CycloneDX schema references, served at the address its relative `$ref`s
/// resolve to.
const CYCLONEDX_REFERENCED: [&str; 3] = [
    "spdx.schema.json",
    "jsf-0.82.schema.json",
    "cryptography-defs.schema.json",
];

fn parse_schema(name: &str) -> Option<Value> {
    serde_json::from_str(schema_text(name)?).ok()
}

/// The compiled validator of a format's version, built on first use and kept.
fn validator(format: &str, version: &str) -> Option<&'static Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static Validator>>> = OnceLock::new();
    let file = match format {
        "CycloneDX" if CYCLONEDX_VERSIONS.contains(&version) => {
            format!("bom-{version}.schema.json")
        }
        "SPDX" if SPDX_VERSIONS.contains(&version) => format!("spdx-{version}.schema.json"),
        _ => return None,
    };
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(v) = cache.get(&file) {
        return Some(v);
    }
    let compiled = compile(format, &file)?;
    // Each of the eight schemas is compiled at most once for the life of the process.
    let leaked: &'static Validator = Box::leak(Box::new(compiled));
    cache.insert(file, leaked);
    Some(leaked)
}

fn compile(format: &str, file: &str) -> Option<Validator> {
    let schema = parse_schema(file)?;
    // The draft is each schema's own `$schema`: draft 7 for CycloneDX and SPDX 2.2, 2019-09
    // for SPDX 2.3.
    let mut options = jsonschema::options().should_validate_formats(true);
    if format == "CycloneDX" {
        // Every CycloneDX schema resolves its relative references against this base.
        options = options.with_base_uri(format!("http://cyclonedx.org/schema/{file}"));
        for name in CYCLONEDX_REFERENCED {
            let contents = parse_schema(name)?;
            options = options.with_resource(
                format!("http://cyclonedx.org/schema/{name}"),
                Resource::from_contents(contents),
            );
        }
    }
    options.build(&schema).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles() {
        for v in CYCLONEDX_VERSIONS {
            assert!(validator("CycloneDX", v).is_some(), "CycloneDX {v}");
        }
        for v in SPDX_VERSIONS {
            assert!(validator("SPDX", v).is_some(), "SPDX {v}");
        }
    }

    #[test]
    fn an_unknown_version_is_one_error_naming_the_known_ones() {
        let r = validate_json(&serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "12"}))
            .expect("CycloneDX");
        assert!(!r.valid);
        assert_eq!(r.errors[0].path, "/specVersion");
        assert!(r.errors[0].message.contains("1.2, 1.3"), "{:?}", r.errors);
    }

    #[test]
    fn other_documents_are_not_validated() {
        assert_eq!(validate_json(&serde_json::json!({"runs": []})), None);
        assert_eq!(validate(b"not json"), None);
    }

    #[test]
    fn long_messages_are_cut_on_a_character() {
        let m = cut("é".repeat(400));
        assert!(m.len() <= MAX_MESSAGE + '…'.len_utf8());
        assert!(m.ends_with('…'));
    }
}
