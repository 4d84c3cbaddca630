//! One control: what it declares about itself, and its verdict from its raw outcome, failing
//! closed.

use andon_domain::gate::{ControlResult, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::rego::{strings, to_json};

/// What a control declares about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlMeta {
    /// Stable id (`tests-pass`).
    pub id: String,
    /// Title.
    pub title: String,
    /// The risk it addresses.
    pub risk: String,
    /// Delivery stage: source, build, test, release, operate.
    pub stage: String,
    /// The evidence it relies on.
    pub evidence: Vec<String>,
    /// Framework references (PCI DSS, NIST SP 800-53, SOC 2, SLSA ...).
    pub frameworks: Vec<String>,
    /// Its parameters' defaults.
    #[serde(default)]
    pub params: Value,
    /// The Rego package (`andon.controls.tests_pass`).
    pub package: String,
    /// Whether it gives a `result` (else a Conftest-style `deny` set).
    #[serde(default)]
    pub gives_result: bool,
}

/// A control's raw outcome on the interpreter: its `result` (null when undefined), or its
/// `deny` set as a list (Conftest style).
pub(crate) fn interpret_control(
    engine: &mut regorus::Engine,
    c: &ControlMeta,
) -> Result<Value, String> {
    if c.gives_result {
        return engine
            .eval_rule(format!("data.{}.result", c.package))
            .map(|v| to_json(&v))
            .map(|v| if v.is_object() { v } else { Value::Null })
            .map_err(|e| e.to_string());
    }
    engine
        .eval_query(format!("data.{}.deny", c.package), false)
        .map(|r| {
            r.result
                .first()
                .and_then(|q| q.expressions.first())
                .map_or(Value::Array(Vec::new()), |e| to_json(&e.value))
        })
        .map_err(|e| e.to_string())
}

/// A control's verdict from its raw outcome, failing closed.
pub(crate) fn control_from_raw(c: &ControlMeta, raw: Result<Value, String>) -> ControlResult {
    let base = |verdict, reason: String| ControlResult {
        id: c.id.clone(),
        title: c.title.clone(),
        verdict,
        reason,
        evidence: Vec::new(),
        waiver: None,
    };
    let result = match raw {
        Ok(v) => v,
        Err(e) => {
            return base(
                Verdict::Error,
                format!("the control failed to evaluate: {e}"),
            );
        }
    };
    if c.gives_result {
        if !result.is_object() {
            return base(
                Verdict::Error,
                "the control gave no result for this input (fail closed)".into(),
            );
        }
        let verdict = match result.get("verdict").and_then(Value::as_str) {
            Some("pass") => Verdict::Pass,
            Some("fail") => Verdict::Fail,
            Some("missing") => Verdict::Missing,
            Some("not_applicable") => Verdict::NotApplicable,
            // A control that applied waivers itself (per finding) says which; the engine
            // checks they are among the waivers in force.
            Some("waived") => Verdict::Waived,
            other => {
                return base(
                    Verdict::Error,
                    format!("the control returned an unknown verdict {other:?}"),
                );
            }
        };
        let mut r = base(
            verdict,
            result
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        );
        r.evidence = strings(&result, "evidence").unwrap_or_default();
        if verdict == Verdict::Waived {
            let waivers = strings(&result, "waivers").unwrap_or_default();
            if waivers.is_empty() {
                return base(
                    Verdict::Error,
                    "the control returned a waived verdict without naming its waivers".into(),
                );
            }
            r.waiver = Some(waivers.join(", "));
        }
        return r;
    }
    // Conftest style: a `deny` set of messages (the VM gives null for an undefined set).
    match result {
        Value::Null => base(Verdict::Pass, "no deny rule fired".into()),
        Value::Array(msgs) if msgs.is_empty() => base(Verdict::Pass, "no deny rule fired".into()),
        Value::Array(msgs) => base(
            Verdict::Fail,
            msgs.iter()
                .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => base(
            Verdict::Error,
            "the control defines neither `result` nor a `deny` set".into(),
        ),
    }
}
