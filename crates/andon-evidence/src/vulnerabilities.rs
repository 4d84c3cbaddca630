//! Vulnerability findings from a scanner, normalized to id, severity, component and fixed
//! version, and VEX statements, from any of the forms scanners and suppliers publish:
//!
//! - a CycloneDX document (1.4 to 1.6, JSON or XML) with a `vulnerabilities` section, which is also
//!   the form of a CycloneDX VEX: the `analysis.state` of each vulnerability says whether the
//!   product is affected. `not_affected`, `false_positive` and `resolved` findings are
//!   counted apart from the open ones, as suppressed SARIF findings are, and each analysis is
//!   also a [`VexStatement`];
//! - SARIF 2.1.0 from a scanner (Trivy, Grype, ...): each result is a finding of its rule (the
//!   vulnerability id); the severity comes from `security-severity`, else a severity tag on
//!   the rule (Trivy tags rules `CRITICAL`, `HIGH`, ...), else the level; the package and the
//!   fixed version come from the message lines Trivy and Grype write (`Package:`,
//!   `Installed Version:`, `Fixed Version:`);
//! - an OpenVEX document (JSON-LD whose `@context` is OpenVEX's, v0.0.x included) or a CSAF
//!   2.0 document (`document.csaf_version`: a `csaf_vex`, or an advisory whose vulnerabilities
//!   carry a `product_status`): each statement is a [`VexStatement`] and a finding per product
//!   it names; `not_affected` and `fixed` findings are counted apart from the open ones. An
//!   OpenVEX finding has no severity (`unknown`); a CSAF one takes its product's CVSS score.
//!
//! Severities are `critical`, `high`, `medium`, `low`, `none` or `unknown`; a CVSS score
//! maps to the CVSS v3 bands (critical >= 9.0, high >= 7.0, medium >= 4.0, low > 0).
//!
//! VEX statuses are normalized to `not_affected`, `affected`, `fixed` and
//! `under_investigation`, and the reasons a product is not affected to the five OpenVEX (CISA)
//! justifications, see [`justification`].

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;

/// Findings listed in full at most; the counts always cover them all.
const MAX_LISTED: usize = 1000;
/// Findings read at most.
pub(crate) const MAX_FINDINGS: usize = 200_000;

/// The severities, most severe first.
pub const SEVERITIES: [&str; 6] = ["critical", "high", "medium", "low", "none", "unknown"];

/// Products named in full by one VEX statement at most; `product_count` counts them all.
pub(crate) const MAX_PRODUCTS: usize = 100;
/// Characters kept of a free-text statement (impact, action) at most.
const MAX_TEXT: usize = 1000;

/// What a vulnerability report says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilitySummary {
    /// `cyclonedx`, `sarif`, `openvex` or `csaf`.
    pub format: String,
    /// The scanners named by the report.
    pub tools: Vec<String>,
    /// Open findings (a vulnerability in a component), all of them.
    pub findings: u64,
    /// Open findings by severity.
    pub by_severity: BTreeMap<String, u64>,
    /// The most severe open finding's severity, if any.
    pub max_severity: Option<String>,
    /// Open findings with a known fixed version.
    pub fixable: u64,
    /// Findings a VEX marks `not_affected`, `false_positive`, `resolved` or `fixed`, and
    /// suppressed SARIF results.
    pub not_affected: u64,
    /// Distinct vulnerability ids among open findings.
    pub ids: u64,
    /// The findings, most severe first (at most 1000; `findings` counts all open ones).
    pub listed: Vec<Finding>,
    /// Who issued the VEX: OpenVEX `author`, CSAF `document.publisher.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The VEX statements, in document order (at most 1000; `statement_count` counts all).
    /// Absent from a report that makes none (a scan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<VexStatement>,
    /// All VEX statements of the report.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub statement_count: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a VEX says of one vulnerability in some products.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VexStatement {
    /// The vulnerability id (CVE, GHSA, ...).
    pub id: String,
    /// Other ids of the same vulnerability (OpenVEX `aliases`, CSAF `ids`, CycloneDX
    /// `references`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// `not_affected`, `affected`, `fixed` or `under_investigation`.
    pub status: String,
    /// Why the products are not affected, one of the five OpenVEX justifications (see
    /// [`justification`]); only for `not_affected`, and `None` when none (or no known one) is
    /// given.
    pub justification: Option<String>,
    /// The impact statement: OpenVEX `impact_statement`, CSAF `impact` threat, CycloneDX
    /// `analysis.detail` (at most 1000 characters).
    pub impact: Option<String>,
    /// What to do: OpenVEX `action_statement`, CSAF remediation (`category: details`),
    /// CycloneDX `recommendation` (at most 1000 characters).
    pub action: Option<String>,
    /// The products: purls, else names (at most 100).
    pub products: Vec<String>,
    /// The products the statement names, all of them.
    pub product_count: u64,
    /// OpenVEX subcomponents: the components of the products the statement is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<String>,
    /// When the statement was made, as the document gives it.
    pub timestamp: Option<String>,
}

/// One of the five OpenVEX justifications (CISA's VEX status justifications, which CSAF's
/// flag labels repeat) for a justification word of OpenVEX, CSAF or CycloneDX; `None` for an
/// unknown word. CycloneDX's nine map as: `code_not_present` -> `vulnerable_code_not_present`;
/// `code_not_reachable` -> `vulnerable_code_not_in_execute_path`; `requires_dependency` ->
/// `component_not_present`; `requires_configuration` and `requires_environment` ->
/// `vulnerable_code_cannot_be_controlled_by_adversary`; `protected_by_compiler`,
/// `protected_at_runtime`, `protected_at_perimeter` and `protected_by_mitigating_control` ->
/// `inline_mitigations_already_exist`.
pub fn justification(word: &str) -> Option<&'static str> {
    Some(match word.trim().to_ascii_lowercase().as_str() {
        "component_not_present" | "requires_dependency" => "component_not_present",
        "vulnerable_code_not_present" | "code_not_present" => "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path" | "code_not_reachable" => {
            "vulnerable_code_not_in_execute_path"
        }
        "vulnerable_code_cannot_be_controlled_by_adversary"
        | "requires_configuration"
        | "requires_environment" => "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist"
        | "protected_by_compiler"
        | "protected_at_runtime"
        | "protected_at_perimeter"
        | "protected_by_mitigating_control" => "inline_mitigations_already_exist",
        _ => return None,
    })
}

/// The normalized status of a CycloneDX `analysis.state`.
fn cyclonedx_status(state: &str) -> Option<&'static str> {
    match state {
        "not_affected" | "false_positive" => Some("not_affected"),
        "exploitable" => Some("affected"),
        "resolved" | "resolved_with_pedigree" => Some("fixed"),
        "in_triage" => Some("under_investigation"),
        _ => None,
    }
}

/// A free text, at most [`MAX_TEXT`] characters, or `None` when blank.
pub(crate) fn clip(text: Option<&str>) -> Option<String> {
    let t = text?.trim();
    (!t.is_empty()).then(|| t.chars().take(MAX_TEXT).collect())
}

/// A statement's justification: normalized, and only for `not_affected`.
pub(crate) fn justification_of(status: &str, word: Option<&str>) -> Option<String> {
    (status == "not_affected")
        .then(|| word.and_then(justification))
        .flatten()
        .map(str::to_owned)
}

/// Adds a product to a statement: counted always, listed up to [`MAX_PRODUCTS`].
pub(crate) fn add_product(s: &mut VexStatement, product: String) {
    s.product_count += 1;
    if s.products.len() < MAX_PRODUCTS && !s.products.contains(&product) {
        s.products.push(product);
    }
}

/// Sets the statements of a summary: all counted, the first 1000 listed.
pub(crate) fn with_statements(
    mut s: VulnerabilitySummary,
    mut statements: Vec<VexStatement>,
) -> VulnerabilitySummary {
    s.statement_count = statements.len() as u64;
    statements.truncate(MAX_LISTED);
    s.statements = statements;
    s
}

/// One vulnerability in one component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// CVE, GHSA, OSV ... id.
    pub id: String,
    /// Normalized severity.
    pub severity: String,
    /// The highest score given, when one is.
    pub score: Option<f64>,
    /// The component: a purl, or a package name.
    pub component: Option<String>,
    /// The installed version, when known.
    pub version: Option<String>,
    /// The first version without it, when known.
    pub fixed_version: Option<String>,
    /// The VEX analysis state, when given.
    pub state: Option<String>,
}

pub(crate) fn malformed(format: &'static str, message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format,
        line: 0,
        message: message.into(),
    }
}

pub(crate) fn rank(sev: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|s| *s == sev)
        .unwrap_or(SEVERITIES.len())
}

/// The severity band of a CVSS score.
pub fn band(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

pub(crate) fn normalize_severity(s: &str) -> Option<&'static str> {
    match s.trim().to_ascii_lowercase().as_str() {
        "critical" => Some("critical"),
        "high" => Some("high"),
        "medium" | "moderate" => Some("medium"),
        "low" => Some("low"),
        "none" | "info" | "informational" | "negligible" => Some("none"),
        "unknown" => Some("unknown"),
        _ => None,
    }
}

/// Parses a vulnerability report: CycloneDX (JSON or XML), OpenVEX, CSAF or SARIF, told apart
/// by their markers (`bomFormat`, an OpenVEX `@context`, `document.csaf_version`, `runs`).
pub fn parse(doc: &[u8]) -> Result<VulnerabilitySummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, "vulnerability report")?;
    if crate::is_xml(doc) {
        return parse_cyclonedx(&crate::cyclonedx_xml::to_json(doc, "CycloneDX XML")?);
    }
    let v = crate::json_doc(
        doc,
        "vulnerability report",
        "CycloneDX JSON with vulnerabilities (a scan or a VEX), OpenVEX, CSAF 2.0 or SARIF 2.1.0 (Trivy, Grype)",
    )?;
    if v.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        parse_cyclonedx(&v)
    } else if crate::openvex::is_openvex(&v) {
        crate::openvex::parse(&v)
    } else if v.pointer("/document/csaf_version").is_some() {
        crate::csaf::parse(&v)
    } else if v.get("runs").is_some() {
        parse_sarif(&v)
    } else if let Some(context) = v.get("@context") {
        Err(malformed(
            "vulnerability report",
            format!(
                "a JSON-LD document whose @context ({context}) is not OpenVEX's (https://openvex.dev/ns/...)"
            ),
        ))
    } else {
        Err(malformed(
            "vulnerability report",
            "neither a CycloneDX document (bomFormat), an OpenVEX document (@context), a CSAF document (document.csaf_version) nor a SARIF log (runs)",
        ))
    }
}

/// The summary of a report's findings: open ones counted and listed, those a VEX or a
/// suppression clears counted apart.
pub(crate) fn finish(format: &str, tools: Vec<String>, all: Vec<Finding>) -> VulnerabilitySummary {
    let mut s = VulnerabilitySummary {
        format: format.into(),
        tools,
        ..Default::default()
    };
    let mut open: Vec<Finding> = Vec::new();
    for f in all {
        let suppressed = matches!(
            f.state.as_deref(),
            Some(
                "not_affected" | "false_positive" | "resolved" | "resolved_with_pedigree" | "fixed"
            )
        );
        if suppressed {
            s.not_affected += 1;
        } else {
            open.push(f);
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    for f in &open {
        *s.by_severity.entry(f.severity.clone()).or_default() += 1;
        s.fixable += u64::from(f.fixed_version.is_some());
        ids.insert(f.id.clone());
    }
    s.findings = open.len() as u64;
    s.ids = ids.len() as u64;
    open.sort_by(|a, b| {
        rank(&a.severity)
            .cmp(&rank(&b.severity))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.component.cmp(&b.component))
    });
    s.max_severity = open
        .iter()
        .map(|f| f.severity.clone())
        .find(|sev| sev != "unknown" && sev != "none");
    s.listed = open.into_iter().take(MAX_LISTED).collect();
    s
}

fn parse_cyclonedx(v: &Value) -> Result<VulnerabilitySummary, ParseError> {
    const F: &str = "CycloneDX";
    let vulns = match v.get("vulnerabilities") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(malformed(F, "\"vulnerabilities\" is not an array")),
    };
    // bom-ref -> (display name, version), for components anywhere in the tree.
    let mut refs: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut stack: Vec<(&Value, usize)> = Vec::new();
    if let Some(c) = v.pointer("/metadata/component") {
        stack.push((c, 0));
    }
    if let Some(Value::Array(cs)) = v.get("components") {
        stack.extend(cs.iter().map(|c| (c, 0)));
    }
    while let Some((c, depth)) = stack.pop() {
        if depth > 64 || refs.len() > MAX_FINDINGS {
            return Err(ParseError::Refused {
                format: F,
                message: "components nest too deep or are too many".into(),
            });
        }
        let name = c
            .get("purl")
            .and_then(Value::as_str)
            .or_else(|| c.get("name").and_then(Value::as_str));
        if let (Some(r), Some(name)) = (c.get("bom-ref").and_then(Value::as_str), name) {
            let version = c.get("version").and_then(Value::as_str).map(str::to_owned);
            refs.insert(r.to_owned(), (name.to_owned(), version));
        }
        if let Some(Value::Array(cs)) = c.get("components") {
            stack.extend(cs.iter().map(|c| (c, depth + 1)));
        }
    }
    let mut tools = Vec::new();
    let mut out = Vec::new();
    let mut statements = Vec::new();
    for (i, vuln) in vulns.iter().enumerate() {
        let id = vuln
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(F, format!("vulnerability {i} has no id")))?;
        if let Some(st) = cyclonedx_statement(id, vuln, &refs) {
            statements.push(st);
        }
        let mut severity: Option<&'static str> = None;
        let mut score: Option<f64> = None;
        for r in vuln
            .get("ratings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = crate::sarif::score(r.get("score"));
            if let Some(s) = s {
                score = Some(score.map_or(s, |m: f64| m.max(s)));
            }
            let sev = r
                .get("severity")
                .and_then(Value::as_str)
                .and_then(normalize_severity)
                .or_else(|| s.map(band));
            if let Some(sev) = sev
                && severity.is_none_or(|cur| rank(sev) < rank(cur))
            {
                severity = Some(sev);
            }
        }
        for t in vuln
            .get("tools")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(n) = t.get("name").and_then(Value::as_str)
                && !tools.iter().any(|x| x == n)
            {
                tools.push(n.to_owned());
            }
        }
        let state = vuln
            .pointer("/analysis/state")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let affects = vuln
            .get("affects")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let targets: Vec<&Value> = if affects.is_empty() {
            vec![&Value::Null]
        } else {
            affects.iter().collect()
        };
        for a in targets {
            let r = a.get("ref").and_then(Value::as_str);
            let (component, version) = match r.and_then(|r| refs.get(r)) {
                Some((n, v)) => (Some(n.clone()), v.clone()),
                None => (r.map(str::to_owned), None),
            };
            // CycloneDX 1.5+: versions listed `unaffected` after an affected range are
            // the fixes.
            let fixed_version = a
                .get("versions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|v| v.get("status").and_then(Value::as_str) == Some("unaffected"))
                .find_map(|v| v.get("version").and_then(Value::as_str))
                .map(str::to_owned);
            out.push(Finding {
                id: id.to_owned(),
                severity: severity.unwrap_or("unknown").to_owned(),
                score,
                component,
                version,
                fixed_version,
                state: state.clone(),
            });
            if out.len() > MAX_FINDINGS {
                return Err(ParseError::Refused {
                    format: F,
                    message: format!("more than {MAX_FINDINGS} findings"),
                });
            }
        }
    }
    Ok(with_statements(finish("cyclonedx", tools, out), statements))
}

/// The VEX statement of a CycloneDX vulnerability with an `analysis` whose state is known.
fn cyclonedx_statement(
    id: &str,
    vuln: &Value,
    refs: &HashMap<String, (String, Option<String>)>,
) -> Option<VexStatement> {
    let analysis = vuln.get("analysis")?;
    let status = cyclonedx_status(analysis.get("state").and_then(Value::as_str)?)?;
    fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
        v.get(key).and_then(Value::as_str)
    }
    let mut st = VexStatement {
        id: id.to_owned(),
        aliases: vuln
            .get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .filter(|a| *a != id)
            .take(MAX_PRODUCTS)
            .map(str::to_owned)
            .collect(),
        status: status.to_owned(),
        justification: justification_of(status, text(analysis, "justification")),
        impact: clip(text(analysis, "detail")),
        action: clip(text(vuln, "recommendation")),
        timestamp: ["lastUpdated", "firstIssued"]
            .into_iter()
            .find_map(|k| text(analysis, k))
            .or_else(|| text(vuln, "updated"))
            .or_else(|| text(vuln, "published"))
            .map(str::to_owned),
        ..Default::default()
    };
    for a in vuln
        .get("affects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(r) = a.get("ref").and_then(Value::as_str) {
            let product = refs.get(r).map_or(r, |(name, _)| name.as_str());
            add_product(&mut st, product.to_owned());
        }
    }
    Some(st)
}

/// `Key: value` lines of a scanner's message.
fn message_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim().eq_ignore_ascii_case(key) && !v.trim().is_empty()).then(|| v.trim())
    })
}

fn parse_sarif(v: &Value) -> Result<VulnerabilitySummary, ParseError> {
    const F: &str = "SARIF";
    let runs = v
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed(F, "\"runs\" is not an array"))?;
    let mut tools = Vec::new();
    let mut out = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        let driver = run
            .pointer("/tool/driver")
            .ok_or_else(|| malformed(F, format!("run {r} has no tool.driver")))?;
        if let Some(n) = driver.get("name").and_then(Value::as_str) {
            tools.push(n.to_owned());
        }
        let rules = crate::sarif::Rules::of(driver);
        let results = match run.get("results") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(malformed(F, format!("run {r}: results is not an array"))),
        };
        for result in results {
            let suppressed = result
                .get("suppressions")
                .and_then(Value::as_array)
                .is_some_and(|s| !s.is_empty());
            let (rule_id, rule) = rules.of_result(result);
            let id = rule_id
                .or_else(|| rule.and_then(|r| r.get("id")).and_then(Value::as_str))
                .unwrap_or("(no rule)");
            let text = result
                .pointer("/message/text")
                .and_then(Value::as_str)
                .unwrap_or("");
            let score = crate::sarif::security_severity(result, rule);
            let tagged = rule
                .and_then(|r| r.pointer("/properties/tags"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(normalize_severity);
            let level = crate::sarif::level(result, rule);
            let severity = score
                .map(band)
                .or(tagged)
                .or_else(|| message_field(text, "Severity").and_then(normalize_severity))
                .unwrap_or(match level {
                    "error" => "high",
                    "warning" => "medium",
                    "note" => "low",
                    _ => "unknown",
                });
            out.push(Finding {
                id: id.to_owned(),
                severity: severity.to_owned(),
                score,
                component: message_field(text, "Package").map(str::to_owned),
                version: message_field(text, "Installed Version").map(str::to_owned),
                fixed_version: message_field(text, "Fixed Version").map(str::to_owned),
                state: suppressed.then(|| "not_affected".to_owned()),
            });
            if out.len() > MAX_FINDINGS {
                return Err(ParseError::Refused {
                    format: F,
                    message: format!("more than {MAX_FINDINGS} findings"),
                });
            }
        }
    }
    Ok(finish("sarif", tools, out))
}
