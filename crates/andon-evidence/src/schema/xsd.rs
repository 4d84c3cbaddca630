//! CycloneDX XML, 1.0 to 1.7, against its official XSD, with libxml2: the validator
//! cyclonedx-python-lib uses (through lxml), and one that reads CycloneDX's schemas whole
//! (recursive components, the imported SPDX license list, identity constraints).
//!
//! libxml2 only ever sees a document this crate's own XML reader has read to its end (no
//! internal DTD subset, so no entity declarations; nesting bounded), and parses it with
//! network access off, no DTD loaded and no recovery. A compiled schema cannot cross
//! threads, so each thread compiles a version's schema on first use and keeps it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use libxml::error::{StructuredError, XmlErrorLevel};
use libxml::parser::{Parser, ParserOptions};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use quick_xml::events::{BytesStart, Event};
use regex::Regex;

use super::{SchemaError, SchemaReport, cut, report};
use crate::xml::Xml;

/// The CycloneDX versions whose XML is validated against their XSD, oldest first.
pub const CYCLONEDX_XML_VERSIONS: [&str; 8] =
    ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// CycloneDX's namespace, less its version.
const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/";

/// How every CycloneDX XSD imports the SPDX license list; the one place the text is changed
/// (to a local copy), as CycloneDX's own `xmlcatalog.xml` maps it.
const SPDX_IMPORT: &str = r#"schemaLocation="http://cyclonedx.org/schema/spdx""#;

const SPDX_XSD: &str = include_str!("../../schemas/spdx.xsd");

fn xsd(version: &str) -> Option<&'static str> {
    Some(match version {
        "1.0" => include_str!("../../schemas/bom-1.0.xsd"),
        "1.1" => include_str!("../../schemas/bom-1.1.xsd"),
        "1.2" => include_str!("../../schemas/bom-1.2.xsd"),
        "1.3" => include_str!("../../schemas/bom-1.3.xsd"),
        "1.4" => include_str!("../../schemas/bom-1.4.xsd"),
        "1.5" => include_str!("../../schemas/bom-1.5.xsd"),
        "1.6" => include_str!("../../schemas/bom-1.6.xsd"),
        "1.7" => include_str!("../../schemas/bom-1.7.xsd"),
        _ => return None,
    })
}

/// Validates a CycloneDX XML document: `original` as attested (libxml2 reads its encoding
/// itself), `text` the same as UTF-8. `None` when the root is not CycloneDX's `<bom>` or the
/// document does not read to its end.
pub(super) fn validate(original: &[u8], text: &[u8]) -> Option<SchemaReport> {
    let namespace = root_namespace(text)?;
    let version = namespace.strip_prefix(NAMESPACE)?;
    let Some(found) = CYCLONEDX_XML_VERSIONS.iter().find(|v| **v == version) else {
        return Some(report(
            format!("CycloneDX {version} XML"),
            std::iter::once(()),
            |()| SchemaError {
                path: "/bom/@xmlns".into(),
                message: format!(
                    "no CycloneDX XML schema for version {version:?}; schemas are known for {}",
                    CYCLONEDX_XML_VERSIONS.join(", ")
                ),
            },
        ));
    };
    let schema = format!("CycloneDX {found} XML");
    let errors = match check(found, original) {
        Ok(errors) => errors,
        Err(message) => vec![Failure {
            line: 0,
            element: None,
            attribute: None,
            message,
        }],
    };
    Some(report(schema, errors.into_iter(), |f| SchemaError {
        path: f
            .element
            .as_deref()
            .and_then(|e| locate(text, f.line, e, f.attribute.as_deref()))
            .unwrap_or_default(),
        message: if f.line > 0 {
            format!("{} (line {})", cut(f.message), f.line)
        } else {
            cut(f.message)
        },
    }))
}

/// One error libxml2 reported, its namespaces dropped.
struct Failure {
    line: u64,
    element: Option<String>,
    attribute: Option<String>,
    message: String,
}

impl Failure {
    fn of(e: StructuredError) -> Self {
        static NAMED: OnceLock<Option<Regex>> = OnceLock::new();
        static QUALIFIER: OnceLock<Option<Regex>> = OnceLock::new();
        let raw = e.message.unwrap_or_default();
        let message = match QUALIFIER.get_or_init(|| Regex::new(r"\{[a-z]+:[^\s}']*\}").ok()) {
            Some(q) => q.replace_all(raw.trim(), "").into_owned(),
            None => raw.trim().to_owned(),
        };
        let named = NAMED
            .get_or_init(|| Regex::new(r"^Element '([^']+)'(?:, attribute '([^']+)')?").ok())
            .as_ref()
            .and_then(|r| r.captures(&message));
        let element = named
            .as_ref()
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned());
        let attribute = named
            .as_ref()
            .and_then(|c| c.get(2))
            .map(|m| m.as_str().to_owned());
        Self {
            line: e.line.map_or(0, |l| u64::try_from(l).unwrap_or(0)),
            element,
            attribute,
            message,
        }
    }
}

/// libxml2's errors for `doc` against CycloneDX `version`'s schema (none when valid), or why
/// it could not run.
fn check(version: &'static str, doc: &[u8]) -> Result<Vec<Failure>, String> {
    thread_local! {
        static COMPILED: RefCell<HashMap<&'static str, SchemaValidationContext>> =
            RefCell::new(HashMap::new());
    }
    let options = ParserOptions {
        recover: false,
        no_net: true,
        no_error: true,
        no_warning: true,
        ..ParserOptions::default()
    };
    let parsed = Parser::default()
        .parse_string_with_options(doc, options)
        .map_err(|_| "libxml2 could not read the document as XML".to_owned())?;
    COMPILED.with(|compiled| {
        let mut compiled = compiled.borrow_mut();
        if !compiled.contains_key(version) {
            compiled.insert(version, compile(version)?);
        }
        let context = compiled
            .get_mut(version)
            .ok_or_else(|| format!("the CycloneDX {version} schema did not compile"))?;
        Ok(match context.validate_document(&parsed) {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .into_iter()
                .filter(|e| !matches!(e.level, XmlErrorLevel::Warning | XmlErrorLevel::None))
                .map(Failure::of)
                .collect(),
        })
    })
}

/// CycloneDX `version`'s schema, its import of the license list pointed at a copy written
/// to a private temporary directory, removed once compiled.
fn compile(version: &str) -> Result<SchemaValidationContext, String> {
    let failed = |why: String| format!("the CycloneDX {version} schema did not compile: {why}");
    let text = xsd(version).ok_or_else(|| failed("no such version".into()))?;
    let dir = tempfile::tempdir().map_err(|e| failed(e.to_string()))?;
    let spdx = dir.path().join("spdx.xsd");
    std::fs::write(&spdx, SPDX_XSD).map_err(|e| failed(e.to_string()))?;
    let location = spdx
        .to_str()
        .filter(|p| !p.contains('"') && !p.contains('&') && !p.contains('<'))
        .ok_or_else(|| failed("the temporary directory's path cannot be written in XML".into()))?;
    // Exactly one import, or libxml2 would fetch the license list from the network.
    if text.matches(SPDX_IMPORT).count() != 1 {
        return Err(failed(
            "its import of the SPDX license list is not the one expected".into(),
        ));
    }
    let text = text.replace(SPDX_IMPORT, &format!(r#"schemaLocation="{location}""#));
    let mut parser = SchemaParserContext::from_buffer(text.as_bytes());
    SchemaValidationContext::from_parser(&mut parser).map_err(|errors| {
        failed(
            errors
                .into_iter()
                .filter_map(|e| e.message)
                .next()
                .unwrap_or_default(),
        )
    })
}

/// The root element's namespace, when the document reads to its end with this crate's
/// reader and its root is `<bom>`.
fn root_namespace(text: &[u8]) -> Option<String> {
    let mut xml = Xml::new(text, "CycloneDX XML").ok()?;
    let mut namespace = None;
    let mut seen_root = false;
    loop {
        match xml.next().ok()? {
            Event::Start(ref e) | Event::Empty(ref e) if !seen_root => {
                seen_root = true;
                if e.local_name().as_ref() == "bom" {
                    namespace = declared_namespace(e);
                }
            }
            Event::Eof => return namespace,
            _ => {}
        }
    }
}

/// The namespace an element's own declarations give its name.
fn declared_namespace(e: &BytesStart<'_>) -> Option<String> {
    let declaration = match e.name().prefix() {
        Some(p) => format!("xmlns:{}", p.as_ref()),
        None => "xmlns".to_owned(),
    };
    crate::xml::attr(e, &declaration)
}

/// The path (`/bom/components[1]/component[2]`, with `/@attribute`) of the last element named
/// `element` that starts on or before `line`: libxml2 gives an error's line, not its node.
fn locate(text: &[u8], line: u64, element: &str, attribute: Option<&str>) -> Option<String> {
    let mut xml = Xml::new(text, "CycloneDX XML").ok()?;
    // Open elements: (name, position among its like-named siblings), and per level the
    // count of each child name seen.
    let mut open: Vec<(String, u32)> = Vec::new();
    let mut children: Vec<HashMap<String, u32>> = vec![HashMap::new()];
    let mut at_line = 1u64;
    let mut counted_to = 0usize;
    let mut best = None;
    loop {
        let event = xml.next().ok()?;
        let start = xml.position();
        at_line += text[counted_to..start.min(text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        counted_to = start.min(text.len());
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if at_line > line {
                    return best;
                }
                let name = e.local_name().as_ref().to_owned();
                let level = children.last_mut()?;
                let position = level.entry(name.clone()).or_default();
                *position += 1;
                let position = *position;
                if name == element {
                    let mut path = path_of(&open);
                    path.push('/');
                    path.push_str(&name);
                    if !open.is_empty() {
                        path.push_str(&format!("[{position}]"));
                    }
                    if let Some(a) = attribute {
                        path.push_str(&format!("/@{a}"));
                    }
                    best = Some(path);
                }
                if matches!(event, Event::Start(_)) {
                    open.push((name, position));
                    children.push(HashMap::new());
                }
            }
            Event::End(_) => {
                open.pop();
                children.pop();
            }
            Event::Eof => return best,
            _ => {}
        }
    }
}

fn path_of(open: &[(String, u32)]) -> String {
    let mut path = String::new();
    for (depth, (name, position)) in open.iter().enumerate() {
        path.push('/');
        path.push_str(name);
        if depth > 0 {
            path.push_str(&format!("[{position}]"));
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_compiles_without_the_network() {
        for v in CYCLONEDX_XML_VERSIONS {
            assert!(compile(v).is_ok(), "CycloneDX {v} XML");
        }
    }

    #[test]
    fn an_unknown_namespace_version_is_one_error_naming_the_known_ones() {
        let doc = br#"<bom xmlns="http://cyclonedx.org/schema/bom/12"/>"#;
        let r = super::super::validate(doc).expect("CycloneDX");
        assert!(!r.valid);
        assert_eq!(r.schema, "CycloneDX 12 XML");
        assert_eq!(r.errors[0].path, "/bom/@xmlns");
        assert!(r.errors[0].message.contains("1.0, 1.1"), "{:?}", r.errors);
    }

    #[test]
    fn other_xml_is_not_validated() {
        for doc in [
            &br#"<bom xmlns="urn:other"/>"#[..],
            br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"#,
            br#"<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><unclosed></bom>"#,
        ] {
            assert_eq!(super::super::validate(doc), None);
        }
    }

    #[test]
    fn a_path_counts_like_named_siblings_from_one() {
        let text = b"<bom>\n<components>\n<component/>\n<component>\n<hashes><hash/>\n<hash alg='x'/>\n</hashes></component></components></bom>";
        assert_eq!(
            locate(text, 6, "hash", Some("alg")).as_deref(),
            Some("/bom/components[1]/component[2]/hashes[1]/hash[2]/@alg")
        );
        assert_eq!(locate(text, 1, "bom", None).as_deref(), Some("/bom"));
        assert_eq!(locate(text, 6, "missing", None), None);
    }
}
