//! Chef InSpec's JSON: the `json` reporter's `{"platform", "profiles": [{"controls":
//! [{"id", "results": [{"status"}]}]}], "version"}` (a control's own `status` when run with
//! `--enhanced-outcomes`), and the `json-min` reporter's flat `{"controls": [{"id",
//! "profile_id", "status"}], "version"}`, one entry per result.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{HardeningSummary, Outcome, Rules, sorted_targets};
use crate::ParseError;

const FORMAT: &str = "InSpec JSON";
const ACCEPTS: &str = "Nmap XML, XCCDF results (plain or ARF) or InSpec JSON (`--reporter json` \
                       or `json-min`)";

fn malformed(message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: FORMAT,
        line: 0,
        message: message.into(),
    }
}

/// An array field, absent or null read as empty.
fn array<'a>(v: &'a Value, key: &str, whose: &str) -> Result<&'a [Value], ParseError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(malformed(format!("{whose}: \"{key}\" is not an array"))),
    }
}

/// Parses InSpec's `json` or `json-min` reporter output.
pub(super) fn parse(doc: &[u8]) -> Result<HardeningSummary, ParseError> {
    let v = crate::json_doc(doc, "hardening scan", ACCEPTS)?;
    let mut s = HardeningSummary {
        format: "inspec".into(),
        tool: "inspec".into(),
        tool_version: v.get("version").and_then(Value::as_str).map(str::to_owned),
        ..Default::default()
    };
    let mut rules = Rules::default();
    let mut profiles = BTreeSet::new();
    if v.get("profiles").is_some() {
        for (p, profile) in array(&v, "profiles", "the report")?.iter().enumerate() {
            let top = profile.get("parent_profile").is_none_or(Value::is_null);
            if let (true, Some(name)) = (top, profile.get("name").and_then(Value::as_str)) {
                profiles.insert(name.to_owned());
            }
            for (c, control) in array(profile, "controls", &format!("profile {p}"))?
                .iter()
                .enumerate()
            {
                let whose = format!("profile {p}, control {c}");
                let id = control
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed(format!("{whose} has no id")))?;
                if let Some(outcome) = control_outcome(control, &whose)? {
                    rules.add(FORMAT, id, outcome)?;
                }
            }
        }
        let target = v.pointer("/platform/target_id").and_then(Value::as_str);
        let targets = target.filter(|t| !t.is_empty()).map(str::to_owned);
        s.targets = sorted_targets(targets.into_iter().collect());
    } else if let Some(Value::Array(controls)) = v.get("controls") {
        for (c, control) in controls.iter().enumerate() {
            let id = control
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("control {c} has no id")))?;
            let status = control
                .get("status")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("control {c} has no status")))?;
            rules.add(FORMAT, id, result_outcome(status, &format!("control {c}"))?)?;
            if let Some(p) = control.get("profile_id").and_then(Value::as_str) {
                profiles.insert(p.to_owned());
            }
        }
    } else {
        return Err(ParseError::Malformed {
            format: "hardening scan",
            line: 0,
            message: format!(
                "JSON without InSpec's \"profiles\" (json reporter) or \"controls\" (json-min); \
                 a hardening scan is {ACCEPTS}"
            ),
        });
    }
    if !profiles.is_empty() {
        s.profile = Some(profiles.into_iter().collect::<Vec<_>>().join(", "));
    }
    rules.fill(&mut s);
    Ok(s)
}

/// A control's outcome: its own enhanced-outcome `status` if it has one, else from its
/// results; `None` when it has neither (a control not run).
fn control_outcome(control: &Value, whose: &str) -> Result<Option<Outcome>, ParseError> {
    if let Some(status) = control.get("status").and_then(Value::as_str) {
        return Ok(Some(match status {
            "passed" => Outcome::Pass,
            "failed" | "error" => Outcome::Fail,
            "not_applicable" | "not_reviewed" | "skipped" => Outcome::Other,
            other => {
                return Err(malformed(format!(
                    "{whose}: {other:?} is not an InSpec control status"
                )));
            }
        }));
    }
    let results = array(control, "results", whose)?;
    let mut outcome: Option<Outcome> = None;
    for (r, result) in results.iter().enumerate() {
        let status = result
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed(format!("{whose}, result {r} has no status")))?;
        let o = result_outcome(status, &format!("{whose}, result {r}"))?;
        outcome = Some(outcome.map_or(o, |cur| cur.max(o)));
    }
    Ok(outcome)
}

/// The outcome of one InSpec result status.
fn result_outcome(status: &str, whose: &str) -> Result<Outcome, ParseError> {
    match status {
        "passed" => Ok(Outcome::Pass),
        "failed" | "error" => Ok(Outcome::Fail),
        "skipped" => Ok(Outcome::Other),
        other => Err(malformed(format!(
            "{whose}: {other:?} is not an InSpec result status"
        ))),
    }
}
