//! The change rules of docs/changes.md at their edges, through the real HTTP path on both
//! backends: one change per artifact while it is open, completed by later gates and
//! superseded when a later gate asks for more (database migrations, an emergency); an
//! emergency allows now and defers the other controls to its review, except those the
//! policy keeps blocking; a standard change is approved only by a gate that allowed it; a
//! deployment without an allowing decision leaves a bypassed change, an alert naming who
//! held write access to that application, and a failure in the Risk Control Matrix.

use andon_client::Client;
use andon_domain::api::{AccessRequestInput, DecisionView, DeploymentRequest, GateRequest};
use andon_domain::change::{ChangeClass, ChangeFields, ChangeStatus};
use andon_domain::gate::Verdict;
use andon_domain::{Role, Sha256Digest};
use andon_testkit::{Backend, both_backends};
use serde_json::Value;

use crate::common::err;
use crate::common::release::{Twist, World, verdict, world};

fn gate(artifact: &str, paths: &[&str], emergency: Option<&str>) -> GateRequest {
    GateRequest {
        application: "pay".into(),
        artifact: artifact.into(),
        environment: "production".into(),
        emergency: emergency.map(Into::into),
        change: (!paths.is_empty()).then(|| ChangeFields {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn change_of(d: &DecisionView) -> String {
    d.change
        .clone()
        .expect("a production gate names its change")
}

fn person(w: &World, name: &str, role: Role, groups: &[&str]) -> Client {
    let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    let issued =
        w.h.admin
            .create_identity_in(name, role.as_str(), &[], &groups)
            .expect("identity");
    Client::new(&w.h.url, Some(issued.token))
}

fn matrix_row(w: &World, control: &str) -> Value {
    let rcm: Value = serde_json::from_str(
        &w.ci
            .controls_document("/v1/controls", &[("application", "pay".to_owned())])
            .expect("matrix"),
    )
    .expect("json");
    rcm["controls"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == control))
        .cloned()
        .unwrap_or_else(|| panic!("no {control} row in {rcm:#}"))
}

fn a_later_gate_asking_for_more_supersedes_the_open_change(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-5.0.0", Twist::None);
    let first = w.ci.gate(&gate(&artifact, &[], None)).expect("decided");
    assert!(first.decision.allow);
    let standard = change_of(&first);
    assert_eq!(
        w.ci.change(&standard).expect("change").status,
        ChangeStatus::Approved
    );
    // Gated again, the same artifact now touches a migration: a DBA must approve.
    let again =
        w.ci.gate(&gate(&artifact, &["db/migrations/0042_fees.sql"], None))
            .expect("decided");
    assert!(!again.decision.allow, "the migration was ignored");
    let (v, reason) = verdict(&again, "change-approval");
    assert_eq!(v, Verdict::Fail);
    assert!(
        reason.contains("awaits approval: 0 of 1 (from dba)"),
        "{reason}"
    );
    let normal = change_of(&again);
    assert_ne!(normal, standard);
    let c = w.ci.change(&normal).expect("change");
    assert_eq!(
        (
            c.class,
            c.status,
            c.classification.approver_group.as_deref()
        ),
        (ChangeClass::Normal, ChangeStatus::Pending, Some("dba"))
    );
    assert!(
        c.classification
            .reasons
            .iter()
            .any(|r| r.contains(&standard)),
        "{:?}",
        c.classification.reasons
    );
    assert_eq!(
        w.ci.change(&standard).expect("old").status,
        ChangeStatus::Superseded
    );
    crate::changes::assert_rfc_schema(&w.ci.rfc_json(&standard).expect("rfc"));
    // The superseded change takes no approval; the migration is not dropped by gating
    // again without it: the open change is found, never relaxed.
    let dba = person(&w, "dana", Role::Approver, &["dba"]);
    assert_eq!(
        err(dba.decide_change(&standard, true, "ok")),
        (409, "change_closed".into())
    );
    let third = w.ci.gate(&gate(&artifact, &[], None)).expect("decided");
    assert_eq!(change_of(&third), normal);
    assert!(!third.decision.allow);
    dba.decide_change(&normal, true, "migration reviewed")
        .expect("approved");
    let fourth = w.ci.gate(&gate(&artifact, &[], None)).expect("decided");
    assert_eq!(change_of(&fourth), normal);
    assert!(fourth.decision.allow, "{:#?}", fourth.decision.controls);
    // A path that changes nothing completes the record, and the RFC lists it.
    w.ci.gate(&gate(&artifact, &["src/fees.rs"], None))
        .expect("decided");
    let paths = w.ci.change(&normal).expect("change").fields.paths;
    assert_eq!(paths, ["db/migrations/0042_fees.sql", "src/fees.rs"]);
}

fn an_emergency_allows_now_and_defers_the_failing_controls(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-6.0.0", Twist::Failing("tests-pass"));
    let normal = w.ci.gate(&gate(&artifact, &[], None)).expect("decided");
    assert!(!normal.decision.allow);
    let standard = change_of(&normal);
    let emergency = gate(&artifact, &[], Some("refunds down: INC-12"));
    let d = w.ci.gate(&emergency).expect("decided");
    assert!(d.decision.allow, "{:#?}", d.decision.controls);
    let id = change_of(&d);
    assert_ne!(id, standard, "the emergency supersedes the standard change");
    let tests = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == "tests-pass")
        .expect("tests-pass");
    assert_eq!(
        (tests.verdict, tests.waiver.as_deref()),
        (Verdict::Waived, Some(id.as_str()))
    );
    assert!(
        tests
            .reason
            .starts_with(&format!("deferred to the review of emergency change {id}")),
        "{}",
        tests.reason
    );
    // Retried, the same emergency change.
    let retry = w.ci.gate(&emergency).expect("decided");
    assert_eq!(change_of(&retry), id);
    assert!(retry.decision.allow);
    // The deployment follows an allowing decision: no bypass.
    let r = deploy(&w, &artifact);
    assert_eq!(r["deployment"]["bypass"], false);
    let c = w.ci.change(&id).expect("change");
    assert_eq!(
        (c.class, c.status),
        (ChangeClass::Emergency, ChangeStatus::Deployed)
    );
    assert_eq!(
        w.ci.change(&standard).expect("old").status,
        ChangeStatus::Superseded
    );

    // An emergency does not set aside where the artifact was built.
    let laptop = w.release("pay-6.0.1", Twist::Failing("provenance"));
    let d =
        w.ci.gate(&gate(&laptop, &[], Some("refunds down: INC-12")))
            .expect("decided");
    assert!(!d.decision.allow);
    assert_eq!(verdict(&d, "provenance").0, Verdict::Fail);
}

fn deploy(w: &World, artifact: &str) -> Value {
    w.ci.record_deployment(&DeploymentRequest {
        application: "pay".into(),
        artifact: artifact.into(),
        environment: "production".into(),
        ..Default::default()
    })
    .expect("recorded")
}

fn a_denied_gate_leaves_no_approved_change_and_a_bypass_is_counted(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-7.0.0", Twist::Failing("tests-pass"));
    let d = w.ci.gate(&gate(&artifact, &[], None)).expect("decided");
    assert!(!d.decision.allow);
    let id = change_of(&d);
    let c = w.ci.change(&id).expect("change");
    assert_eq!(
        (c.class, c.status),
        (ChangeClass::Standard, ChangeStatus::Pending),
        "a standard change is approved by a gate that allows it"
    );
    // Someone holds read access to pay in production; nobody holds write access.
    let alice = person(&w, "alice", Role::Approver, &[]);
    let bob = person(&w, "bob", Role::Approver, &[]);
    let asked = alice
        .request_access(&AccessRequestInput {
            application: "pay".into(),
            environment: "production".into(),
            level: "read".into(),
            reason: "INC-40 reading logs".into(),
            ticket: "INC-40".into(),
            minutes: 60,
        })
        .expect("requested");
    bob.decide_access(asked["id"].as_str().expect("id"), "approve", None)
        .expect("granted");

    // Deployed anyway: a bypass.
    let r = deploy(&w, &artifact);
    assert_eq!(r["deployment"]["bypass"], true);
    assert_eq!(r["deployment"]["change"], id.as_str());
    let message = r["alert"]["message"].as_str().expect("message");
    assert!(
        message.contains("no break-glass write grant on pay was active"),
        "{message}"
    );
    assert!(!message.contains("INC-40"), "a read grant named: {message}");
    assert_eq!(
        w.ci.change(&id).expect("change").status,
        ChangeStatus::Bypassed
    );
    // Its request for change says so, and still matches the published schema.
    let rfc = w.ci.rfc_json(&id).expect("rfc");
    assert_eq!(rfc["change"]["status"], "bypassed", "{rfc:#}");
    crate::changes::assert_rfc_schema(&rfc);
    // A bypassed change takes no approval after the fact.
    assert_eq!(
        err(bob.decide_change(&id, true, "fine")),
        (409, "change_closed".into())
    );
    // The Risk Control Matrix counts it.
    let row = matrix_row(&w, "gated-deployment");
    assert_eq!(
        (
            row["decisions"].as_u64(),
            row["pass"].as_u64(),
            row["fail"].as_u64()
        ),
        (Some(1), Some(0), Some(1)),
        "{row}"
    );
    // An ungated artifact too, and a gated one passes.
    let other = format!(
        "registry.example.com/pay@{}",
        Sha256Digest::of(b"hand-built")
    );
    assert_eq!(deploy(&w, &other)["deployment"]["bypass"], true);
    let good = w.release("pay-7.0.1", Twist::None);
    assert!(
        w.ci.gate(&gate(&good, &[], None))
            .expect("decided")
            .decision
            .allow
    );
    assert_eq!(deploy(&w, &good)["deployment"]["bypass"], false);
    let row = matrix_row(&w, "gated-deployment");
    assert_eq!(
        (
            row["decisions"].as_u64(),
            row["pass"].as_u64(),
            row["fail"].as_u64()
        ),
        (Some(3), Some(1), Some(2)),
        "{row}"
    );
}

both_backends!(
    a_later_gate_asking_for_more_supersedes_the_open_change,
    an_emergency_allows_now_and_defers_the_failing_controls,
    a_denied_gate_leaves_no_approved_change_and_a_bypass_is_counted,
);
