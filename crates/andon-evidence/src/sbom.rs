//! Software bills of materials: CycloneDX (1.4 to 1.7, JSON and XML), SPDX 2.2/2.3 (JSON and
//! tag-value) and SPDX 3.0 JSON-LD, read leniently into the components, their purls and their
//! licenses. The described component itself (CycloneDX `metadata.component`; SPDX 2
//! `documentDescribes` or a `DESCRIBES` relationship from the document; SPDX 3 the document's
//! root element) is not counted among its components. One document gives one summary
//! whatever its form: CycloneDX XML and SPDX tag-value are read as the JSON their own
//! serializations would be, by the JSON readers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;

/// Components listed in full at most; the counts always cover them all.
const MAX_LISTED: usize = 1000;
/// Components read at most.
pub(crate) const MAX_COMPONENTS: usize = 200_000;
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

/// An SBOM read whole: its summary, and every component in document order (the summary
/// lists only the first 1000).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sbom {
    /// The summary recorded with the evidence.
    pub summary: SbomSummary,
    /// Every component, in the order the document gives them.
    pub components: Vec<Component>,
}

/// The summary of `comps`, counted, with the components kept whole beside it.
pub(crate) fn summary(
    format: &str,
    spec: String,
    subject: Option<String>,
    comps: Vec<Component>,
) -> Sbom {
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
    s.listed = comps.iter().take(MAX_LISTED).cloned().collect();
    Sbom {
        summary: s,
        components: comps,
    }
}

fn malformed(format: &'static str, message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format,
        line: 0,
        message: message.into(),
    }
}

/// What [`parse`] reads, for its error messages.
const ACCEPTS: &str = "CycloneDX JSON or XML, SPDX 2.2/2.3 JSON or tag-value, or SPDX 3.0 JSON-LD";

/// Parses an SBOM: CycloneDX XML (first byte `<`), SPDX tag-value (an `SPDXVersion:` line),
/// otherwise JSON: CycloneDX by its `bomFormat`, SPDX 2 by its `spdxVersion`, SPDX 3 by its
/// `@context`.
pub fn parse(doc: &[u8]) -> Result<SbomSummary, ParseError> {
    parse_full(doc).map(|s| s.summary)
}

/// [`parse`], keeping every component.
pub fn parse_full(doc: &[u8]) -> Result<Sbom, ParseError> {
    let doc = &*crate::encoding::utf8(doc, "SBOM")?;
    if crate::is_xml(doc) {
        return cyclonedx_json(&crate::cyclonedx_xml::to_json(doc, "CycloneDX XML")?);
    }
    if crate::spdx_tag_value::looks_like(doc) {
        return spdx_json(&crate::spdx_tag_value::to_json(doc, MAX_COMPONENTS)?);
    }
    let v = crate::json_doc(doc, "SBOM", ACCEPTS)?;
    if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        cyclonedx_json(&v)
    } else if v.get("spdxVersion").is_some() {
        spdx_json(&v)
    } else if crate::spdx3::is_spdx3(&v) {
        crate::spdx3::parse(&v)
    } else {
        Err(malformed(
            "SBOM",
            format!(
                "neither CycloneDX (bomFormat), SPDX 2 (spdxVersion) nor SPDX 3 (an @context of \
                 https://spdx.org/rdf/3.0.x/spdx-context.jsonld); the SBOM reader reads {ACCEPTS}"
            ),
        ))
    }
}

/// SPDX 2.x tag-value: read as the SPDX JSON it stands for, so both forms of one document
/// give one summary.
pub fn parse_spdx_tag_value(doc: &[u8]) -> Result<SbomSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, "SPDX tag-value")?;
    parse_spdx_json(&crate::spdx_tag_value::to_json(doc, MAX_COMPONENTS)?)
}

/// SPDX 3.0 JSON-LD (`@graph` of elements): packages, their purls and licenses, and the
/// document's root element as the subject.
pub fn parse_spdx3_json(v: &Value) -> Result<SbomSummary, ParseError> {
    crate::spdx3::parse(v).map(|s| s.summary)
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
    cyclonedx_json(v).map(|s| s.summary)
}

/// CycloneDX JSON, every component kept.
pub fn cyclonedx_json(v: &Value) -> Result<Sbom, ParseError> {
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
    spdx_json(v).map(|s| s.summary)
}

/// SPDX 2.x JSON, every component kept.
pub fn spdx_json(v: &Value) -> Result<Sbom, ParseError> {
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

/// CycloneDX XML: read as the JSON its own serialization would be, by the one CycloneDX
/// reader, so the two forms of one BOM give one summary.
pub fn parse_cyclonedx_xml(doc: &[u8]) -> Result<SbomSummary, ParseError> {
    parse_cyclonedx_json(&crate::cyclonedx_xml::to_json(doc, "CycloneDX XML")?)
}
