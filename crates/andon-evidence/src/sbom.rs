//! Software bills of materials: CycloneDX (1.4 to 1.6, JSON and XML) and SPDX 2.3 JSON,
//! read leniently into the components, their purls and their licenses. The described
//! component itself (CycloneDX `metadata.component`; SPDX `documentDescribes` or a
//! `DESCRIBES` relationship from the document) is not counted among its components.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;
use crate::xml::{Xml, attr};

/// Components listed in full at most; the counts always cover them all.
const MAX_LISTED: usize = 1000;
/// Components read at most.
const MAX_COMPONENTS: usize = 200_000;
/// Nesting bound of JSON components.
const MAX_DEPTH: usize = 64;

/// What an SBOM says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SbomSummary {
    /// `cyclonedx` or `spdx`.
    pub format: String,
    /// `1.6`, `SPDX-2.3`, ...
    pub spec_version: String,
    /// The component the SBOM describes, when it names one.
    pub subject: Option<String>,
    /// Components (dependencies), all of them.
    pub components: u64,
    /// Components with a package URL.
    pub with_purl: u64,
    /// Components with no license information.
    pub without_license: u64,
    /// License ids or expressions, with how many components carry each.
    pub licenses: BTreeMap<String, u64>,
    /// The components (at most 1000; `components` counts all).
    pub listed: Vec<Component>,
}

/// One component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// License ids, names or expressions.
    pub licenses: Vec<String>,
}

fn summary(
    format: &str,
    spec: String,
    subject: Option<String>,
    comps: Vec<Component>,
) -> SbomSummary {
    let mut s = SbomSummary {
        format: format.into(),
        spec_version: spec,
        subject,
        components: comps.len() as u64,
        ..Default::default()
    };
    for c in &comps {
        s.with_purl += u64::from(c.purl.is_some());
        if c.licenses.is_empty() {
            s.without_license += 1;
        }
        for l in &c.licenses {
            *s.licenses.entry(l.clone()).or_default() += 1;
        }
    }
    s.listed = comps.into_iter().take(MAX_LISTED).collect();
    s
}

fn malformed(format: &'static str, message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format,
        line: 0,
        message: message.into(),
    }
}

/// Parses an SBOM: CycloneDX XML (first byte `<`), otherwise JSON, CycloneDX or SPDX by its
/// `bomFormat` / `spdxVersion`.
pub fn parse(doc: &[u8]) -> Result<SbomSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, "SBOM")?;
    if doc.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return parse_cyclonedx_xml(doc);
    }
    let v = crate::json_doc(doc, "SBOM", "CycloneDX JSON or XML, or SPDX 2.2/2.3 JSON")?;
    if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        parse_cyclonedx_json(&v)
    } else if v.get("spdxVersion").is_some() {
        parse_spdx_json(&v)
    } else {
        Err(malformed(
            "SBOM",
            "neither CycloneDX (bomFormat) nor SPDX (spdxVersion)",
        ))
    }
}

fn cdx_licenses(c: &Value) -> Vec<String> {
    c.get("licenses")
        .and_then(Value::as_array)
        .map(|ls| {
            ls.iter()
                .filter_map(|l| {
                    l.get("expression")
                        .and_then(Value::as_str)
                        .or_else(|| l.pointer("/license/id").and_then(Value::as_str))
                        .or_else(|| l.pointer("/license/name").and_then(Value::as_str))
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn cdx_walk(list: &[Value], out: &mut Vec<Component>, depth: usize) -> Result<(), ParseError> {
    const F: &str = "CycloneDX";
    if depth > MAX_DEPTH {
        return Err(ParseError::Refused {
            format: F,
            message: "components nested too deeply".into(),
        });
    }
    for c in list {
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(F, "a component without a name"))?;
        out.push(Component {
            name: name.to_owned(),
            version: c.get("version").and_then(Value::as_str).map(str::to_owned),
            purl: c.get("purl").and_then(Value::as_str).map(str::to_owned),
            licenses: cdx_licenses(c),
        });
        if out.len() > MAX_COMPONENTS {
            return Err(ParseError::Refused {
                format: F,
                message: format!("more than {MAX_COMPONENTS} components"),
            });
        }
        if let Some(nested) = c.get("components").and_then(Value::as_array) {
            cdx_walk(nested, out, depth + 1)?;
        }
    }
    Ok(())
}

/// CycloneDX JSON.
pub fn parse_cyclonedx_json(v: &Value) -> Result<SbomSummary, ParseError> {
    const F: &str = "CycloneDX";
    let spec = v
        .get("specVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(F, "no specVersion"))?;
    let mut comps = Vec::new();
    if let Some(list) = v.get("components").and_then(Value::as_array) {
        cdx_walk(list, &mut comps, 0)?;
    }
    let subject = v
        .pointer("/metadata/component/name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(summary("cyclonedx", spec.to_owned(), subject, comps))
}

/// SPDX 2.x JSON.
pub fn parse_spdx_json(v: &Value) -> Result<SbomSummary, ParseError> {
    const F: &str = "SPDX";
    let spec = v
        .get("spdxVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed(F, "no spdxVersion"))?;
    if !spec.starts_with("SPDX-2.") {
        return Err(malformed(F, format!("{spec} is not SPDX 2.x")));
    }
    let described = spdx_described(v);
    let packages = v
        .get("packages")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if packages.len() > MAX_COMPONENTS {
        return Err(ParseError::Refused {
            format: F,
            message: format!("more than {MAX_COMPONENTS} packages"),
        });
    }
    let mut subject = None;
    let mut comps = Vec::new();
    for p in packages {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(F, "a package without a name"))?;
        let id = p.get("SPDXID").and_then(Value::as_str).unwrap_or_default();
        if described.contains(&id) {
            subject.get_or_insert_with(|| name.to_owned());
            continue;
        }
        let purl = p
            .get("externalRefs")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
            })
            .and_then(|r| r.get("referenceLocator").and_then(Value::as_str))
            .map(str::to_owned);
        let licenses = ["licenseConcluded", "licenseDeclared"]
            .iter()
            .filter_map(|k| p.get(*k).and_then(Value::as_str))
            .find(|l| !matches!(*l, "NOASSERTION" | "NONE" | ""))
            .map(|l| vec![l.to_owned()])
            .unwrap_or_default();
        comps.push(Component {
            name: name.to_owned(),
            version: p
                .get("versionInfo")
                .and_then(Value::as_str)
                .map(str::to_owned),
            purl,
            licenses,
        });
    }
    Ok(summary("spdx", spec.to_owned(), subject, comps))
}

/// What an SPDX 2 document describes: `documentDescribes` (deprecated in 2.3), and the
/// relationships `SPDXRef-DOCUMENT DESCRIBES x` and `x DESCRIBED_BY SPDXRef-DOCUMENT`, which
/// most tools write instead.
fn spdx_described(v: &Value) -> Vec<&str> {
    let document = v
        .get("SPDXID")
        .and_then(Value::as_str)
        .unwrap_or("SPDXRef-DOCUMENT");
    let mut described: Vec<&str> = v
        .get("documentDescribes")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let relationships = v
        .get("relationships")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for r in relationships {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default();
        let (from, to) = (field("spdxElementId"), field("relatedSpdxElement"));
        match field("relationshipType") {
            "DESCRIBES" if from == document => described.push(to),
            "DESCRIBED_BY" if to == document => described.push(from),
            _ => {}
        }
    }
    described
}

/// Where a `<component>` element sits, which says what it is.
enum Frame {
    /// One of the BOM's components: `bom/components/component`, or nested in one through
    /// its own `components` (index into the list).
    Counted(usize),
    /// The described component, `bom/metadata/component`.
    Described,
    /// Any other: a tool, a pedigree's ancestor, descendant or variant, the described
    /// component's children, an annotator, formulation. Not the BOM's components, as the
    /// JSON reader does not count them either.
    Other,
}

/// Whether a `<component>` opened under `path` is one of the BOM's own components.
fn bom_component(path: &[String]) -> bool {
    path.len() >= 2
        && path[0] == "bom"
        && path[1] == "components"
        && path[2..]
            .chunks(2)
            .all(|p| p.len() == 2 && p[0] == "component" && p[1] == "components")
}

/// The version in a CycloneDX namespace (`http://cyclonedx.org/schema/bom/1.6`).
fn cyclonedx_version(ns: &str) -> Option<String> {
    let v = ns.strip_prefix("http://cyclonedx.org/schema/bom/")?;
    let (major, minor) = v.split_once('.')?;
    (major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.to_owned())
}

/// CycloneDX XML.
pub fn parse_cyclonedx_xml(doc: &[u8]) -> Result<SbomSummary, ParseError> {
    const F: &str = "CycloneDX XML";
    let mut xml = Xml::new(doc, F)?;
    let mut path: Vec<String> = Vec::new();
    let mut spec = String::new();
    let mut subject = None;
    let mut comps: Vec<Component> = Vec::new();
    // The `<component>` elements being read, innermost last.
    let mut frames: Vec<Frame> = Vec::new();
    let mut described: Option<Component> = None;
    loop {
        match xml.next()? {
            Event::Start(ref e) => {
                let name = e.local_name().as_ref().to_owned();
                if path.is_empty() {
                    if name == "RDF" {
                        return Err(xml.malformed(
                            "this is SPDX RDF/XML, which is not read: send SPDX JSON, or CycloneDX JSON or XML",
                        ));
                    }
                    if name != "bom" {
                        return Err(xml.malformed(format!(
                            "the root element is <{name}>, not CycloneDX's <bom>"
                        )));
                    }
                    let ns = attr(e, "xmlns").unwrap_or_default();
                    spec = cyclonedx_version(&ns).ok_or_else(|| {
                        xml.malformed(format!(
                            "<bom> is not in a CycloneDX namespace (http://cyclonedx.org/schema/bom/1.x): {ns:?}"
                        ))
                    })?;
                }
                if name == "component" {
                    let frame = if bom_component(&path) {
                        comps.push(Component::default());
                        if comps.len() > MAX_COMPONENTS {
                            return Err(
                                xml.refused(format!("more than {MAX_COMPONENTS} components"))
                            );
                        }
                        Frame::Counted(comps.len() - 1)
                    } else if path.len() == 2 && path[0] == "bom" && path[1] == "metadata" {
                        described = Some(Component::default());
                        Frame::Described
                    } else {
                        Frame::Other
                    };
                    frames.push(frame);
                }
                path.push(name);
            }
            Event::Text(t) => {
                let value = t.xml10_content().trim().to_owned();
                let n = path.len();
                if value.is_empty() || n < 2 {
                    continue;
                }
                let target = match frames.last() {
                    Some(Frame::Counted(i)) => Some(&mut comps[*i]),
                    Some(Frame::Described) => described.as_mut(),
                    _ => None,
                };
                let Some(c) = target else { continue };
                // Only the innermost component's own fields: its name, version and purl,
                // and its licenses (not those found as evidence, not a pedigree's).
                let at = |i: usize| path.get(n.wrapping_sub(i)).map(String::as_str);
                match (at(3), at(2), at(1)) {
                    (_, Some("component"), Some("name")) => c.name = value,
                    (_, Some("component"), Some("version")) => c.version = Some(value),
                    (_, Some("component"), Some("purl")) => c.purl = Some(value),
                    (Some("component"), Some("licenses"), Some("expression")) => {
                        c.licenses.push(value)
                    }
                    (Some("licenses"), Some("license"), Some("id" | "name"))
                        if at(4) == Some("component") =>
                    {
                        c.licenses.push(value)
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
                if e.local_name().as_ref() == "component"
                    && let Some(Frame::Described) = frames.pop()
                {
                    subject = described.take().map(|m| m.name);
                }
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if spec.is_empty() {
        return Err(malformed(F, "no <bom> element with a CycloneDX namespace"));
    }
    if let Some(unnamed) = comps.iter().position(|c| c.name.is_empty()) {
        return Err(malformed(F, format!("component {unnamed} has no name")));
    }
    Ok(summary("cyclonedx", spec, subject, comps))
}
