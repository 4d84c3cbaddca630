//! The sbom control can require SBOMs that validate against their format's official schema:
//! an SBOM recorded leniently with schema errors, or in a form Andon has no schema for, then
//! fails it. By default it only asks for an SBOM that lists components.

use andon_policy::{Bundle, ControlResult, Policy, Verdict};
use serde_json::{Value, json};

fn sbom(id: &str, schema: Option<Value>) -> Value {
    let mut summary = json!({"kind": "sbom", "format": "cyclonedx", "spec_version": "1.6",
        "components": 4, "with_purl": 4, "without_license": 0, "licenses": {}, "listed": []});
    if let Some(s) = schema {
        summary["schema"] = s;
    }
    json!({"id": id, "kind": "sbom", "summary": summary})
}

fn valid() -> Value {
    json!({"schema": "CycloneDX 1.6", "valid": true, "error_count": 0, "errors": []})
}

fn invalid() -> Value {
    json!({"schema": "CycloneDX 1.6", "valid": false, "error_count": 1,
           "errors": [{"path": "/components/0/hashes/2/content", "message": "\"foo\" does not match"}]})
}

fn control(evidence: Vec<Value>, require: Option<bool>) -> ControlResult {
    let mut bundle = Bundle::builtin_default();
    if let Some(r) = require {
        bundle
            .params
            .insert("sbom".into(), json!({"require_valid_schema": r}));
    }
    let p = Policy::compile(bundle).expect("compiles");
    let input = json!({"version": andon_policy::INPUT_VERSION, "evidence": evidence,
        "commits": [], "deployments": [], "waivers": [],
        "artifact": {"digest": "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"},
        "environment": {"name": "production", "production": true}});
    p.evaluate(&input)
        .controls
        .into_iter()
        .find(|c| c.id == "sbom")
        .expect("the control")
}

#[test]
fn by_default_an_sbom_with_schema_errors_still_passes() {
    let c = control(vec![sbom("aaaaaaaaaaaa", Some(invalid()))], None);
    assert_eq!(c.verdict, Verdict::Pass, "{}", c.reason);
}

#[test]
fn required_valid_schemas_fail_an_invalid_or_unvalidated_sbom_naming_it() {
    let c = control(
        vec![
            sbom("aaaaaaaaaaaaaaaa", Some(valid())),
            sbom("bbbbbbbbbbbbbbbb", Some(invalid())),
            sbom("cccccccccccccccc", None),
        ],
        Some(true),
    );
    assert_eq!(c.verdict, Verdict::Fail, "{}", c.reason);
    assert_eq!(
        c.reason,
        "2 of 3 SBOMs not validated against their schema: bbbbbbbbbb, cccccccccc"
    );
}

#[test]
fn required_valid_schemas_pass_when_every_sbom_validates() {
    let c = control(vec![sbom("aaaaaaaaaaaa", Some(valid()))], Some(true));
    assert_eq!(c.verdict, Verdict::Pass, "{}", c.reason);
}
