//! Release gates through the real HTTP path, on both backends: every built-in control passes,
//! fails and reports missing evidence; waivers; custom OPA-style policies.

use crate::common::release::{CONTROLS, Twist, World, verdict, world, world_with};
use andon_client::{Client, ClientError};
use andon_domain::Sha256Digest;
use andon_domain::api::{GateRequest, WaiverRequest};
use andon_domain::gate::Verdict;
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use serde_json::json;

fn every_builtin_control_passes_fails_and_reports_missing_evidence(b: Backend) {
    let w = world(b);
    // Everything holds: allowed, each control passing, evidence ids named.
    let good = w.release("pay-1.0.0", Twist::None);
    let d = w.gate(&good, "production");
    for c in &d.decision.controls {
        // The scans a team opts into do not apply to a release that carries none, nor
        // drills to an application with no risk level.
        let expected = if ["no-secrets", "dynamic-scan", "hardening", "drill-recent"]
            .contains(&c.id.as_str())
        {
            Verdict::NotApplicable
        } else {
            Verdict::Pass
        };
        assert_eq!(c.verdict, expected, "{}: {}", c.id, c.reason);
    }
    assert!(d.decision.allow);
    assert_eq!(d.decision.policy.name, "builtin");
    assert!(
        !d.decision
            .controls
            .iter()
            .find(|c| c.id == "tests-pass")
            .expect("tests")
            .evidence
            .is_empty()
    );
    assert_eq!(
        verdict(&d, "peer-review").1,
        "approved by bob on the merged head"
    );

    // Each control on its own: missing evidence denies with "missing", bad evidence fails.
    for control in CONTROLS {
        let artifact = w.release(&format!("pay-missing-{control}"), Twist::Missing(control));
        let d = w.gate(&artifact, "production");
        assert!(!d.decision.allow, "{control} missing was allowed");
        let (v, reason) = verdict(&d, control);
        assert_eq!(v, Verdict::Missing, "{control}: {reason}");
        let artifact = w.release(&format!("pay-failing-{control}"), Twist::Failing(control));
        let d = w.gate(&artifact, "production");
        assert!(!d.decision.allow, "{control} failing was allowed");
        let (v, reason) = verdict(&d, control);
        assert_eq!(v, Verdict::Fail, "{control}: {reason}");
    }
    // Outside production, "tested before production" does not apply.
    let artifact = w.release("pay-staging", Twist::Missing("tested-before-production"));
    let d = w.gate(&artifact, "staging");
    assert_eq!(
        verdict(&d, "tested-before-production").0,
        Verdict::NotApplicable
    );
    assert!(d.decision.allow);
    // Reasons say what is wrong.
    let artifact = w.release("pay-reasons", Twist::Failing("peer-review"));
    let d = w.gate(&artifact, "production");
    assert!(
        verdict(&d, "peer-review")
            .1
            .contains("approved only by its author"),
        "{:?}",
        verdict(&d, "peer-review")
    );
    // An artifact nothing is known about: every control is missing (the scans a team opts
    // into do not apply), none passes.
    let d = w.gate(
        &format!("registry.example.com/pay@{}", Sha256Digest::of(b"unknown")),
        "production",
    );
    assert!(!d.decision.allow);
    let opt_in = ["no-secrets", "dynamic-scan", "hardening", "drill-recent"];
    assert!(
        d.decision
            .controls
            .iter()
            .filter(|c| c.id != "change-approval")
            .all(|c| c.verdict
                == if opt_in.contains(&c.id.as_str()) {
                    Verdict::NotApplicable
                } else {
                    Verdict::Missing
                }),
        "{:#?}",
        d.decision.controls
    );
}

fn decisions_are_ledgered_signed_and_refuse_bad_requests(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-2.0.0", Twist::None);
    let before = w.h.counts().ledger_entries;
    let d = w.gate(&artifact, "production");
    // The first production gate opens the change record, then decides.
    assert_eq!(w.h.counts().ledger_entries, before + 2);
    w.gate(&artifact, "production");
    assert_eq!(
        w.h.counts().ledger_entries,
        before + 3,
        "one change per artifact"
    );
    let receipt = d.receipt.clone().expect("receipt");
    assert_eq!(receipt.ledger_index, d.ledger_index);
    // The stored decision is the signed one, and its id is its digest.
    let again = w.h.admin.decision(&d.id).expect("stored");
    assert!(
        d.envelope.is_none() && d.decision.input.is_null(),
        "the gate answers briefly"
    );
    let envelope = again.envelope.clone().expect("envelope");
    assert_eq!(Sha256Digest::of(envelope.as_bytes()).hex(), d.id);
    let env = andon_domain::Envelope::parse(envelope.as_bytes()).expect("envelope");
    let info = w.h.admin.ledger_info().expect("info");
    let key = andon_ledger::NoteVerifier::parse(&info.verifier_key)
        .expect("key")
        .public_key();
    env.verify(&andon_domain::PublicKey::ed25519(&key).expect("key"))
        .expect("signed by the log key");
    assert_eq!(again.decision.input["version"], "andon.gate/v1");

    // Bad requests: clear errors, nothing written.
    let auditor =
        w.h.admin
            .create_identity("audit", "auditor", &[])
            .expect("auditor");
    let before = w.h.counts().ledger_entries;
    let bad = |req: GateRequest| match w.ci.gate(&req) {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an error, got {other:?}"),
    };
    let req = |app: &str, artifact: &str, env: &str| GateRequest {
        application: app.into(),
        artifact: artifact.into(),
        environment: env.into(),
        production: None,
        ..Default::default()
    };
    assert_eq!(
        bad(req("pay", "registry.example.com/pay", "production")).0,
        400
    );
    assert_eq!(
        bad(req("pay", &artifact, "prod uction")),
        (400, "invalid_environment".into())
    );
    assert_eq!(
        bad(req("other", &artifact, "production")),
        (403, "application_not_allowed".into())
    );
    let as_auditor = Client::new(&w.h.url, Some(auditor.token));
    assert!(matches!(
        as_auditor.gate(&req("pay", &artifact, "production")),
        Err(ClientError::Api { status: 403, .. })
    ));
    assert_eq!(
        w.h.counts().ledger_entries,
        before,
        "a refused gate wrote something"
    );
}

fn waivers_need_a_second_person_and_show_in_decisions(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-3.0.0", Twist::Failing("vulnerabilities"));
    assert!(!w.gate(&artifact, "production").decision.allow);
    // The pipeline asks; it cannot approve; an approver does.
    let asked =
        w.ci.request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: "vulnerabilities".into(),
            vulnerability: Some("CVE-2018-7489".into()),
            reason: "not reachable: setuptools is a build-time dependency".into(),
            ticket: "SEC-41".into(),
            hours: 72,
        })
        .expect("requested");
    let id = asked["id"].as_str().expect("id").to_owned();
    // Requested but not approved: no effect.
    assert!(!w.gate(&artifact, "production").decision.allow);
    let approver =
        w.h.admin
            .create_identity("carol", "approver", &[])
            .expect("approver");
    let carol = Client::new(&w.h.url, Some(approver.token));
    let self_approval =
        Client::new(&w.h.url, Some(approver_token_of_requester(&w))).approve_waiver(&id);
    assert!(matches!(
        self_approval,
        Err(ClientError::Api { status: 403, .. })
    ));
    let approved = carol.approve_waiver(&id).expect("approved");
    assert_eq!(approved["approved_by"], "carol");
    assert!(matches!(
        carol.approve_waiver(&id),
        Err(ClientError::Api { status: 409, .. })
    ));
    let d = w.gate(&artifact, "production");
    assert!(d.decision.allow, "{:#?}", d.decision.controls);
    // Every blocking finding waived is "waived", naming the waiver, not "pass".
    let (v, reason) = verdict(&d, "vulnerabilities");
    assert_eq!(v, Verdict::Waived);
    assert!(reason.contains("waived: CVE-2018-7489"), "{reason}");
    let control = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == "vulnerabilities");
    assert_eq!(control.and_then(|c| c.waiver.as_deref()), Some(id.as_str()));
    let stored = w.h.admin.decision(&d.id).expect("stored");
    assert_eq!(stored.decision.input["waivers"][0]["id"], id.as_str());
    // The Risk Control Matrix counts it waived: two failures, then one waiver.
    let rcm: serde_json::Value = serde_json::from_str(
        &w.ci
            .controls_document("/v1/controls", &[("application", "pay".to_owned())])
            .expect("matrix"),
    )
    .expect("json");
    let row = rcm["controls"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "vulnerabilities"))
        .expect("vulnerabilities row");
    assert_eq!(
        (
            row["fail"].as_u64(),
            row["waived"].as_u64(),
            row["pass"].as_u64()
        ),
        (Some(2), Some(1), Some(0)),
        "{row}"
    );

    // A control-level waiver turns a failure into "waived", naming the waiver.
    let cov = w.release("pay-3.0.1", Twist::Failing("coverage"));
    let asked = carol
        .request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: "coverage".into(),
            vulnerability: None,
            reason: "generated code".into(),
            ticket: "PAY-77".into(),
            hours: 24,
        })
        .expect("requested");
    let wid = asked["id"].as_str().expect("id").to_owned();
    assert!(matches!(
        carol.approve_waiver(&wid),
        Err(ClientError::Api { status: 403, .. })
    ));
    w.h.admin.approve_waiver(&wid).expect("approved by admin");
    let d = w.gate(&cov, "production");
    let c = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == "coverage")
        .expect("coverage");
    assert_eq!(
        (c.verdict, c.waiver.as_deref()),
        (Verdict::Waived, Some(wid.as_str()))
    );
    assert!(d.decision.allow);
    // Bad waivers are refused and write nothing.
    let before = w.h.counts().ledger_entries;
    for (control, hours) in [
        ("no-such-control", 24),
        ("coverage", 0),
        ("coverage", 24 * 91),
    ] {
        let r = carol.request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: control.into(),
            vulnerability: None,
            reason: "r".into(),
            ticket: "T-1".into(),
            hours,
        });
        assert!(
            matches!(r, Err(ClientError::Api { status: 400, .. })),
            "{control} {hours}: {r:?}"
        );
    }
    assert_eq!(w.h.counts().ledger_entries, before);
}

/// The pipeline identity requested the first waiver; an approver token for that same
/// identity does not exist, so the self-approval attempt is the pipeline's own token.
fn approver_token_of_requester(w: &World) -> String {
    w.ci.token().expect("pipeline token").to_owned()
}

fn a_custom_opa_policy_loads_and_gates(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-4.0.0", Twist::None);
    // Written as for OPA / Conftest: rego.v1, a deny set, plus metadata; with a unit test.
    let module = r#"package andon.controls.release_window

import rego.v1

metadata := {
	"id": "release-window",
	"title": "No production release from a non-main branch",
	"risk": "An unmerged branch build reaches production.",
	"stage": "release",
	"evidence": ["pull requests"],
	"frameworks": ["internal CHG-7"],
}

deny contains msg if {
	input.environment.production
	some c in input.commits
	some pr in c.pull_requests
	pr.target_branch != "main"
	msg := sprintf("%s#%d targets %s, not main", [pr.repository, pr.number, pr.target_branch])
}

test_denies_other_branches if {
	count(deny) == 1 with input as {"environment": {"production": true}, "commits": [{"pull_requests": [{"repository": "r", "number": 1, "target_branch": "dev"}]}]}
}
"#;
    let bundle = json!({
        "name": "pay-production",
        "applications": ["pay"],
        "environments": ["production"],
        "params": {"coverage": {"min_line_coverage": 95}},
        "modules": {"release_window.rego": module},
    });
    let published = w.h.admin.publish_policy(&bundle).expect("published");
    assert!(published.controls.contains(&"release-window".to_owned()));
    assert!(published.tests >= 1);
    let d = w.gate(&artifact, "production");
    assert_eq!(d.decision.policy.version, published.version);
    // The octokit example's pull request targets master: the custom control denies.
    let (v, reason) = verdict(&d, "release-window");
    assert_eq!(v, Verdict::Fail, "{reason}");
    assert!(reason.contains("targets master"), "{reason}");
    // The raised coverage threshold applies: 90% is now below it.
    assert_eq!(verdict(&d, "coverage").0, Verdict::Fail);
    // Staging still gets the built-in policy.
    assert_eq!(w.gate(&artifact, "staging").decision.policy.name, "builtin");
    // Publishing the same bundle again is idempotent.
    assert!(w.h.admin.publish_policy(&bundle).expect("again").existing);
    // A bundle that does not compile, or whose tests fail, is refused and writes nothing.
    let before = w.h.counts().ledger_entries;
    for broken in [
        json!({"name": "x", "modules": {"x.rego": "package andon.controls.x\nimport rego.v1\nmetadata := {"}}),
        json!({"name": "x", "modules": {"t.rego": "package andon.controls.tests_pass\nimport rego.v1\ntest_wrong if false\n"}}),
        json!({"name": "x", "params": {"nope": {}}}),
        json!({"name": "builtin"}),
        json!({"name": "\rpay"}),
    ] {
        match w.h.admin.publish_policy(&broken) {
            Err(ClientError::Api {
                status: 422, code, ..
            }) => assert_eq!(code, "invalid_policy"),
            other => panic!("expected 422, got {other:?}"),
        }
    }
    // Names it could never apply to (schemathesis found these accepted).
    for (bad, code) in [
        (
            json!({"name": "x", "applications": ["pay\u{e9}\r"]}),
            "invalid_name",
        ),
        (
            json!({"name": "x", "environments": ["prod uction"]}),
            "invalid_environment",
        ),
    ] {
        match w.h.admin.publish_policy(&bad) {
            Err(ClientError::Api {
                status: 400,
                code: c,
                ..
            }) => assert_eq!(c, code),
            other => panic!("expected 400 {code}, got {other:?}"),
        }
    }
    assert_eq!(w.h.counts().ledger_entries, before);
    // Only an admin publishes.
    assert!(matches!(
        w.ci.publish_policy(&bundle),
        Err(ClientError::Api { status: 403, .. })
    ));
}

/// The Risk Control Matrix: each control of the policy that applies, with its risk and
/// framework references, and how it did over the period's decisions, as JSON and as CSV.
fn the_risk_control_matrix_counts_each_controls_verdicts(b: Backend) {
    let w = world(b);
    let good = w.release("pay-6.0.0", Twist::None);
    let failing = w.release("pay-6.0.1", Twist::Failing("tests-pass"));
    w.gate(&good, "production");
    w.gate(&failing, "production");
    w.gate(&failing, "production");
    w.gate(&good, "staging");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let token = w.h.admin.token().expect("token").to_owned();
    let get = |query: &str| {
        let mut r = agent
            .get(&format!("{}/v1/controls?{query}", w.h.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("response");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().expect("body"),
        )
    };
    let (status, body) = get("application=pay&environment=production");
    assert_eq!(status, 200, "{body}");
    let rcm: serde_json::Value = serde_json::from_str(&body).expect("json");
    let controls = rcm["controls"].as_array().expect("controls");
    let tests = controls
        .iter()
        .find(|c| c["id"] == "tests-pass")
        .expect("tests-pass");
    assert_eq!(tests["decisions"], 3, "{tests}");
    assert_eq!(
        (tests["pass"].as_u64(), tests["fail"].as_u64()),
        (Some(1), Some(2)),
        "{tests}"
    );
    // The organisation's matrix: every application's, added up. A second application
    // gated once, without evidence: its controls are missing.
    w.h.admin
        .create_application("shop", "team-web")
        .expect("app");
    w.h.admin
        .gate(&GateRequest {
            application: "shop".into(),
            artifact: format!("registry.example.com/shop@{}", Sha256Digest::of(b"shop 1")),
            environment: "production".into(),
            ..Default::default()
        })
        .expect("decided");
    let (status, body) = get("environment=production");
    assert_eq!(status, 200, "{body}");
    let org: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(org["application"].is_null(), "{org}");
    let row = org["controls"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "tests-pass"))
        .expect("tests-pass");
    assert_eq!(
        (
            row["decisions"].as_u64(),
            row["pass"].as_u64(),
            row["fail"].as_u64(),
            row["missing"].as_u64()
        ),
        (Some(4), Some(1), Some(2), Some(1)),
        "{row}"
    );
    for c in controls {
        let verdicts: u64 = [
            "pass",
            "fail",
            "missing",
            "waived",
            "not_applicable",
            "error",
        ]
        .iter()
        .map(|k| c[*k].as_u64().expect("count"))
        .sum();
        assert_eq!(c["decisions"].as_u64(), Some(verdicts), "{c}");
        assert!(!c["risk"].as_str().unwrap_or("").is_empty(), "{c}");
        assert!(
            !c["frameworks"].as_array().expect("frameworks").is_empty(),
            "{c}"
        );
    }
    // A period before any decision: the controls, nothing counted.
    let (_, body) = get("application=pay&until=2020-01-01T00:00:00Z");
    let empty: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert!(
        empty["controls"]
            .as_array()
            .expect("controls")
            .iter()
            .all(|c| c["decisions"] == 0),
        "{empty}"
    );
    let (status, csv) = get("application=pay&format=csv");
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("decisions,error,evidence,fail,frameworks,id,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), controls.len() + 1, "{csv}");
    let (status, body) = get("application=pay&since=yesterday");
    assert_eq!(status, 400, "{body}");
}

/// NIST's OSCAL 1.2.3 JSON schema of a model (vendored: tests/fixtures/oscal/README.md).
fn oscal_validator(model: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/tests/fixtures/oscal/oscal_{model}_schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema")).expect("json");
    jsonschema::draft7::new(&schema).expect("a valid schema")
}

/// The Risk Control Matrix exports as OSCAL: the controls as a component definition and
/// their effectiveness as assessment results, both valid against NIST's official schemas,
/// with the failing control's finding not satisfied and the counts carried over.
fn the_oscal_exports_validate_against_the_official_schemas(b: Backend) {
    let w = world(b);
    let good = w.release("pay-7.0.0", Twist::None);
    let failing = w.release("pay-7.0.1", Twist::Failing("tests-pass"));
    w.gate(&good, "production");
    w.gate(&failing, "production");
    let get = |path: &str| w.h.admin_get(path);
    let (status, body) = get("/v1/controls/oscal/component-definition?application=pay");
    assert_eq!(status, 200, "{body}");
    let cd: serde_json::Value = serde_json::from_str(&body).expect("json");
    let errors: Vec<String> = oscal_validator("component")
        .iter_errors(&cd)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "component definition: {errors:#?}");
    // The schema is really applied: a control id OSCAL cannot take is caught.
    let mut broken = cd.clone();
    broken["component-definition"]["components"][0]["control-implementations"][0]["implemented-requirements"]
        [0]["control-id"] = "1 bad id".into();
    assert!(!oscal_validator("component").is_valid(&broken));
    let implementations = cd["component-definition"]["components"][0]["control-implementations"]
        .as_array()
        .expect("implementations");
    let nist = implementations
        .iter()
        .find(|i| i["source"].as_str().unwrap_or("").contains("SP800-53"))
        .expect("NIST SP 800-53 requirements");
    let ids: Vec<&str> = nist["implemented-requirements"]
        .as_array()
        .expect("requirements")
        .iter()
        .filter_map(|r| r["control-id"].as_str())
        .collect();
    assert!(ids.contains(&"sr-4"), "{ids:?}");

    let (status, body) = get("/v1/controls/oscal/assessment-results?application=pay");
    assert_eq!(status, 200, "{body}");
    let ar: serde_json::Value = serde_json::from_str(&body).expect("json");
    let errors: Vec<String> = oscal_validator("assessment-results")
        .iter_errors(&ar)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "assessment results: {errors:#?}");
    let result = &ar["assessment-results"]["results"][0];
    let finding = |id: &str| {
        result["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["target"]["target-id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("a finding for {id}: {result}"))
    };
    assert_eq!(
        finding("tests-pass")["target"]["status"]["state"],
        "not-satisfied"
    );
    assert_eq!(
        finding("provenance")["target"]["status"]["state"],
        "satisfied"
    );
    let observation = result["observations"]
        .as_array()
        .expect("observations")
        .iter()
        .find(|o| o["title"].as_str().unwrap_or("").starts_with("tests-pass:"))
        .expect("the tests-pass observation")
        .clone();
    let prop = |name: &str| {
        observation["props"]
            .as_array()
            .expect("props")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["value"].clone())
    };
    assert_eq!(prop("decisions"), Some("2".into()), "{observation}");
    assert_eq!(prop("fail"), Some("1".into()), "{observation}");
    // The same matrix exports with the same identifiers.
    let (_, again) = get("/v1/controls/oscal/component-definition?application=pay");
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(
        again["component-definition"]["uuid"],
        cd["component-definition"]["uuid"]
    );
    // The matrix's own errors hold here too.
    let (status, body) = get("/v1/controls/oscal/assessment-results?application=pay&since=soon");
    assert_eq!(status, 400, "{body}");
    let (status, body) = get("/v1/controls/oscal/component-definition");
    assert_eq!(status, 400, "{body}");
}

/// A waiver lasts its hours on the server's clock: the gates it covers allow until then and
/// deny after, and the decision records the clock's time, not the machine's.
fn a_waiver_expires_on_the_servers_clock(b: Backend) {
    let start = jiff::Timestamp::now().as_millisecond() - 7 * 86_400_000;
    let clock = Clock::manual(start);
    let w = world_with(b, |c| c.clock = clock.clone());
    let artifact = w.release("pay-4.0.0", Twist::Failing("coverage"));
    let asked =
        w.ci.request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: "coverage".into(),
            vulnerability: None,
            reason: "generated code".into(),
            ticket: "PAY-78".into(),
            hours: 24,
        })
        .expect("requested");
    let id = asked["id"].as_str().expect("id").to_owned();
    let approved = w.h.admin.approve_waiver(&id).expect("approved");
    assert_eq!(
        (
            approved["approved_at"].as_i64(),
            approved["expires_at"].as_i64()
        ),
        (Some(start), Some(start + 24 * 3_600_000)),
        "{approved}"
    );
    clock.advance(std::time::Duration::from_secs(23 * 3600));
    let d = w.gate(&artifact, "production");
    assert!(d.decision.allow, "{:#?}", d.decision.controls);
    let at = jiff::Timestamp::from_millisecond(start + 23 * 3_600_000).expect("time");
    assert_eq!(d.decision.decided_at, at.to_string());
    clock.advance(std::time::Duration::from_secs(3600));
    let d = w.gate(&artifact, "production");
    assert!(!d.decision.allow, "the waiver outlived its hours");
    assert_eq!(verdict(&d, "coverage").0, Verdict::Fail);
    // Asked again at the same instant with the same inputs: the same signed decision (Ed25519
    // is deterministic), answered from the ledger and recorded once.
    let before = w.h.counts().ledger_entries;
    let again = w.gate(&artifact, "production");
    assert_eq!(
        (again.id.as_str(), again.ledger_index),
        (d.id.as_str(), d.ledger_index)
    );
    assert_eq!(w.h.counts().ledger_entries, before);
}

both_backends!(
    a_waiver_expires_on_the_servers_clock,
    the_oscal_exports_validate_against_the_official_schemas,
    the_risk_control_matrix_counts_each_controls_verdicts,
    every_builtin_control_passes_fails_and_reports_missing_evidence,
    decisions_are_ledgered_signed_and_refuse_bad_requests,
    waivers_need_a_second_person_and_show_in_decisions,
    a_custom_opa_policy_loads_and_gates,
);
