//! SARIF 2.1.0 from any static analysis tool (CodeQL, Semgrep, ruff, bandit, clippy-sarif,
//! ...): which tools ran, their findings by level and by security severity, the rules that
//! fired, and suppressed findings counted apart (a suppressed finding is not a finding, but
//! an auditor wants to see how many there were).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;

const FORMAT: &str = "SARIF";
/// How many rules the summary lists, most frequent first.
const MAX_RULES: usize = 50;

/// Findings of one or more SARIF runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SarifSummary {
    /// The tools that produced the runs: `name` and `version` when given.
    pub tools: Vec<Tool>,
    /// Unsuppressed findings.
    pub findings: u64,
    /// Unsuppressed findings by SARIF level: `error`, `warning`, `note`, `none`.
    pub by_level: BTreeMap<String, u64>,
    /// Unsuppressed findings by security severity (the `security-severity` score of the
    /// result or its rule, as GitHub reads it): `critical` (>= 9.0), `high` (>= 7.0),
    /// `medium` (>= 4.0), `low` (> 0); findings without a score are not counted here.
    pub by_security_severity: BTreeMap<String, u64>,
    /// The highest security-severity score among unsuppressed findings.
    pub max_security_severity: Option<f64>,
    /// Findings with a suppression (in source, or accepted externally).
    pub suppressed: u64,
    /// Unsuppressed findings per rule id, most frequent first (at most 50).
    pub rules: Vec<RuleCount>,
}

/// A tool that produced a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// `tool.driver.name`.
    pub name: String,
    /// `tool.driver.version` or `semanticVersion`.
    pub version: Option<String>,
}

/// How often a rule fired.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The rule id.
    pub rule: String,
    /// Unsuppressed findings.
    pub count: u64,
}

fn malformed(message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: FORMAT,
        line: 0,
        message: message.into(),
    }
}

/// A CVSS-like score in 0..=10, from a number or a numeric string.
pub(crate) fn score(v: Option<&Value>) -> Option<f64> {
    let v = v?;
    let s = match v {
        Value::String(s) => s.trim().parse().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => return None,
    };
    (s.is_finite() && (0.0..=10.0).contains(&s)).then_some(s)
}

fn band(s: f64) -> Option<&'static str> {
    Some(crate::vulnerabilities::band(s)).filter(|b| *b != "none")
}

/// The rules of one run's driver, by id and by index.
pub(crate) struct Rules<'a> {
    list: Vec<&'a Value>,
    by_id: BTreeMap<&'a str, &'a Value>,
}

impl<'a> Rules<'a> {
    pub(crate) fn of(driver: &'a Value) -> Self {
        let list: Vec<&Value> = driver
            .get("rules")
            .and_then(Value::as_array)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let by_id = list
            .iter()
            .filter_map(|r| Some((r.get("id")?.as_str()?, *r)))
            .collect();
        Self { list, by_id }
    }

    /// A result's rule id and its rule (by `ruleId`, `rule.id`, else `ruleIndex`).
    pub(crate) fn of_result(&self, result: &'a Value) -> (Option<&'a str>, Option<&'a Value>) {
        let id = result
            .get("ruleId")
            .and_then(Value::as_str)
            .or_else(|| result.pointer("/rule/id").and_then(Value::as_str));
        let rule = id.and_then(|id| self.by_id.get(id).copied()).or_else(|| {
            result
                .get("ruleIndex")
                .and_then(Value::as_u64)
                .and_then(|i| self.list.get(i as usize).copied())
        });
        (id, rule)
    }
}

/// SARIF §3.27.10: the result's level, else its rule's default configuration, else
/// "warning".
pub(crate) fn level<'a>(result: &'a Value, rule: Option<&'a Value>) -> &'a str {
    result
        .get("level")
        .and_then(Value::as_str)
        .or_else(|| {
            rule.and_then(|r| r.pointer("/defaultConfiguration/level"))
                .and_then(Value::as_str)
        })
        .unwrap_or("warning")
}

/// The `security-severity` of a result, else of its rule (as GitHub reads it).
pub(crate) fn security_severity(result: &Value, rule: Option<&Value>) -> Option<f64> {
    score(result.pointer("/properties/security-severity"))
        .or_else(|| score(rule.and_then(|r| r.pointer("/properties/security-severity"))))
}

/// Parses a SARIF 2.1.0 log.
pub fn parse(doc: &[u8]) -> Result<SarifSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, "SARIF")?;
    let log = crate::json_doc(doc, FORMAT, "a SARIF 2.1.0 log (JSON)")?;
    if let Some(v) = log.get("version").and_then(Value::as_str)
        && v != "2.1.0"
    {
        return Err(malformed(format!("version {v:?} is not 2.1.0")));
    }
    let runs = log
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no \"runs\" array"))?;
    let mut out = SarifSummary::default();
    let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
    for (r, run) in runs.iter().enumerate() {
        let driver = run
            .pointer("/tool/driver")
            .ok_or_else(|| malformed(format!("run {r} has no tool.driver")))?;
        let name = driver
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("run {r}: tool.driver has no name")))?;
        let version = driver
            .get("version")
            .or_else(|| driver.get("semanticVersion"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        out.tools.push(Tool {
            name: name.to_owned(),
            version,
        });
        let rules = Rules::of(driver);
        let results = match run.get("results") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(malformed(format!("run {r}: \"results\" is not an array"))),
        };
        for result in results {
            let (rule_id, rule) = rules.of_result(result);
            let suppressed = result
                .get("suppressions")
                .and_then(Value::as_array)
                .is_some_and(|s| {
                    s.iter().any(|s| {
                        s.get("status")
                            .and_then(Value::as_str)
                            .is_none_or(|st| st == "accepted")
                    })
                });
            if suppressed {
                out.suppressed += 1;
                continue;
            }
            out.findings += 1;
            let level = level(result, rule);
            let level = match level {
                "error" | "warning" | "note" | "none" => level,
                other => return Err(malformed(format!("run {r}: unknown level {other:?}"))),
            };
            *out.by_level.entry(level.to_owned()).or_default() += 1;
            let sev = security_severity(result, rule);
            if let Some(s) = sev {
                out.max_security_severity =
                    Some(out.max_security_severity.map_or(s, |m: f64| m.max(s)));
                if let Some(b) = band(s) {
                    *out.by_security_severity.entry(b.to_owned()).or_default() += 1;
                }
            }
            *per_rule
                .entry(rule_id.unwrap_or("(no rule)").to_owned())
                .or_default() += 1;
        }
    }
    let mut rules: Vec<RuleCount> = per_rule
        .into_iter()
        .map(|(rule, count)| RuleCount { rule, count })
        .collect();
    rules.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.rule.cmp(&b.rule)));
    rules.truncate(MAX_RULES);
    out.rules = rules;
    Ok(out)
}
