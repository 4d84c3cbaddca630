//! CycloneDX 1.2 to 1.7 and SPDX 2.2 and 2.3 JSON, against their published JSON schemas
//! (with the SPDX license list, JSF and cryptography definitions CycloneDX's reference),
//! compiled once per version.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use jsonschema::{Resource, Validator};
use serde_json::Value;

use super::{SchemaError, SchemaReport, cut, report};

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
    Some(report(schema, validator.iter_errors(doc), |e| {
        SchemaError {
            path: e.instance_path().to_string(),
            message: cut(e.to_string()),
        }
    }))
}

/// The schema files, by the name other schemas reference them with.
fn schema_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "bom-1.2.schema.json" => include_str!("../../schemas/bom-1.2.schema.json"),
        "bom-1.3.schema.json" => include_str!("../../schemas/bom-1.3.schema.json"),
        "bom-1.4.schema.json" => include_str!("../../schemas/bom-1.4.schema.json"),
        "bom-1.5.schema.json" => include_str!("../../schemas/bom-1.5.schema.json"),
        "bom-1.6.schema.json" => include_str!("../../schemas/bom-1.6.schema.json"),
        "bom-1.7.schema.json" => include_str!("../../schemas/bom-1.7.schema.json"),
        "spdx.schema.json" => include_str!("../../schemas/spdx.schema.json"),
        "jsf-0.82.schema.json" => include_str!("../../schemas/jsf-0.82.schema.json"),
        "cryptography-defs.schema.json" => {
            include_str!("../../schemas/cryptography-defs.schema.json")
        }
        "spdx-2.2.schema.json" => include_str!("../../schemas/spdx-2.2.schema.json"),
        "spdx-2.3.schema.json" => include_str!("../../schemas/spdx-2.3.schema.json"),
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
    }
}
