//! A gate keeps what it gathered about an artifact for the next gate of the same artifact,
//! and must never decide on it once something it read has changed: new evidence, a
//! webhook's deployment, a review attested by another application of the same repository,
//! on this server or on another server of the cluster. It also keeps what it read about the
//! application and environment (policy, waivers, risk, drills, hardening scans), which must
//! follow every change of those and the passing of time.
//! Through the real HTTP path, on both backends; debug builds also gather again on every
//! kept answer and assert that both agree.

use crate::common::release::{Twist, World, fixture, report, verdict, world, world_with};
use crate::common::{at_ms, deployment_status, github, sha};
use andon_client::Client;
use andon_domain::api::{DecisionView, DeploymentRequest, WaiverRequest};
use andon_domain::change::ChangeStatus;
use andon_domain::gate::Verdict;
use andon_domain::scm::REVIEW_PREDICATE_V1;
use andon_domain::{HARDENING_PREDICATE_V1, Role, Sha256Digest, Statement};
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use serde_json::json;

/// The evidence records a decision's input holds.
fn evidence_in(w: &World, d: &DecisionView) -> usize {
    w.h.admin.decision(&d.id).expect("decision").decision.input["evidence"]
        .as_array()
        .map_or(0, Vec::len)
}

fn a_gate_sees_what_arrived_since_the_last_gate_of_the_same_artifact(b: Backend) {
    let w = world(b);
    // Built from a reviewed commit that never reached staging.
    let artifact = w.release("pay-kept", Twist::Missing("tested-before-production"));
    let first = w.gate(&artifact, "production");
    assert_eq!(
        verdict(&first, "tested-before-production").0,
        Verdict::Missing
    );
    // Asked again with nothing new: the same answer, from what the first gate kept.
    let again = w.gate(&artifact, "production");
    assert_eq!(
        verdict(&again, "tested-before-production").0,
        Verdict::Missing
    );
    assert!(!w.h.app.0.gather_cache.is_empty(), "the gather was kept");
    let records = evidence_in(&w, &again);
    assert_eq!(records, evidence_in(&w, &first));

    // A webhook says the commit reached staging: the next gate sees it.
    github(
        &w.h,
        "deployment_status",
        "kept-staging",
        &deployment_status(&w.undeployed, "staging", "success"),
    )
    .expect("delivered");
    let deployed = w.gate(&artifact, "production");
    assert_eq!(
        verdict(&deployed, "tested-before-production").0,
        Verdict::Pass,
        "{}",
        verdict(&deployed, "tested-before-production").1
    );

    // Another application built from the same repository attests a review of the pull
    // request the artifact was merged from (a monorepo): the next gate's input shows it.
    let commits = |d: &DecisionView| {
        w.h.admin.decision(&d.id).expect("decision").decision.input["commits"].clone()
    };
    let before = commits(&w.gate(&artifact, "production"));
    let (web, web_key) = w.h.pipeline("web");
    let review = Statement::new(
        vec![(
            "registry.example.com/web".into(),
            Sha256Digest::of(b"web 1.0"),
        )],
        REVIEW_PREDICATE_V1.into(),
        json!({
            "repository": "Codertocat/Hello-World",
            "pullRequest": {"number": 2, "title": "PAY-2 fees", "author": "alice",
                            "sourceBranch": "feature/2", "targetBranch": "main",
                            "headCommit": sha('2'), "mergeCommit": w.undeployed,
                            "state": "merged", "mergedBy": "release-bot"},
            "reviews": [{"reviewer": "dave", "state": "APPROVED", "commit": sha('2')}]
        }),
    );
    web.submit_evidence("web", Some("run-1"), Some("review"), &review.sign(&web_key))
        .expect("accepted");
    let after = commits(&w.gate(&artifact, "production"));
    // The attested pull request's newest event targets main; the webhook's said master.
    let target = |commits: &serde_json::Value| {
        commits
            .as_array()
            .and_then(|c| c.iter().find(|c| c["sha"] == w.undeployed.as_str()))
            .map(|c| c["pull_requests"][0]["target_branch"].clone())
    };
    assert_eq!(target(&before), Some(json!("master")), "{before}");
    assert_eq!(target(&after), Some(json!("main")), "{after}");

    // A report for the artifact arrives: the next gate counts it.
    let missing = w.release("pay-kept-2", Twist::Missing("coverage"));
    let before = w.gate(&missing, "staging");
    assert_eq!(verdict(&before, "coverage").0, Verdict::Missing);
    w.coverage_for("pay-kept-2", &w.ci);
    let after = w.gate(&missing, "staging");
    assert_eq!(verdict(&after, "coverage").0, Verdict::Pass);
    assert_eq!(evidence_in(&w, &after), evidence_in(&w, &before) + 1);
}

both_backends!(
    a_gate_sees_what_arrived_since_the_last_gate_of_the_same_artifact,
    a_gate_sees_what_changed_in_its_application_and_environment,
    a_production_gate_sees_what_happened_to_its_change_record,
);

/// Two servers on one PostgreSQL database (only PostgreSQL is shared by several servers):
/// what one accepts, the other's next gate of the same artifact sees, though it kept the
/// gather of its last gate.
#[test]
fn a_gate_sees_what_another_server_of_the_cluster_accepted() {
    let w = world(Backend::Postgres);
    let other = w.h.another_server();
    let ci_other = Client::new(&other, w.ci.token().map(str::to_owned));
    let artifact = w.release("pay-cluster", Twist::Missing("coverage"));
    let first = w.gate(&artifact, "staging");
    assert_eq!(verdict(&first, "coverage").0, Verdict::Missing);
    assert_eq!(
        verdict(&w.gate(&artifact, "staging"), "coverage").0,
        Verdict::Missing
    );
    w.coverage_for("pay-cluster", &ci_other);
    let after = w.gate(&artifact, "staging");
    assert_eq!(verdict(&after, "coverage").0, Verdict::Pass);
    assert_eq!(evidence_in(&w, &after), evidence_in(&w, &first) + 1);
}

/// The decision's input, as recorded.
fn input_of(w: &World, d: &DecisionView) -> serde_json::Value {
    w.h.admin.decision(&d.id).expect("decision").decision.input
}

fn a_gate_sees_what_changed_in_its_application_and_environment(b: Backend) {
    const HOUR: i64 = 3_600_000;
    let t0 = at_ms("2026-12-08T09:00:00Z");
    let clock = Clock::manual(t0);
    let w = world_with(b, |c| c.clock = clock.clone());
    let artifact = w.release("pay-context", Twist::Failing("coverage"));
    let first = w.gate(&artifact, "production");
    assert_eq!(verdict(&first, "coverage").0, Verdict::Fail);
    let again = w.gate(&artifact, "production");
    assert_eq!(verdict(&again, "coverage").0, Verdict::Fail);
    assert!(!w.h.app.0.context_cache.is_empty(), "the context was kept");

    // A waiver requested is not yet in force; approved, the next gate applies it.
    let asked =
        w.ci.request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: "coverage".into(),
            vulnerability: None,
            reason: "generated code".into(),
            ticket: "PAY-90".into(),
            hours: 24,
        })
        .expect("requested");
    let wid = asked["id"].as_str().expect("id").to_owned();
    clock.set_ms(t0 + HOUR);
    let requested = w.gate(&artifact, "production");
    assert_eq!(verdict(&requested, "coverage").0, Verdict::Fail);
    assert_eq!(input_of(&w, &requested)["waivers"], json!([]));
    w.h.admin.approve_waiver(&wid).expect("approved");
    let waived = w.gate(&artifact, "production");
    assert_eq!(verdict(&waived, "coverage").0, Verdict::Waived);
    assert_eq!(input_of(&w, &waived)["waivers"][0]["id"], json!(wid));
    // Nothing is written when the waiver expires: the next gate works it out from the time.
    clock.set_ms(t0 + 26 * HOUR);
    let expired = w.gate(&artifact, "production");
    assert_eq!(verdict(&expired, "coverage").0, Verdict::Fail);
    assert_eq!(input_of(&w, &expired)["waivers"], json!([]));

    // A risk level set, and a scan of the environment attested by another application.
    w.h.admin.set_application_risk("pay", "high").expect("risk");
    let risky = w.gate(&artifact, "production");
    assert_eq!(input_of(&w, &risky)["drills"]["risk"], json!("high"));
    let (ops, ops_key) = w.h.pipeline("platform");
    let scan = fixture("hardening/nmap-7.93-scan1.xml");
    let mut st = report(Sha256Digest::of(&scan), HARDENING_PREDICATE_V1, &scan);
    st.subject[0].name = "environment:production".into();
    ops.submit_evidence("platform", None, Some("hardening"), &st.sign(&ops_key))
        .expect("scan accepted");
    let scanned = w.gate(&artifact, "production");
    assert_eq!(verdict(&scanned, "hardening").0, Verdict::Pass);
    let scans = input_of(&w, &scanned)["hardening"]["scans"].clone();
    assert_eq!(scans.as_array().map(Vec::len), Some(1), "{scans}");

    // A policy published for the application and environment decides the next gate.
    let published =
        w.h.admin
            .publish_policy(&json!({
                "name": "pay-production", "applications": ["pay"], "environments": ["production"],
                "params": {"coverage": {"min_line_coverage": 1}},
                "modules": {},
            }))
            .expect("published");
    let custom = w.gate(&artifact, "production");
    assert_eq!(custom.decision.policy.version, published.version);
    assert_eq!(verdict(&custom, "coverage").0, Verdict::Pass);
    // Another environment keeps its own context: the built-in policy still applies there.
    let staging = w.gate(&artifact, "staging");
    assert_ne!(staging.decision.policy.version, published.version);
}

/// The reason the `change-approval` control gives.
fn approval(d: &DecisionView) -> String {
    verdict(d, "change-approval").1
}

fn a_production_gate_sees_what_happened_to_its_change_record(b: Backend) {
    let w = world(b);
    // Two approvals for a normal change: the first writes only its own row.
    w.h.admin
        .publish_policy(&json!({
            "name": "pay-production", "applications": ["pay"], "environments": ["production"],
            "params": {"change": {"standard_types": [], "approvals": 2}},
        }))
        .expect("published");
    let approver = |name: &str| {
        let issued =
            w.h.admin
                .create_identity_in(name, Role::Approver.as_str(), &[], &[])
                .expect("approver");
        Client::new(&w.h.url, Some(issued.token))
    };
    let (carol, dave) = (approver("carol"), approver("dave"));
    let artifact = w.release("pay-changed", Twist::None);
    let first = w.gate(&artifact, "production");
    let id = first
        .change
        .clone()
        .expect("a production gate opens a change");
    // Asked again with nothing new: the same change, from what the first gate kept.
    let again = w.gate(&artifact, "production");
    assert_eq!(again.change.as_deref(), Some(id.as_str()));
    assert_eq!(approval(&again), format!("{id} awaits approval: 0 of 2"));
    assert!(!w.h.app.0.change_cache.is_empty(), "the change was kept");

    // One approval of two: the next gate counts it.
    let once = carol.decide_change(&id, true, "ok").expect("approved once");
    assert_eq!(once.status, ChangeStatus::Pending);
    let counted = w.gate(&artifact, "production");
    assert_eq!(approval(&counted), format!("{id} awaits approval: 1 of 2"));
    assert!(!counted.decision.allow);
    // The second settles it: the next gate allows.
    dave.decide_change(&id, true, "ok").expect("approved twice");
    let approved = w.gate(&artifact, "production");
    assert!(approved.decision.allow, "{:#?}", approved.decision.controls);
    assert_eq!(approved.change.as_deref(), Some(id.as_str()));

    // Deployed, the change is closed: the next gate of the same artifact opens another.
    w.ci.record_deployment(&DeploymentRequest {
        application: "pay".into(),
        artifact: artifact.clone(),
        environment: "production".into(),
        run: Some("run-1".into()),
        ..Default::default()
    })
    .expect("recorded");
    let redeploy = w.gate(&artifact, "production");
    let next = redeploy.change.clone().expect("a new change");
    assert_ne!(next, id);
    assert_eq!(
        approval(&redeploy),
        format!("{next} awaits approval: 0 of 2")
    );
    // A rejection of the new one ends it, and the next gate says so.
    carol
        .decide_change(&next, false, "not twice")
        .expect("rejected");
    assert_eq!(
        approval(&w.gate(&artifact, "production")),
        format!("{next} was rejected by carol")
    );
}
