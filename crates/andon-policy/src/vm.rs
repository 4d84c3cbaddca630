//! The fast path: a bundle's controls compiled to regorus's register VM (RVM).
//!
//! The interpreter stays the reference (policy unit tests, the fallback, and in debug builds
//! a cross-check of every evaluation); the VM evaluates every control in one run of one
//! program, so the helpers controls share (the library's evidence lookups) run once, and
//! costs about a third of the interpreter's time on a realistic gate input (BENCHMARKS.md).
//! Rego the compiler does not support yet (`with`, some partial-rule shapes) is not an
//! error: the bundle is then evaluated by the interpreter only.

use std::sync::Arc;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::{Program, RegoVM};
use regorus::{CompiledPolicy, Value};

use crate::control::ControlMeta;

/// The package of the generated entry module (not a valid package for a bundle's own
/// modules to collide with: bundles' controls live under `andon.controls.`).
const ENTRY_PACKAGE: &str = "andon_runtime.gate";
/// Instructions one evaluation may execute: generous (a large input with the whole
/// library runs about 10^5), still a bound on a runaway policy.
const MAX_INSTRUCTIONS: usize = 50_000_000;

/// A bundle compiled for the VM.
#[derive(Clone)]
pub(crate) struct Compiled {
    policy: CompiledPolicy,
    program: Arc<Program>,
    data: Value,
}

/// The entry module: one rule per control (its `result`, or its `deny` set), null when
/// undefined, and `results`, the list of them in the controls' order.
fn entry_module(controls: &[&ControlMeta]) -> String {
    let mut m = format!("package {ENTRY_PACKAGE}\n\nimport rego.v1\n\n");
    let mut names = Vec::new();
    for (i, c) in controls.iter().enumerate() {
        let rule = if c.gives_result { "result" } else { "deny" };
        m.push_str(&format!(
            "default c{i} := null\n\nc{i} := data.{}.{rule}\n\n",
            c.package
        ));
        names.push(format!("c{i}"));
    }
    m.push_str(&format!("results := [{}]\n", names.join(", ")));
    m
}

impl Compiled {
    /// Compiles `engine`'s modules (already loaded, data included) for `controls`; `None`
    /// when the VM compiler does not support something the bundle uses.
    pub(crate) fn new(
        engine: &regorus::Engine,
        data: Value,
        controls: &[&ControlMeta],
    ) -> Option<Self> {
        let mut engine = engine.clone();
        engine
            .add_policy("andon-runtime-entry.rego".into(), entry_module(controls))
            .ok()?;
        let entry = format!("data.{ENTRY_PACKAGE}.results");
        let policy = engine
            .compile_with_entrypoint(&entry.as_str().into())
            .ok()?;
        let program = Compiler::compile_from_policy(&policy, &[entry.as_str()]).ok()?;
        Some(Self {
            policy,
            program,
            data,
        })
    }

    /// Evaluates every control: one raw result per control (its `result` object, or its
    /// `deny` set), in the order given at compilation; `None` if the VM failed.
    pub(crate) fn run(&self, input: Value) -> Option<Vec<serde_json::Value>> {
        let mut vm = RegoVM::new_with_policy(self.policy.clone());
        vm.load_program(self.program.clone());
        vm.set_max_instructions(MAX_INSTRUCTIONS);
        vm.set_data(self.data.clone()).ok()?;
        vm.set_input(input);
        let out = vm
            .execute_entry_point_by_name(&format!("data.{ENTRY_PACKAGE}.results"))
            .ok()?;
        match serde_json::to_value(&out).ok()? {
            serde_json::Value::Array(a) => Some(a),
            _ => None,
        }
    }
}
