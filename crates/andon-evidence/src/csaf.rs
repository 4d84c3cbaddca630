//! CSAF 2.0 documents (`document.csaf_version`): a `csaf_vex`, or an advisory
//! (`csaf_security_advisory`, a vendor's own category) whose vulnerabilities carry a
//! `product_status`. Each vulnerability (`cve`, else its first `ids` entry; the other ids are
//! aliases) gives a VEX statement per status and reason, and a finding per product:
//!
//! - statuses: `known_not_affected` is `not_affected`; `known_affected`, `first_affected` and
//!   `last_affected` are `affected`; `fixed` and `first_fixed` are `fixed`;
//!   `under_investigation` stays; `recommended` is no status and is not read;
//! - the justification of a `not_affected` product is the `label` of the flag naming it (by
//!   `product_ids` or `group_ids`), CSAF's labels being OpenVEX's five words; its impact
//!   statement the `details` of the `impact` threat naming it; its action the remediation
//!   naming it (`category: details`);
//! - products resolve through the `product_tree` (branches, `full_product_names`,
//!   relationships, which take the purl of the component they reference) to a purl when a
//!   `product_identification_helper` gives one, else a name;
//! - a finding's severity is the CVSS v3 (else v2) `baseSeverity` or score band of the scores
//!   naming its product (CSAF 2.1: `metrics`), `unknown` without one.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::ParseError;
use crate::vulnerabilities::{
    Finding, MAX_FINDINGS, VexStatement, VulnerabilitySummary, add_product, band, clip, finish,
    justification_of, malformed, normalize_severity, rank, with_statements,
};

const F: &str = "CSAF";

/// Product tree branches nest this deep at most (real trees: vendor, product name, version,
/// a few more), and relationships chain this long.
const MAX_DEPTH: usize = 32;

/// Product references (of flags, threats, remediations, scores, through their groups) read
/// at most in one document.
const MAX_REFERENCES: usize = 2_000_000;

/// What a statement says of its products: status, justification, impact, action.
type Key = (String, Option<String>, Option<String>, Option<String>);

/// A product of the tree: its name, purl and version, and for a relationship the product
/// it is made of.
#[derive(Default)]
struct Product<'a> {
    name: Option<&'a str>,
    purl: Option<&'a str>,
    version: Option<&'a str>,
    reference: Option<&'a str>,
}

/// The product tree: products by id, product groups by id.
#[derive(Default)]
struct Tree<'a> {
    products: HashMap<&'a str, Product<'a>>,
    groups: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Tree<'a> {
    fn read(tree: Option<&'a Value>) -> Result<Self, ParseError> {
        let mut t = Tree::default();
        let Some(tree) = tree else { return Ok(t) };
        let items = |v: &'a Value, key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let mut stack: Vec<(&Value, usize)> =
            items(tree, "branches").iter().map(|b| (b, 0)).collect();
        while let Some((b, depth)) = stack.pop() {
            if depth > MAX_DEPTH || t.products.len() > MAX_FINDINGS {
                return Err(ParseError::Refused {
                    format: F,
                    message: "product tree branches nest too deep or are too many".into(),
                });
            }
            if let Some(p) = b.get("product") {
                let version = (b.get("category").and_then(Value::as_str)
                    == Some("product_version"))
                .then(|| b.get("name").and_then(Value::as_str))
                .flatten();
                t.add(p, version, None);
            }
            stack.extend(items(b, "branches").iter().map(|c| (c, depth + 1)));
        }
        for p in items(tree, "full_product_names") {
            t.add(p, None, None);
        }
        for r in items(tree, "relationships") {
            if let Some(p) = r.get("full_product_name") {
                t.add(p, None, r.get("product_reference").and_then(Value::as_str));
            }
        }
        for g in items(tree, "product_groups") {
            if let Some(id) = g.get("group_id").and_then(Value::as_str) {
                t.groups.insert(id, ids(g, "product_ids").collect());
            }
        }
        Ok(t)
    }

    fn add(&mut self, p: &'a Value, version: Option<&'a str>, reference: Option<&'a str>) {
        if let Some(id) = p.get("product_id").and_then(Value::as_str) {
            let product = Product {
                name: p.get("name").and_then(Value::as_str),
                purl: p
                    .pointer("/product_identification_helper/purl")
                    .and_then(Value::as_str),
                version,
                reference,
            };
            self.products.insert(id, product);
        }
    }

    /// A product as a finding names it: its purl (or that of the product a relationship
    /// references), else its name, else its id; and its version.
    fn describe(&self, id: &str) -> (String, Option<String>) {
        let (mut purl, mut version) = (None, None);
        let mut at = self.products.get(id);
        let name = at.and_then(|p| p.name);
        for _ in 0..MAX_DEPTH {
            let Some(p) = at else { break };
            purl = purl.or(p.purl);
            version = version.or(p.version);
            at = p.reference.and_then(|r| self.products.get(r));
        }
        let shown = purl.or(name).unwrap_or(id);
        (shown.to_owned(), version.map(str::to_owned))
    }

    /// The products a flag, threat, remediation or score names, by id or through a group;
    /// each counts against the document's `budget` of product references.
    fn named(&self, entry: &'a Value, budget: &mut usize) -> Result<Vec<&'a str>, ParseError> {
        let mut out: Vec<&'a str> = ids(entry, "product_ids")
            .chain(ids(entry, "products"))
            .collect();
        for g in ids(entry, "group_ids") {
            out.extend(self.groups.get(g).into_iter().flatten().copied());
        }
        *budget = budget
            .checked_sub(out.len())
            .ok_or_else(|| ParseError::Refused {
                format: F,
                message: format!("more than {MAX_REFERENCES} product references"),
            })?;
        Ok(out)
    }
}

/// What the flags, threats, remediations and scores of one vulnerability say of each product
/// (the first that names it, the worst score).
#[derive(Default)]
struct Index<'a> {
    label: HashMap<&'a str, &'a str>,
    impact: HashMap<&'a str, &'a str>,
    action: HashMap<&'a str, &'a Value>,
    severity: HashMap<&'a str, (&'static str, Option<f64>)>,
}

impl<'a> Index<'a> {
    fn of(tree: &Tree<'a>, vuln: &'a Value, budget: &mut usize) -> Result<Self, ParseError> {
        let mut ix = Index::default();
        let text = |v: &'a Value, key: &str| v.get(key).and_then(Value::as_str);
        for f in objects(vuln, "flags") {
            if let Some(label) = text(f, "label") {
                for p in tree.named(f, budget)? {
                    ix.label.entry(p).or_insert(label);
                }
            }
        }
        for t in objects(vuln, "threats").filter(|t| text(t, "category") == Some("impact")) {
            if let Some(details) = text(t, "details") {
                for p in tree.named(t, budget)? {
                    ix.impact.entry(p).or_insert(details);
                }
            }
        }
        for r in objects(vuln, "remediations") {
            for p in tree.named(r, budget)? {
                ix.action.entry(p).or_insert(r);
            }
        }
        // CSAF 2.0 `scores`, CSAF 2.1 `metrics` (the CVSS under `content`).
        for s in objects(vuln, "scores").chain(objects(vuln, "metrics")) {
            let body = s.get("content").unwrap_or(s);
            let Some((sev, score)) = cvss(body.get("cvss_v4"))
                .or_else(|| cvss(body.get("cvss_v3")))
                .or_else(|| cvss(body.get("cvss_v2")))
            else {
                continue;
            };
            for p in tree.named(s, budget)? {
                let e = ix.severity.entry(p).or_insert((sev, score));
                if rank(sev) < rank(e.0) {
                    e.0 = sev;
                }
                e.1 = match (e.1, score) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        Ok(ix)
    }

    /// The statement a vulnerability makes of one product with one status, without products.
    fn statement(&self, base: &VexStatement, status: &str, product: &str) -> VexStatement {
        let action = self.action.get(product).map(|r| {
            let category = r
                .get("category")
                .and_then(Value::as_str)
                .unwrap_or("remediation");
            let details = r.get("details").and_then(Value::as_str).unwrap_or_default();
            format!("{category}: {details}")
        });
        VexStatement {
            status: status.to_owned(),
            justification: justification_of(status, self.label.get(product).copied()),
            impact: clip(self.impact.get(product).copied()),
            action: clip(action.as_deref()),
            ..base.clone()
        }
    }
}

/// The strings of an array field.
fn ids<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The normalized status of a `product_status` field; `None` for `recommended` and unknown
/// fields.
fn status(field: &str) -> Option<&'static str> {
    match field {
        "known_not_affected" => Some("not_affected"),
        "known_affected" | "first_affected" | "last_affected" => Some("affected"),
        "fixed" | "first_fixed" => Some("fixed"),
        "under_investigation" => Some("under_investigation"),
        _ => None,
    }
}

/// The severity and score a CVSS object gives.
fn cvss(c: Option<&Value>) -> Option<(&'static str, Option<f64>)> {
    let c = c?;
    let score = crate::sarif::score(c.get("baseScore"));
    let sev = c
        .get("baseSeverity")
        .and_then(Value::as_str)
        .and_then(normalize_severity)
        .or_else(|| score.map(band))?;
    Some((sev, score))
}

/// The objects of an array field.
fn objects<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// Parses a CSAF document (already read as JSON, with `document.csaf_version`).
pub(crate) fn parse(v: &Value) -> Result<VulnerabilitySummary, ParseError> {
    let version = v.pointer("/document/csaf_version").and_then(Value::as_str);
    if !matches!(version, Some("2.0" | "2.1")) {
        return Err(malformed(
            F,
            format!("csaf_version {version:?} is not read (2.0, 2.1)"),
        ));
    }
    let tree = Tree::read(v.get("product_tree"))?;
    let vulns = match v.get("vulnerabilities") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(malformed(F, "\"vulnerabilities\" is not an array")),
    };
    let time = v
        .pointer("/document/tracking/current_release_date")
        .and_then(Value::as_str);
    let mut findings = Vec::new();
    let mut statements = Vec::new();
    let mut with_status = 0;
    let mut budget = MAX_REFERENCES;
    for (i, vuln) in vulns.iter().enumerate() {
        let Some(Value::Object(product_status)) = vuln.get("product_status") else {
            continue;
        };
        with_status += 1;
        let other_ids: Vec<&str> = objects(vuln, "ids")
            .filter_map(|i| i.get("text").and_then(Value::as_str))
            .collect();
        let id = vuln
            .get("cve")
            .and_then(Value::as_str)
            .or_else(|| other_ids.first().copied())
            .ok_or_else(|| malformed(F, format!("vulnerability {i} has neither cve nor ids")))?;
        let base = VexStatement {
            id: id.to_owned(),
            aliases: other_ids
                .iter()
                .filter(|a| **a != id)
                .map(|a| (*a).to_owned())
                .collect(),
            timestamp: vuln
                .get("release_date")
                .and_then(Value::as_str)
                .or(time)
                .map(str::to_owned),
            ..Default::default()
        };
        let index = Index::of(&tree, vuln, &mut budget)?;
        let mut seen = HashSet::new();
        let mut groups: Vec<VexStatement> = Vec::new();
        let mut group_of: HashMap<Key, usize> = HashMap::new();
        for (field, products) in product_status {
            let Some(status) = status(field) else {
                continue;
            };
            for product in products
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !seen.insert((product, status)) {
                    continue;
                }
                let st = index.statement(&base, status, product);
                let key = (
                    st.status.clone(),
                    st.justification.clone(),
                    st.impact.clone(),
                    st.action.clone(),
                );
                let at = *group_of.entry(key).or_insert_with(|| {
                    groups.push(st);
                    groups.len() - 1
                });
                let (component, version) = tree.describe(product);
                add_product(&mut groups[at], component.clone());
                let (severity, score) = index
                    .severity
                    .get(product)
                    .copied()
                    .unwrap_or(("unknown", None));
                findings.push(Finding {
                    id: id.to_owned(),
                    severity: severity.to_owned(),
                    score,
                    component: Some(component),
                    version,
                    fixed_version: None,
                    state: Some(status.to_owned()),
                });
                if findings.len() > MAX_FINDINGS {
                    return Err(ParseError::Refused {
                        format: F,
                        message: format!("more than {MAX_FINDINGS} product statuses"),
                    });
                }
            }
        }
        statements.extend(groups);
    }
    if with_status == 0 {
        return Err(malformed(
            F,
            "no vulnerability has a product_status, so the document says of no product whether it is affected (an informational advisory, or a document without vulnerabilities)",
        ));
    }
    let tools = v
        .pointer("/document/tracking/generator/engine/name")
        .and_then(Value::as_str)
        .map(|t| vec![t.to_owned()])
        .unwrap_or_default();
    let mut summary = with_statements(finish("csaf", tools, findings), statements);
    summary.issuer = v
        .pointer("/document/publisher/name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(summary)
}
