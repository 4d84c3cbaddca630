//! The built-in control library compiles, declares its metadata, passes its own unit tests,
//! and fails closed.

use andon_policy::{Bundle, Policy, PolicyError, Verdict};
use serde_json::json;

#[test]
fn the_builtin_library_compiles_with_metadata_and_passing_tests() {
    let (p, tests) = Policy::validate(Bundle::builtin_default()).expect("valid");
    let ids: Vec<&str> = p.controls().iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "change-approval",
            "coverage",
            "drill-recent",
            "dynamic-scan",
            "hardening",
            "no-secrets",
            "peer-review",
            "pipeline-reviewed",
            "provenance",
            "sbom",
            "static-analysis",
            "tested-before-production",
            "tests-pass",
            "vulnerabilities"
        ]
    );
    assert!(
        p.controls()
            .iter()
            .all(|c| !c.frameworks.is_empty() && !c.risk.is_empty())
    );
    assert!(tests.len() >= 4, "{tests:?}");
    assert_eq!(p.version.len(), 64);
    // Gates run on the register VM; the library uses nothing its compiler lacks.
    assert!(p.compiled_to_vm());
}

#[test]
fn an_empty_input_denies_with_missing_evidence_never_a_pass() {
    let p = Policy::compile(Bundle::builtin_default()).expect("compiles");
    let e = p.evaluate(&json!({"version": andon_policy::INPUT_VERSION, "evidence": [], "commits": [], "deployments": [], "waivers": [], "artifact": {"digest": "sha256:00"}, "environment": {"name": "production", "production": true}}));
    assert!(!e.allow);
    // The scans a team opts into (require_scan) do not apply without one; every other
    // control misses its evidence.
    let opt_in = ["drill-recent", "dynamic-scan", "hardening", "no-secrets"];
    for c in &e.controls {
        let expected = if opt_in.contains(&c.id.as_str()) {
            Verdict::NotApplicable
        } else {
            Verdict::Missing
        };
        assert_eq!(c.verdict, expected, "{c:#?}");
    }
}

#[test]
fn a_control_that_errors_or_gives_nothing_denies() {
    let mut b = Bundle::builtin_default();
    b.builtin = false;
    b.modules.insert(
        "broken.rego".into(),
        r#"package andon.controls.broken
import rego.v1
metadata := {"id": "broken", "title": "t", "risk": "r", "stage": "test", "evidence": [], "frameworks": ["x"]}
result := {"verdict": "pass"} if input.never_there
"#
        .into(),
    );
    let p = Policy::compile(b).expect("compiles");
    let e = p.evaluate(&json!({}));
    assert!(!e.allow);
    assert_eq!(e.controls[0].verdict, Verdict::Error);
}

#[test]
fn bad_bundles_are_refused_with_the_reason() {
    let mut b = Bundle::builtin_default();
    b.modules.insert(
        "x.rego".into(),
        "package andon.controls.x\nimport rego.v1\nmetadata := {".into(),
    );
    assert!(matches!(
        Policy::compile(b),
        Err(PolicyError::Syntax { .. })
    ));
    let mut b = Bundle::builtin_default();
    b.modules.insert(
        "x.rego".into(),
        "package andon.controls.x\nimport rego.v1\nmetadata := {\"id\": \"x\"}\n".into(),
    );
    let e = Policy::compile(b).err().expect("refused");
    assert!(e.to_string().contains("metadata.title is required"), "{e}");
    let mut b = Bundle::builtin_default();
    b.params.insert("no-such-control".into(), json!({}));
    assert!(
        Policy::compile(b)
            .err()
            .expect("refused")
            .to_string()
            .contains("unknown control")
    );
    let mut b = Bundle::builtin_default();
    b.modules.insert(
        "t.rego".into(),
        "package andon.controls.tests_pass\nimport rego.v1\ntest_wrong if false\n".into(),
    );
    assert!(matches!(
        Policy::validate(b),
        Err(PolicyError::Tests { failed: 1, .. })
    ));
}

#[test]
fn rego_the_vm_cannot_compile_still_gates_on_the_interpreter() {
    let mut b = Bundle::builtin_default();
    b.builtin = false;
    b.modules.insert(
        "with.rego".into(),
        r#"package andon.controls.with_keyword
import rego.v1
metadata := {"id": "with-keyword", "title": "t", "risk": "r", "stage": "test", "evidence": [], "frameworks": ["x"]}
inner := {"verdict": "pass", "reason": sprintf("on %s", [input.environment.name])}
result := r if {
	input.environment.production
	r := inner with input.environment.name as "staging"
}
default result := {"verdict": "fail", "reason": "not production"}
"#
        .into(),
    );
    let p = Policy::compile(b).expect("compiles");
    assert!(
        !p.compiled_to_vm(),
        "`with` is not supported by the VM compiler"
    );
    let e = p.evaluate(&json!({"environment": {"name": "production", "production": true}}));
    assert_eq!(e.controls[0].verdict, Verdict::Pass, "{e:?}");
    assert_eq!(e.controls[0].reason, "on staging");
    let e = p.evaluate(&json!({"environment": {"name": "dev", "production": false}}));
    assert_eq!(e.controls[0].verdict, Verdict::Fail, "{e:?}");
}

#[test]
fn a_team_tuning_parameters_can_still_publish_the_library() {
    // The library's unit tests pin the parameters they assume, so a team's own values do not
    // make the built-in tests fail at publication.
    let mut b = Bundle::builtin_default();
    for (id, p) in [
        (
            "change",
            json!({"standard_types": [], "approvals": 3, "min_deployments": 50}),
        ),
        ("tests-pass", json!({"min_tests": 1000})),
        ("tested-before-production", json!({"environments": ["qa"]})),
        ("coverage", json!({"min_line_coverage": 99})),
    ] {
        b.params.insert(id.into(), p);
    }
    let (p, tests) = Policy::validate(b).expect("valid with tuned parameters");
    assert!(tests.iter().all(|t| t.passed));
    let c = p.classify(&json!({"change_type": "application", "paths": []}));
    assert_eq!(c.class, Some(andon_policy::ChangeClass::Normal));
    assert_eq!(c.approvals, 3);
}
