//! Change classification: the bundle's change rules class a production change
//! (docs/changes.md).

use andon_domain::change::{ChangeClass, Classification};
use serde_json::Value;

use crate::policy::Policy;
use crate::rego::to_json;

impl Policy {
    /// Classes a production change with the bundle's change rules (`data.andon.change.
    /// classification`, docs/changes.md). A bundle without change rules, or rules that error
    /// or decide nothing, make it `normal` with one approval: never less control than asked.
    pub fn classify(&self, input: &Value) -> Classification {
        let mut engine = self.engine_with(crate::evaluate::engine_value(input));
        let fallback = |why: String| Classification {
            class: Some(ChangeClass::Normal),
            approvals: 1,
            reasons: vec![why],
            ..Default::default()
        };
        match engine.eval_rule("data.andon.change.classification".into()) {
            Ok(v) => {
                let v = to_json(&v);
                match serde_json::from_value::<Classification>(v) {
                    Ok(c) if c.class.is_some() => c,
                    _ => fallback(format!(
                        "policy {} decides no class for this change: normal by default",
                        self.name
                    )),
                }
            }
            Err(e) => fallback(format!(
                "the change rules of policy {} failed ({e}): normal by default",
                self.name
            )),
        }
    }
}
