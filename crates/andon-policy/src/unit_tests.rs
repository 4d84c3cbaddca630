//! Policy unit tests: a bundle's `test_` rules, run on publication.

use serde::{Deserialize, Serialize};

use crate::bundle::Bundle;
use crate::error::PolicyError;
use crate::policy::Policy;
use crate::rego::package_of;

/// One policy unit test (`test_` rule).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// `package.test_name`.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// The engine's error, if it errored.
    pub error: Option<String>,
}

impl Policy {
    /// Runs the bundle's unit tests: every `test_` rule of every module must be true.
    pub fn run_tests(&self) -> Vec<TestOutcome> {
        let Some(test_re) = regex::Regex::new(r"(?m)^(test_[A-Za-z0-9_]*)\b").ok() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for text in self.bundle.modules.values() {
            let Some(package) = package_of(text) else {
                continue;
            };
            let mut names: Vec<&str> = test_re
                .captures_iter(text)
                .filter_map(|c| c.get(1).map(|m| m.as_str()))
                .collect();
            names.dedup();
            for name in names {
                let full = format!("{package}.{name}");
                let mut engine = self.engine_with(regorus::Value::new_object());
                let outcome = match engine.eval_rule(format!("data.{full}")) {
                    Ok(v) => TestOutcome {
                        name: full,
                        passed: v == regorus::Value::from(true),
                        error: None,
                    },
                    Err(e) => TestOutcome {
                        name: full,
                        passed: false,
                        error: Some(e.to_string()),
                    },
                };
                out.push(outcome);
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Compiles and requires every unit test to pass: what publication checks.
    pub fn validate(bundle: Bundle) -> Result<(Self, Vec<TestOutcome>), PolicyError> {
        let p = Self::compile(bundle)?;
        let tests = p.run_tests();
        let failed: Vec<&str> = tests
            .iter()
            .filter(|t| !t.passed)
            .map(|t| t.name.as_str())
            .collect();
        if !failed.is_empty() {
            return Err(PolicyError::Tests {
                failed: failed.len(),
                total: tests.len(),
                names: failed.join(", "),
            });
        }
        Ok((p, tests))
    }
}
