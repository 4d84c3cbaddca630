//! OpenVEX documents: JSON-LD whose `@context` is OpenVEX's (`https://openvex.dev/ns/v0.2.0`
//! and later, and the unversioned or v0.0.x contexts of older documents). Each statement says
//! of one vulnerability (`vulnerability.name`, else its `@id`, with its `aliases`; a plain
//! string in v0.0.x) that some products (`@id`, else an identifier: purl, CPE; plain strings
//! in v0.0.x), or their subcomponents, are `not_affected` (with a `justification` or an
//! `impact_statement`), `affected` (with an `action_statement`), `fixed` or
//! `under_investigation`. Each statement is a VEX statement of the summary, and each product
//! (or subcomponent) a finding of unknown severity: OpenVEX carries no score.

use serde_json::Value;

use crate::ParseError;
use crate::vulnerabilities::{
    Finding, MAX_FINDINGS, MAX_PRODUCTS, VexStatement, VulnerabilitySummary, add_product, clip,
    finish, justification_of, malformed, with_statements,
};

const F: &str = "OpenVEX";

/// The statuses OpenVEX defines, which are the normalized ones.
const STATUSES: [&str; 4] = ["not_affected", "affected", "fixed", "under_investigation"];

/// Whether a JSON document is OpenVEX: its `@context` (a string, or a list of them) is an
/// OpenVEX namespace.
pub(crate) fn is_openvex(v: &Value) -> bool {
    let openvex = |c: &Value| c.as_str().is_some_and(|c| c.contains("openvex.dev/ns"));
    match v.get("@context") {
        Some(Value::Array(cs)) => cs.iter().any(openvex),
        Some(c) => openvex(c),
        None => false,
    }
}

/// A product or subcomponent: its `@id`, else a purl or CPE identifier; a plain string in
/// v0.0.x documents.
fn product_id(p: &Value) -> Option<&str> {
    if let Some(s) = p.as_str() {
        return Some(s);
    }
    p.get("@id").and_then(Value::as_str).or_else(|| {
        ["purl", "cpe23", "cpe22"]
            .into_iter()
            .find_map(|k| p.get("identifiers")?.get(k)?.as_str())
    })
}

/// The items of an optional array field, or an error naming it.
fn list<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a [Value], ParseError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(malformed(F, format!("{at}: \"{key}\" is not an array"))),
    }
}

/// Parses an OpenVEX document (already read as JSON and recognised by [`is_openvex`]).
pub(crate) fn parse(v: &Value) -> Result<VulnerabilitySummary, ParseError> {
    let statements = match v.get("statements") {
        Some(Value::Array(a)) => a,
        _ => return Err(malformed(F, "no \"statements\" array")),
    };
    if statements.len() > MAX_FINDINGS {
        return Err(ParseError::Refused {
            format: F,
            message: format!("more than {MAX_FINDINGS} statements"),
        });
    }
    let doc_time = v.get("timestamp").and_then(Value::as_str);
    let mut findings = Vec::new();
    let mut listed = Vec::with_capacity(statements.len());
    for (i, s) in statements.iter().enumerate() {
        let at = format!("statement {i}");
        let vuln = s.get("vulnerability");
        let id = vuln
            .and_then(|v| {
                v.as_str()
                    .or_else(|| v.get("name").and_then(Value::as_str))
                    .or_else(|| v.get("@id").and_then(Value::as_str))
            })
            .filter(|id| !id.trim().is_empty())
            .ok_or_else(|| malformed(F, format!("{at} names no vulnerability")))?;
        let status = s
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(F, format!("{at} ({id}) has no status")))?;
        let status = STATUSES.into_iter().find(|k| *k == status).ok_or_else(|| {
            malformed(
                F,
                format!("{at} ({id}): unknown status {status:?} (not_affected, affected, fixed, under_investigation)"),
            )
        })?;
        let text = |key: &str| s.get(key).and_then(Value::as_str);
        let mut st = VexStatement {
            id: id.to_owned(),
            aliases: vuln
                .map(|v| list(v, "aliases", &at))
                .transpose()?
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .filter(|a| *a != id)
                .take(MAX_PRODUCTS)
                .map(str::to_owned)
                .collect(),
            status: status.to_owned(),
            justification: justification_of(status, text("justification")),
            impact: clip(text("impact_statement")),
            action: clip(text("action_statement")),
            timestamp: text("timestamp")
                .or_else(|| text("last_updated"))
                .or(doc_time)
                .map(str::to_owned),
            ..Default::default()
        };
        // v0.0.x put the subcomponents on the statement, for all its products.
        let shared: Vec<&str> = list(s, "subcomponents", &at)?
            .iter()
            .filter_map(product_id)
            .collect();
        let products = list(s, "products", &at)?;
        for p in products {
            let Some(product) = product_id(p) else {
                return Err(malformed(F, format!("{at} ({id}): a product has no @id")));
            };
            add_product(&mut st, product.to_owned());
            let mut subs: Vec<&str> = list(p, "subcomponents", &at)?
                .iter()
                .filter_map(product_id)
                .collect();
            subs.extend(&shared);
            for sub in &subs {
                if st.components.len() < MAX_PRODUCTS && !st.components.iter().any(|c| c == sub) {
                    st.components.push((*sub).to_owned());
                }
            }
            let components = if subs.is_empty() { vec![product] } else { subs };
            for c in components {
                findings.push(finding(id, status, Some(c)));
            }
            if findings.len() > MAX_FINDINGS {
                return Err(ParseError::Refused {
                    format: F,
                    message: format!("more than {MAX_FINDINGS} findings"),
                });
            }
        }
        if products.is_empty() {
            findings.push(finding(id, status, None));
        }
        listed.push(st);
    }
    let tools = v
        .get("tooling")
        .and_then(Value::as_str)
        .map(|t| vec![t.to_owned()])
        .unwrap_or_default();
    let mut summary = with_statements(finish("openvex", tools, findings), listed);
    summary.issuer = v.get("author").and_then(Value::as_str).map(str::to_owned);
    Ok(summary)
}

/// A product or component a statement names, as a finding of unknown severity.
fn finding(id: &str, status: &str, component: Option<&str>) -> Finding {
    Finding {
        id: id.to_owned(),
        severity: "unknown".into(),
        component: component.map(str::to_owned),
        state: Some(status.to_owned()),
        ..Default::default()
    }
}
