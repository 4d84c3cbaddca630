//! Controls as Rego policies, evaluated into release-gate verdicts.
//!
//! A **control** is a Rego package under `andon.controls.` that defines `metadata` (id,
//! title, risk, stage, the evidence it needs, framework references, default parameters) and
//! either `result` (`{"verdict", "reason", "evidence"}`) or, as Conftest policies do, a
//! `deny` set of messages (empty: pass). A **bundle** is a named set of modules with the
//! applications and environments it applies to, parameters per control, and whether the
//! built-in library is included; its version is the SHA-256 of its resolved JSON, so a
//! decision names exactly the policy text it used.
//!
//! Evaluation fails closed: a control that errors, or gives no result, denies and says why.
//! Missing evidence is a `missing` verdict, which denies too. A control-level waiver turns a
//! `fail` or `missing` into `waived`. This crate is pure: it never reads files or the clock;
//! the gate input carries everything.

use std::collections::BTreeMap;

pub use andon_domain::change::{ChangeClass, Classification};
pub use andon_domain::gate::{ControlResult, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

mod vm;

/// The key of the change rules' parameters in a bundle's `params` (docs/changes.md).
pub const CHANGE_PARAMS: &str = "change";

/// The version of the gate input document policies see (see docs/gates.md).
pub const INPUT_VERSION: &str = "andon.gate/v1";

/// The built-in control library: (module path, Rego source).
pub const BUILTIN: &[(&str, &str)] = &[
    ("builtin/lib.rego", include_str!("builtin/lib.rego")),
    (
        "builtin/peer_review.rego",
        include_str!("builtin/peer_review.rego"),
    ),
    (
        "builtin/pipeline_reviewed.rego",
        include_str!("builtin/pipeline_reviewed.rego"),
    ),
    (
        "builtin/tests_pass.rego",
        include_str!("builtin/tests_pass.rego"),
    ),
    (
        "builtin/coverage.rego",
        include_str!("builtin/coverage.rego"),
    ),
    (
        "builtin/static_analysis.rego",
        include_str!("builtin/static_analysis.rego"),
    ),
    ("builtin/sbom.rego", include_str!("builtin/sbom.rego")),
    (
        "builtin/vulnerabilities.rego",
        include_str!("builtin/vulnerabilities.rego"),
    ),
    (
        "builtin/provenance.rego",
        include_str!("builtin/provenance.rego"),
    ),
    (
        "builtin/tested_before_production.rego",
        include_str!("builtin/tested_before_production.rego"),
    ),
    (
        "builtin/change_approval.rego",
        include_str!("builtin/change_approval.rego"),
    ),
    ("builtin/change.rego", include_str!("builtin/change.rego")),
];

/// Why a policy was refused or could not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// A module does not parse or compile.
    #[error("{module}: {message}")]
    Syntax {
        /// The module path.
        module: String,
        /// The engine's message.
        message: String,
    },
    /// A control lacks required metadata.
    #[error("control package {package}: {message}")]
    Metadata {
        /// The Rego package.
        package: String,
        /// What is missing.
        message: String,
    },
    /// The bundle itself is malformed.
    #[error("bundle: {0}")]
    Bundle(String),
    /// Unit tests of the bundle failed.
    #[error("{failed} of {total} policy tests failed: {names}")]
    Tests {
        /// How many failed.
        failed: usize,
        /// How many ran.
        total: usize,
        /// Which.
        names: String,
    },
}

fn yes() -> bool {
    true
}

/// A policy set as published: modules, scope and parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// A name people recognise (`payments-production`).
    pub name: String,
    /// The applications it applies to; empty for all.
    #[serde(default)]
    pub applications: Vec<String>,
    /// The environments it applies to; empty for all.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Include the built-in control library (resolved into `modules` on publication).
    #[serde(default = "yes")]
    pub builtin: bool,
    /// Control ids not evaluated.
    #[serde(default)]
    pub disabled: Vec<String>,
    /// Parameters per control id, overriding each control's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Rego modules by path.
    #[serde(default)]
    pub modules: BTreeMap<String, String>,
}

impl Bundle {
    /// The built-in library with its default parameters, for every application and
    /// environment.
    pub fn builtin_default() -> Self {
        Self {
            name: "builtin".into(),
            applications: Vec::new(),
            environments: Vec::new(),
            builtin: true,
            disabled: Vec::new(),
            params: BTreeMap::new(),
            modules: BTreeMap::new(),
        }
    }

    /// The bundle with the built-in modules copied in (a module of the same path in the
    /// bundle wins), so that it is self-contained: its text alone reproduces a decision.
    pub fn resolved(mut self) -> Self {
        if self.builtin {
            for (path, text) in BUILTIN {
                self.modules
                    .entry((*path).to_owned())
                    .or_insert_with(|| (*text).to_owned());
            }
            self.builtin = false;
        }
        self
    }

    /// The canonical bytes of the bundle (maps are ordered).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Whether it applies to an application and environment, and how specifically: see
    /// [`specificity`].
    pub fn specificity(&self, application: &str, environment: &str) -> Option<u8> {
        specificity(
            &self.applications,
            &self.environments,
            application,
            environment,
        )
    }
}

/// Whether a scope (applications, environments; empty for all) covers an application and
/// environment, and how specifically: 2 for a named application, plus 1 for a named
/// environment.
pub fn specificity(
    applications: &[String],
    environments: &[String],
    application: &str,
    environment: &str,
) -> Option<u8> {
    let app = applications.is_empty() || applications.iter().any(|a| a == application);
    let env = environments.is_empty() || environments.iter().any(|e| e == environment);
    (app && env)
        .then(|| 2 * u8::from(!applications.is_empty()) + u8::from(!environments.is_empty()))
}

/// The version of a bundle's bytes: SHA-256, hex.
pub fn version_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

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

/// A gate's outcome: allow only if every control allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Allow or deny.
    pub allow: bool,
    /// Per control, in id order.
    pub controls: Vec<ControlResult>,
}

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

/// A compiled policy bundle, ready to evaluate.
#[derive(Clone)]
pub struct Policy {
    /// The bundle's name.
    pub name: String,
    /// The version (SHA-256 of the resolved bundle's bytes).
    pub version: String,
    /// The resolved bundle.
    pub bundle: Bundle,
    engine: regorus::Engine,
    controls: Vec<ControlMeta>,
    /// The enabled controls compiled for the register VM, when the compiler supports them.
    vm: Option<vm::Compiled>,
}

fn string_list(v: &Value, key: &str, package: &str) -> Result<Vec<String>, PolicyError> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .ok_or_else(|| PolicyError::Metadata {
            package: package.to_owned(),
            message: format!("metadata.{key} must be a list of strings"),
        })
}

fn to_json(v: &regorus::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl Policy {
    /// Compiles a bundle (resolving the built-in library first) and reads each control's
    /// metadata. Refuses modules that do not parse, controls without the required metadata,
    /// duplicate control ids, and parameters for unknown controls.
    pub fn compile(bundle: Bundle) -> Result<Self, PolicyError> {
        let bundle = bundle.resolved();
        if bundle.name.trim().is_empty()
            || bundle.name.len() > 128
            || bundle.name.trim() != bundle.name
            || bundle.name.chars().any(char::is_control)
        {
            return Err(PolicyError::Bundle(
                "a name is 1 to 128 characters, without control characters or surrounding spaces"
                    .into(),
            ));
        }
        let version = version_of(&bundle.to_bytes());
        let mut engine = regorus::Engine::new();
        for (path, text) in &bundle.modules {
            engine
                .add_policy(path.clone(), text.clone())
                .map_err(|e| PolicyError::Syntax {
                    module: path.clone(),
                    message: e.to_string(),
                })?;
        }
        let params = regorus::Value::from(serde_json::json!({"andon": {"params": bundle.params}}));
        engine
            .add_data(params.clone())
            .map_err(|e| PolicyError::Bundle(format!("parameters: {e}")))?;
        let mut packages = engine
            .get_packages()
            .map_err(|e| PolicyError::Bundle(e.to_string()))?;
        packages.sort();
        packages.dedup();
        let mut controls: Vec<ControlMeta> = Vec::new();
        for p in packages {
            let package = p.trim_start_matches("data.").to_owned();
            if !package.starts_with("andon.controls.") {
                continue;
            }
            // Evaluating on the engine itself prepares it once: its clones, one per
            // evaluation, then start prepared (measured: 2 ms per evaluation otherwise).
            let meta = engine
                .eval_rule(format!("data.{package}.metadata"))
                .map_err(|e| PolicyError::Metadata {
                    package: package.clone(),
                    message: e.to_string(),
                })?;
            let meta = to_json(&meta);
            let text = |k: &str| -> Result<String, PolicyError> {
                meta.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| PolicyError::Metadata {
                        package: package.clone(),
                        message: format!("metadata.{k} is required (a non-empty string)"),
                    })
            };
            let sources: Vec<&String> = bundle
                .modules
                .values()
                .filter(|t| package_of(t).as_deref() == Some(package.as_str()))
                .collect();
            let declares = |rule: &str| {
                let re = regex::Regex::new(&format!(r"(?m)^{rule}\b")).ok();
                re.is_some_and(|re| sources.iter().any(|t| re.is_match(t)))
            };
            let gives_result = declares("result");
            let gives_deny = declares("deny");
            let control = ControlMeta {
                id: text("id")?,
                title: text("title")?,
                risk: text("risk")?,
                stage: text("stage")?,
                evidence: string_list(&meta, "evidence", &package)?,
                frameworks: string_list(&meta, "frameworks", &package)?,
                params: meta.get("params").cloned().unwrap_or(Value::Null),
                package: package.clone(),
                gives_result,
            };
            if !gives_result && !gives_deny {
                return Err(PolicyError::Metadata {
                    package,
                    message: "a control defines `result` or a `deny` set".into(),
                });
            }
            if controls.iter().any(|c| c.id == control.id) {
                return Err(PolicyError::Metadata {
                    package,
                    message: format!("control id {} is defined twice", control.id),
                });
            }
            controls.push(control);
        }
        if controls.is_empty() {
            return Err(PolicyError::Bundle(
                "no control: a control is a package under andon.controls. with metadata".into(),
            ));
        }
        let tuned = bundle.params.keys().filter(|k| k.as_str() != CHANGE_PARAMS);
        for id in tuned.chain(bundle.disabled.iter()) {
            if !controls.iter().any(|c| &c.id == id) {
                return Err(PolicyError::Bundle(format!(
                    "parameters or disabled entry for unknown control {id:?}"
                )));
            }
        }
        controls.sort_by(|a, b| a.id.cmp(&b.id));
        let enabled: Vec<&ControlMeta> = controls
            .iter()
            .filter(|c| !bundle.disabled.contains(&c.id))
            .collect();
        let vm = vm::Compiled::new(&engine, params, &enabled);
        Ok(Self {
            name: bundle.name.clone(),
            version,
            bundle,
            engine,
            controls,
            vm,
        })
    }

    /// The controls it evaluates (enabled ones), in id order.
    pub fn controls(&self) -> Vec<&ControlMeta> {
        self.controls
            .iter()
            .filter(|c| !self.bundle.disabled.contains(&c.id))
            .collect()
    }

    /// Whether evaluation runs on the register VM (else on the interpreter only).
    pub fn compiled_to_vm(&self) -> bool {
        self.vm.is_some()
    }

    /// Evaluates every enabled control against a gate input: on the register VM when the
    /// bundle compiled to it, on the interpreter otherwise or if the VM fails. Debug builds
    /// evaluate on both and insist they agree.
    pub fn evaluate(&self, input: &Value) -> Evaluation {
        let fast = self
            .vm
            .as_ref()
            .and_then(|vm| vm.run(regorus::Value::from(input.clone())))
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
                    self.evaluate_interpreted(input),
                    "the register VM and the interpreter disagree"
                );
                e
            }
            None => self.evaluate_interpreted(input),
        }
    }

    /// Evaluates every enabled control on the interpreter, control by control: the reference
    /// semantics (and the path for Rego the VM compiler does not support).
    pub fn evaluate_interpreted(&self, input: &Value) -> Evaluation {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input.clone()));
        let results = self
            .controls()
            .into_iter()
            .map(|c| control_from_raw(c, interpret_control(&mut engine, c)))
            .collect();
        self.waive(input, results)
    }

    /// Applies control-level waivers to `fail` and `missing` verdicts and decides.
    fn waive(&self, input: &Value, mut results: Vec<ControlResult>) -> Evaluation {
        let waivers: Vec<&Value> = input
            .get("waivers")
            .and_then(Value::as_array)
            .map(|w| w.iter().collect())
            .unwrap_or_default();
        for r in &mut results {
            if matches!(r.verdict, Verdict::Fail | Verdict::Missing)
                && let Some(w) = waivers.iter().find(|w| {
                    w.get("control").and_then(Value::as_str) == Some(r.id.as_str())
                        && w.get("vulnerability").is_none_or(Value::is_null)
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
        Evaluation {
            allow: results.iter().all(|r| r.verdict.allows()),
            controls: results,
        }
    }

    /// Classes a production change with the bundle's change rules (`data.andon.change.
    /// classification`, docs/changes.md). A bundle without change rules, or rules that error
    /// or decide nothing, make it `normal` with one approval: never less control than asked.
    pub fn classify(&self, input: &Value) -> Classification {
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::from(input.clone()));
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
                let mut engine = self.engine.clone();
                engine.set_input(regorus::Value::new_object());
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

/// The package a module declares.
fn package_of(text: &str) -> Option<String> {
    regex::Regex::new(r"(?m)^package\s+([A-Za-z0-9_.]+)")
        .ok()?
        .captures(text)?
        .get(1)
        .map(|m| m.as_str().to_owned())
}

/// A control's raw outcome on the interpreter: its `result` (null when undefined), or its
/// `deny` set as a list (Conftest style).
fn interpret_control(engine: &mut regorus::Engine, c: &ControlMeta) -> Result<Value, String> {
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
fn control_from_raw(c: &ControlMeta, raw: Result<Value, String>) -> ControlResult {
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
        r.evidence = result
            .get("evidence")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
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
