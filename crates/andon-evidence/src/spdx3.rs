//! SPDX 3.0 JSON-LD (`@context` `https://spdx.org/rdf/3.0.x/spdx-context.jsonld`, elements in
//! `@graph`), read into the SBOM summary the SPDX 2 reader gives:
//!
//! - the components are the packages (`software_Package`, and its kinds `ai_AIPackage` and
//!   `dataset_DatasetPackage`), with `name`, `software_packageVersion` and the purl from
//!   `software_packageUrl` or an `externalIdentifier` of type `packageUrl`;
//! - a package's license is its concluded one (a `hasConcludedLicense` relationship), else
//!   its declared one (`hasDeclaredLicense`), as in SPDX 2: NOASSERTION and NONE are no
//!   license. The license is a `simplelicensing_LicenseExpression`'s expression, a listed
//!   license's id, a custom license's `LicenseRef-`, or an expanded license set written back
//!   as an expression;
//! - the subject is the package the document is about: the `rootElement` of the
//!   `SpdxDocument`, followed through an SBOM or bundle to its own `rootElement`, and any
//!   element the document or the SBOM `describes`. It is not counted among the components.
//!
//! Elements are read in the compact form the SPDX 3 serialization specifies; `spdxId`/`@id`
//! and `type`/`@type` are both accepted, and so are full type IRIs.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ParseError;
use crate::sbom::{Component, MAX_COMPONENTS, Sbom, summary};

const F: &str = "SPDX 3";
/// Elements read at most.
const MAX_ELEMENTS: usize = 2_000_000;
/// Nesting bound of license sets and of collections within collections.
const MAX_DEPTH: usize = 16;
/// License elements visited at most to write one package's license.
const MAX_LICENSE_PARTS: usize = 256;

/// Whether `v` is SPDX 3 JSON-LD: its `@context` (a string or a list) names an SPDX 3
/// context.
pub(crate) fn is_spdx3(v: &Value) -> bool {
    context_version(v).is_some()
}

/// The version in the document's SPDX context URL (`https://spdx.org/rdf/3.0.1/...`).
fn context_version(v: &Value) -> Option<String> {
    let urls: Vec<&str> = match v.get("@context")? {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    urls.iter().find_map(|u| {
        let rest = u
            .strip_prefix("https://spdx.org/rdf/")
            .or_else(|| u.strip_prefix("http://spdx.org/rdf/"))?;
        let version = rest.split('/').next()?;
        version.starts_with("3.").then(|| version.to_owned())
    })
}

/// An element's type, compacted: `software_Package` for itself or for
/// `https://spdx.org/rdf/3.0.1/terms/Software/Package`, `Relationship` for `.../Core/Relationship`.
fn kind(e: &Value) -> String {
    let t = e
        .get("type")
        .or_else(|| e.get("@type"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    compact(t)
}

fn compact(iri: &str) -> String {
    match iri
        .split_once("/terms/")
        .and_then(|(_, r)| r.split_once('/'))
    {
        Some(("Core", name)) => name.to_owned(),
        Some((ns, name)) => format!("{}_{name}", ns.to_ascii_lowercase()),
        None => iri.to_owned(),
    }
}

/// An element's id.
fn id(e: &Value) -> Option<&str> {
    e.get("spdxId")
        .or_else(|| e.get("@id"))
        .and_then(Value::as_str)
}

/// The ids a property refers to: a string, an inline object's id, or a list of them.
fn refs<'a>(e: &'a Value, key: &str) -> Vec<&'a str> {
    let one = |v: &'a Value| v.as_str().or_else(|| id(v));
    match e.get(key) {
        Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

fn str_of<'a>(e: &'a Value, key: &str) -> Option<&'a str> {
    e.get(key).and_then(Value::as_str)
}

fn malformed(message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: F,
        line: 0,
        message: message.into(),
    }
}

/// The graph indexed by id; inline elements (an object where a reference is expected) are
/// indexed too, one level down.
struct Graph<'a> {
    elements: &'a [Value],
    by_id: HashMap<&'a str, &'a Value>,
}

impl<'a> Graph<'a> {
    fn new(elements: &'a [Value]) -> Self {
        let mut by_id = HashMap::new();
        for e in elements {
            if let Some(i) = id(e) {
                by_id.entry(i).or_insert(e);
            }
            if let Some(fields) = e.as_object() {
                for v in fields.values() {
                    let inline = match v {
                        Value::Array(a) => a.iter().collect(),
                        v => vec![v],
                    };
                    for i in inline {
                        if let (Some(iid), true) = (id(i), i.get("type").is_some()) {
                            by_id.entry(iid).or_insert(i);
                        }
                    }
                }
            }
        }
        Self { elements, by_id }
    }

    fn get(&self, id: &str) -> Option<&'a Value> {
        self.by_id.get(id).copied()
    }
}

/// Reads an SPDX 3 JSON-LD document.
pub(crate) fn parse(v: &Value) -> Result<Sbom, ParseError> {
    let graph = v
        .get("@graph")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no @graph: an SPDX 3 document lists its elements in @graph"))?;
    if graph.len() > MAX_ELEMENTS {
        return Err(ParseError::Refused {
            format: F,
            message: format!("more than {MAX_ELEMENTS} elements"),
        });
    }
    let g = Graph::new(graph);
    let spec = spec_version(v, &g)?;
    let described = described(&g);
    let licenses = license_relationships(&g);
    let packages: Vec<&Value> = g
        .elements
        .iter()
        .filter(|e| {
            matches!(
                kind(e).as_str(),
                "software_Package" | "ai_AIPackage" | "dataset_DatasetPackage"
            )
        })
        .collect();
    if packages.len() > MAX_COMPONENTS {
        return Err(ParseError::Refused {
            format: F,
            message: format!("more than {MAX_COMPONENTS} packages"),
        });
    }
    let mut subject = None;
    let mut comps = Vec::new();
    for p in packages {
        let pid = id(p).unwrap_or_default();
        let name = str_of(p, "name")
            .ok_or_else(|| malformed(format!("a package without a name ({pid:?})")))?;
        if described.contains(pid) {
            subject.get_or_insert_with(|| name.to_owned());
            continue;
        }
        let (concluded, declared) = licenses.get(pid).copied().unwrap_or_default();
        let mut budget = MAX_LICENSE_PARTS;
        let license = [concluded, declared]
            .into_iter()
            .flatten()
            .find_map(|l| license_text(&g, l, 0, &mut budget));
        comps.push(Component {
            name: name.to_owned(),
            version: str_of(p, "software_packageVersion").map(str::to_owned),
            purl: purl(p),
            licenses: license.into_iter().collect(),
        });
    }
    Ok(summary("spdx", format!("SPDX-{spec}"), subject, comps))
}

/// `3.0.1`: the `specVersion` of the document's creation information, else its context's.
fn spec_version(v: &Value, g: &Graph<'_>) -> Result<String, ParseError> {
    let from_creation = g.elements.iter().find_map(|e| {
        let info = if kind(e) == "CreationInfo" {
            e
        } else {
            e.get("creationInfo").filter(|c| c.is_object())?
        };
        str_of(info, "specVersion")
    });
    let spec = from_creation
        .map(str::to_owned)
        .or_else(|| context_version(v))
        .ok_or_else(|| malformed("no specVersion"))?;
    if !spec.starts_with("3.") {
        return Err(malformed(format!(
            "specVersion {spec:?} in an SPDX 3 context; SPDX 2 documents carry spdxVersion"
        )));
    }
    Ok(spec)
}

/// The ids the document is about: the document's root elements, through SBOMs and bundles to
/// theirs, and what the document or an SBOM `describes`.
fn described<'a>(g: &Graph<'a>) -> HashSet<&'a str> {
    let collection = |k: &str| matches!(k, "SpdxDocument" | "software_Sbom" | "Bom" | "Bundle");
    let documents: Vec<&Value> = g
        .elements
        .iter()
        .filter(|e| kind(e) == "SpdxDocument")
        .collect();
    let tops: Vec<&Value> = if documents.is_empty() {
        g.elements
            .iter()
            .filter(|e| kind(e) == "software_Sbom")
            .collect()
    } else {
        documents
    };
    let mut out = HashSet::new();
    let mut holders: HashSet<&str> = HashSet::new();
    let mut todo: Vec<(&str, usize)> = Vec::new();
    for t in tops {
        holders.extend(id(t));
        todo.extend(refs(t, "rootElement").into_iter().map(|r| (r, 0)));
    }
    while let Some((r, depth)) = todo.pop() {
        match g.get(r) {
            Some(e) if collection(&kind(e)) && depth < MAX_DEPTH => {
                if holders.insert(r) {
                    todo.extend(refs(e, "rootElement").into_iter().map(|x| (x, depth + 1)));
                }
            }
            _ => {
                out.insert(r);
            }
        }
    }
    for e in g.elements {
        if kind(e) == "Relationship"
            && str_of(e, "relationshipType") == Some("describes")
            && refs(e, "from").iter().any(|f| holders.contains(f))
        {
            out.extend(refs(e, "to"));
        }
    }
    out
}

/// Each element's concluded and declared license, by the first `to` of its
/// `hasConcludedLicense` and `hasDeclaredLicense` relationships.
fn license_relationships<'a>(
    g: &Graph<'a>,
) -> HashMap<&'a str, (Option<&'a str>, Option<&'a str>)> {
    let mut out: HashMap<&str, (Option<&str>, Option<&str>)> = HashMap::new();
    for e in g.elements {
        if kind(e) != "Relationship" {
            continue;
        }
        let concluded = match str_of(e, "relationshipType") {
            Some("hasConcludedLicense") => true,
            Some("hasDeclaredLicense") => false,
            _ => continue,
        };
        let (Some(from), Some(to)) = (
            refs(e, "from").first().copied(),
            refs(e, "to").first().copied(),
        ) else {
            continue;
        };
        let slot = out.entry(from).or_default();
        let slot = if concluded { &mut slot.0 } else { &mut slot.1 };
        slot.get_or_insert(to);
    }
    out
}

/// A package's purl: `software_packageUrl`, else an `externalIdentifier` of type
/// `packageUrl`.
fn purl(p: &Value) -> Option<String> {
    if let Some(u) = str_of(p, "software_packageUrl") {
        return Some(u.to_owned());
    }
    p.get("externalIdentifier")
        .and_then(Value::as_array)?
        .iter()
        .find(|x| {
            str_of(x, "externalIdentifierType")
                .is_some_and(|t| t == "packageUrl" || t.ends_with("/packageUrl"))
        })
        .and_then(|x| str_of(x, "identifier"))
        .map(str::to_owned)
}

/// A license as SPDX 2 writes it, or `None` for no license (NOASSERTION, NONE, a reference
/// this document does not resolve). Sets nest at most 16 deep, and at most `budget` parts are
/// visited (a set listing itself many times ends).
fn license_text(g: &Graph<'_>, r: &str, depth: usize, budget: &mut usize) -> Option<String> {
    if depth > MAX_DEPTH || *budget == 0 {
        return None;
    }
    *budget -= 1;
    let no_license = |s: &str| matches!(s.trim(), "" | "NOASSERTION" | "NONE");
    let Some(e) = g.get(r) else {
        // A named individual or a license list IRI: not an element of the graph.
        let last = r.rsplit(['/', '#']).next().unwrap_or(r);
        if matches!(
            last,
            "NoAssertionLicense" | "NoneLicense" | "expandedlicensing_NoAssertionLicense"
        ) || r.ends_with("_NoneLicense")
        {
            return None;
        }
        return listed_id(r).map(str::to_owned);
    };
    let member = |key: &str, budget: &mut usize| {
        refs(e, key)
            .first()
            .and_then(|m| license_text(g, m, depth + 1, budget))
    };
    let set = |op: &str, budget: &mut usize| {
        let parts: Vec<String> = refs(e, "expandedlicensing_member")
            .into_iter()
            .filter_map(|m| license_text(g, m, depth + 1, budget))
            .collect();
        (!parts.is_empty()).then(|| format!("({})", parts.join(op)))
    };
    match kind(e).as_str() {
        "simplelicensing_LicenseExpression" => str_of(e, "simplelicensing_licenseExpression")
            .filter(|s| !no_license(s))
            .map(str::to_owned),
        "expandedlicensing_ListedLicense" | "expandedlicensing_ListedLicenseException" => {
            listed_id(r)
                .or_else(|| str_of(e, "name"))
                .map(str::to_owned)
        }
        "expandedlicensing_CustomLicense" | "expandedlicensing_CustomLicenseAddition" => {
            let last = r.rsplit(['/', '#']).next().unwrap_or(r);
            let custom = last.starts_with("LicenseRef-") || last.starts_with("AdditionRef-");
            Some(
                if custom {
                    last
                } else {
                    str_of(e, "name").unwrap_or(r)
                }
                .to_owned(),
            )
        }
        "expandedlicensing_ConjunctiveLicenseSet" => set(" AND ", budget),
        "expandedlicensing_DisjunctiveLicenseSet" => set(" OR ", budget),
        "expandedlicensing_OrLaterOperator" => {
            member("expandedlicensing_subjectLicense", budget).map(|l| format!("{l}+"))
        }
        "expandedlicensing_WithAdditionOperator" => {
            let license = member("expandedlicensing_subjectExtendableLicense", budget)?;
            match member("expandedlicensing_subjectAddition", budget) {
                Some(a) => Some(format!("{license} WITH {a}")),
                None => Some(license),
            }
        }
        _ => None,
    }
}

/// `MIT` for `http(s)://spdx.org/licenses/MIT`.
fn listed_id(iri: &str) -> Option<&str> {
    iri.strip_prefix("https://spdx.org/licenses/")
        .or_else(|| iri.strip_prefix("http://spdx.org/licenses/"))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expanded_license_sets_read_back_as_expressions() {
        let graph = json!({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [
            {"type": "expandedlicensing_DisjunctiveLicenseSet", "spdxId": "urn:set",
             "expandedlicensing_member": ["http://spdx.org/licenses/MIT", "urn:with"]},
            {"type": "expandedlicensing_WithAdditionOperator", "spdxId": "urn:with",
             "expandedlicensing_subjectExtendableLicense": "urn:later",
             "expandedlicensing_subjectAddition": "http://spdx.org/licenses/Classpath-exception-2.0"},
            {"type": "expandedlicensing_OrLaterOperator", "spdxId": "urn:later",
             "expandedlicensing_subjectLicense": "http://spdx.org/licenses/GPL-2.0"}
        ]});
        let elements = graph["@graph"].as_array().expect("graph");
        let g = Graph::new(elements);
        assert_eq!(
            license_text(&g, "urn:set", 0, &mut 10).as_deref(),
            Some("(MIT OR GPL-2.0+ WITH Classpath-exception-2.0)")
        );
        assert_eq!(
            license_text(&g, "expandedlicensing_NoAssertionLicense", 0, &mut 10),
            None
        );
        assert_eq!(
            compact("https://spdx.org/rdf/3.0.1/terms/Software/Package"),
            "software_Package"
        );
        assert_eq!(
            compact("https://spdx.org/rdf/3.0.1/terms/Core/Relationship"),
            "Relationship"
        );
    }

    #[test]
    fn a_license_set_that_contains_itself_ends() {
        let members: Vec<&str> = std::iter::repeat_n("urn:loop", 50)
            .chain(["http://spdx.org/licenses/MIT"])
            .collect();
        let graph = json!([{"type": "expandedlicensing_ConjunctiveLicenseSet", "spdxId": "urn:loop",
             "expandedlicensing_member": members}]);
        let elements = graph.as_array().expect("graph");
        let mut budget = MAX_LICENSE_PARTS;
        let text =
            license_text(&Graph::new(elements), "urn:loop", 0, &mut budget).expect("a license");
        assert_eq!(budget, 0, "the budget ran out");
        assert!(text.starts_with("((((("), "{text}");
        assert!(text.len() < 20_000, "bounded: {} bytes", text.len());
    }
}
