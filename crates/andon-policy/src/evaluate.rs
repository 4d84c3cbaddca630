//! Evaluation: every enabled control against a gate input, on the register VM or the
//! interpreter, then control-level waivers, into the gate's verdict.

use andon_domain::gate::{ControlResult, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::control::{control_from_raw, interpret_control};
use crate::policy::Policy;

/// The fields by which a waiver names one finding of a control (a vulnerability id, a
/// secret's fingerprint, a dynamic scan's alert) rather than the whole control: such a waiver
/// only waives what the control itself says it covers.
pub const FINDING_FIELDS: &[&str] = &["vulnerability", "fingerprint", "alert"];

/// The version of the gate input document policies see (see docs/gates.md).
pub const INPUT_VERSION: &str = "andon.gate/v1";

/// The controls an emergency change does not set aside by default: an emergency shortens
/// who must agree, not where the artifact was built.
pub const EMERGENCY_BLOCKING: &[&str] = &["provenance"];

/// A gate's outcome: allow only if every control allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Allow or deny.
    pub allow: bool,
    /// Per control, in id order.
    pub controls: Vec<ControlResult>,
}

impl Policy {
    /// Evaluates every enabled control against a gate input: on the register VM when the
    /// bundle compiled to it, on the interpreter otherwise or if the VM fails. Debug builds
    /// evaluate on both and insist they agree.
    pub fn evaluate(&self, input: &Value) -> Evaluation {
        self.evaluate_engine(input, engine_value(input))
    }

    /// [`Policy::evaluate`] on an input given in two parts: `rest`, an object of every
    /// member but those in `prepared`, and `prepared`, those already in the engine's values
    /// (debug builds check that the input so assembled is the whole input converted). The
    /// waivers and the change record are read from `rest`.
    pub fn evaluate_prepared(&self, rest: &Value, prepared: &[(&str, &Prepared)]) -> Evaluation {
        self.evaluate_engine(rest, engine_value_with(rest, prepared))
    }

    /// [`Policy::evaluate`] of `engine`, the input in the engine's values; `input` holds at
    /// least its waivers and change record.
    fn evaluate_engine(&self, input: &Value, engine: regorus::Value) -> Evaluation {
        let fast = self
            .vm
            .as_ref()
            // A clone of the engine's value is a reference count.
            .and_then(|vm| vm.run(engine.clone()))
            .map(|raw| {
                let controls = self.controls();
                let results = controls
                    .iter()
                    .zip(raw)
                    .map(|(c, r)| control_from_raw(c, Ok(r)))
                    .collect();
                self.waive(input, results)
            });
        match fast {
            Some(e) => {
                debug_assert_eq!(
                    e,
                    self.interpret(input, engine),
                    "the register VM and the interpreter disagree"
                );
                e
            }
            None => self.interpret(input, engine),
        }
    }

    /// Evaluates every enabled control on the interpreter, control by control: the reference
    /// semantics (and the path for Rego the VM compiler does not support).
    pub fn evaluate_interpreted(&self, input: &Value) -> Evaluation {
        self.interpret(input, engine_value(input))
    }

    /// [`Policy::evaluate_interpreted`] of `engine`, the input in the engine's values.
    fn interpret(&self, input: &Value, engine: regorus::Value) -> Evaluation {
        let mut engine = self.engine_with(engine);
        let results = self
            .controls()
            .into_iter()
            .map(|c| control_from_raw(c, interpret_control(&mut engine, c)))
            .collect();
        self.waive(input, results)
    }

    /// The controls an emergency change does not set aside: the bundle's
    /// `params.change.emergency_blocking`, [`EMERGENCY_BLOCKING`] by default.
    pub fn emergency_blocking(&self) -> Vec<String> {
        self.bundle
            .params
            .get(crate::CHANGE_PARAMS)
            .and_then(|p| p.get("emergency_blocking"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_else(|| EMERGENCY_BLOCKING.iter().map(|s| (*s).to_owned()).collect())
    }

    /// Applies control-level waivers to `fail` and `missing` verdicts, then an emergency
    /// change's deferral (docs/changes.md), and decides.
    fn waive(&self, input: &Value, mut results: Vec<ControlResult>) -> Evaluation {
        let waivers: Vec<&Value> = input
            .get("waivers")
            .and_then(Value::as_array)
            .map(|w| w.iter().collect())
            .unwrap_or_default();
        for r in &mut results {
            // A control's own waived verdict stands only on waivers in force for it.
            if r.verdict == Verdict::Waived
                && let Some(named) = r.waiver.clone()
            {
                let unknown: Vec<&str> = named
                    .split(", ")
                    .filter(|id| {
                        !waivers.iter().any(|w| {
                            w.get("id").and_then(Value::as_str) == Some(*id)
                                && w.get("control").and_then(Value::as_str) == Some(r.id.as_str())
                        })
                    })
                    .collect();
                if !unknown.is_empty() {
                    r.reason = format!(
                        "the control named waivers not in force for it ({}): {}",
                        unknown.join(", "),
                        r.reason
                    );
                    r.verdict = Verdict::Error;
                    r.waiver = None;
                }
                continue;
            }
            if matches!(r.verdict, Verdict::Fail | Verdict::Missing)
                && let Some(w) = waivers.iter().find(|w| {
                    w.get("control").and_then(Value::as_str) == Some(r.id.as_str())
                        && FINDING_FIELDS
                            .iter()
                            .all(|f| w.get(*f).is_none_or(Value::is_null))
                })
            {
                let id = w.get("id").and_then(Value::as_str).unwrap_or("?");
                r.reason = format!(
                    "waived by {id} ({}; ticket {}; until {}): {}",
                    w.get("reason").and_then(Value::as_str).unwrap_or(""),
                    w.get("ticket").and_then(Value::as_str).unwrap_or("-"),
                    w.get("expires_at").and_then(Value::as_str).unwrap_or("-"),
                    r.reason
                );
                r.verdict = Verdict::Waived;
                r.waiver = Some(id.to_owned());
            }
        }
        self.defer_to_emergency(input, &mut results);
        Evaluation {
            allow: results.iter().all(|r| r.verdict.allows()),
            controls: results,
        }
    }

    /// Under an emergency change (`input.change.class == "emergency"`), a control that
    /// failed or lacked evidence is deferred to the change's review: its verdict becomes
    /// `waived`, the waiver being the change, unless the policy lists it in
    /// `emergency_blocking`. An error stays an error (fail closed).
    fn defer_to_emergency(&self, input: &Value, results: &mut [ControlResult]) {
        let change = &input["change"];
        if change["class"] != "emergency" {
            return;
        }
        let id = change["id"].as_str().unwrap_or("?");
        let blocking = self.emergency_blocking();
        for r in results.iter_mut() {
            if matches!(r.verdict, Verdict::Fail | Verdict::Missing)
                && !blocking.iter().any(|b| b == &r.id)
            {
                r.reason = format!(
                    "deferred to the review of emergency change {id} ({}; review due by {}): {}",
                    change["emergency_reason"].as_str().unwrap_or(""),
                    change["review_due_at"].as_str().unwrap_or("-"),
                    r.reason
                );
                r.verdict = Verdict::Waived;
                r.waiver = Some(id.to_owned());
            }
        }
    }
}
/// The engine's value of a JSON input, read from it in place: `regorus::Value::from` takes
/// the tree by value, which made every evaluation copy the whole input first. Unreadable
/// input is undefined, as there.
pub(crate) fn engine_value(input: &Value) -> regorus::Value {
    regorus::Value::deserialize(input).unwrap_or(regorus::Value::Undefined)
}

/// A value converted once into the engine's values, for the evaluations that share it (the
/// evidence a gate kept for an artifact): converting a gate's input costs about as much CPU
/// as evaluating it. Cheap to clone (the engine's values are reference counted).
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    engine: regorus::Value,
    /// The value itself, for the debug builds' check of every assembled input.
    #[cfg(debug_assertions)]
    json: Value,
}

impl Prepared {
    /// `value` in the engine's values.
    pub fn of(value: &Value) -> Self {
        Self {
            engine: engine_value(value),
            #[cfg(debug_assertions)]
            json: value.clone(),
        }
    }
}

/// The input in the engine's values: the members of `rest` converted, and those of
/// `prepared` added.
fn engine_value_with(rest: &Value, prepared: &[(&str, &Prepared)]) -> regorus::Value {
    let mut object: std::collections::BTreeMap<regorus::Value, regorus::Value> = rest
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (regorus::Value::from(k.as_str()), engine_value(v)))
        .collect();
    for (k, p) in prepared {
        let replaced = object.insert(regorus::Value::from(*k), p.engine.clone());
        debug_assert!(replaced.is_none(), "{k} is both prepared and in the rest");
    }
    let assembled = regorus::Value::from(object);
    #[cfg(debug_assertions)]
    {
        let mut whole = rest.as_object().cloned().unwrap_or_default();
        for (k, p) in prepared {
            whole.insert((*k).to_owned(), p.json.clone());
        }
        assert_eq!(
            assembled,
            engine_value(&Value::Object(whole)),
            "an input assembled from prepared members differs from the input converted whole"
        );
    }
    assembled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_read_in_place_is_the_value_made_from_a_copy() {
        let input = serde_json::json!({
            "n": 1, "neg": -7, "big": 18446744073709551615u64, "f": 0.25, "t": true, "z": null,
            "s": "caf\u{e9}", "a": [1, "x", {"k": [null, 2.5]}], "o": {"": {}, "b": []},
        });
        assert_eq!(engine_value(&input), regorus::Value::from(input.clone()));
        assert_ne!(engine_value(&input), regorus::Value::Undefined);
    }

    #[test]
    fn an_input_assembled_from_prepared_members_is_the_input_converted_whole() {
        let whole = serde_json::json!({
            "evidence": [{"kind": "tests", "summary": {"failed": 0}}], "time": "t", "n": 2,
        });
        let rest = serde_json::json!({"time": "t", "n": 2});
        let evidence = Prepared::of(&whole["evidence"]);
        let assembled = engine_value_with(&rest, &[("evidence", &evidence)]);
        assert_eq!(assembled, engine_value(&whole));
        assert_ne!(assembled, engine_value(&rest));
    }
}
