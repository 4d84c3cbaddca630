//! Software bills of materials: CycloneDX (1.4 to 1.6, JSON and XML) and SPDX 2.3 JSON,
//! read leniently into the components, their purls and their licenses. The described
//! component itself (CycloneDX `metadata.component`, SPDX `documentDescribes`) is not
//! counted among its components.

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
    if doc.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return parse_cyclonedx_xml(doc);
    }
    let v: Value = serde_json::from_slice(doc).map_err(|e| ParseError::Malformed {
        format: "SBOM",
        line: e.line() as u64,
        message: e.to_string(),
    })?;
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
    let described: Vec<&str> = v
        .get("documentDescribes")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
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

/// CycloneDX XML.
pub fn parse_cyclonedx_xml(doc: &[u8]) -> Result<SbomSummary, ParseError> {
    const F: &str = "CycloneDX XML";
    let mut xml = Xml::new(doc, F)?;
    let mut path: Vec<String> = Vec::new();
    let mut spec = String::new();
    let mut subject = None;
    let mut comps: Vec<Component> = Vec::new();
    // Indexes into `comps` of the components being read, innermost last; the metadata
    // component is read into `meta`.
    let mut open: Vec<usize> = Vec::new();
    let mut meta: Option<Component> = None;
    loop {
        match xml.next()? {
            Event::Start(ref e) => {
                let name = e.local_name().as_ref().to_owned();
                if path.is_empty() {
                    if name != "bom" {
                        return Err(
                            xml.malformed(format!("the root element is <{name}>, not <bom>"))
                        );
                    }
                    let ns = attr(e, "xmlns").unwrap_or_default();
                    spec = ns.rsplit('/').next().unwrap_or_default().to_owned();
                }
                if name == "component" {
                    if path.last().map(String::as_str) == Some("metadata") {
                        meta = Some(Component::default());
                    } else {
                        comps.push(Component::default());
                        open.push(comps.len() - 1);
                        if comps.len() > MAX_COMPONENTS {
                            return Err(
                                xml.refused(format!("more than {MAX_COMPONENTS} components"))
                            );
                        }
                    }
                }
                path.push(name);
            }
            Event::Text(t) => {
                let value = t.xml10_content().trim().to_owned();
                let n = path.len();
                if value.is_empty() || n < 2 {
                    continue;
                }
                let (parent, leaf) = (path[n - 2].as_str(), path[n - 1].as_str());
                let in_metadata = n >= 3 && parent == "component" && path[n - 3] == "metadata";
                let target = if in_metadata {
                    meta.as_mut()
                } else {
                    open.last().map(|&i| &mut comps[i])
                };
                let Some(c) = target else { continue };
                match (parent, leaf) {
                    ("component", "name") => c.name = value,
                    ("component", "version") => c.version = Some(value),
                    ("component", "purl") => c.purl = Some(value),
                    ("license", "id") | ("license", "name") | ("licenses", "expression") => {
                        c.licenses.push(value)
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
                if e.local_name().as_ref() == "component" {
                    if path.len() >= 2 && path[path.len() - 2] == "metadata" {
                        subject = meta.take().map(|m| m.name);
                    } else {
                        open.pop();
                    }
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
