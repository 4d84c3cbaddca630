//! A gate keeps what it gathered about an artifact for the next gate of the same artifact,
//! and must never decide on it once something it read has changed: new evidence, a
//! webhook's deployment, a review attested by another application of the same repository,
//! on this server or on another server of the cluster.
//! Through the real HTTP path, on both backends; debug builds also gather again on every
//! kept answer and assert that both agree.

use crate::common::release::{Twist, World, verdict, world};
use crate::common::{deployment_status, github, sha};
use andon_client::Client;
use andon_domain::api::DecisionView;
use andon_domain::gate::Verdict;
use andon_domain::scm::REVIEW_PREDICATE_V1;
use andon_domain::{Sha256Digest, Statement};
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

both_backends!(a_gate_sees_what_arrived_since_the_last_gate_of_the_same_artifact);

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
