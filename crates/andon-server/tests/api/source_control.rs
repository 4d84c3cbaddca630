//! Source control through the real HTTP path, on both backends: GitHub and GitLab webhooks
//! (signatures, tokens, replays, real payloads), review and pipeline-definition
//! attestations, and the trace from an artifact back to reviews, tickets and deployments.

use crate::common::{
    GITLAB_TOKEN, Harness, SECRET, deployment_status, err, fixture, github, pull_request, push,
    push_to, review, sha, start,
};
use andon_client::{Client, ClientError, github_signature};
use andon_domain::api::TraceView;
use andon_domain::{Sha256Digest, Statement};
use andon_ledger::NoteVerifier;
use andon_testkit::{Backend, both_backends};
use serde_json::{Value, json};

fn github_deliveries_are_authenticated_recorded_once_and_read(b: Backend) {
    let h = start(b);
    let payload = serde_json::to_vec(&fixture("github/push.json")).expect("json");
    let anonymous = Client::new(&h.url, None);
    let size = |h: &Harness| h.counts().ledger_entries;
    let before = size(&h);

    // No signature, a signature with another secret, a body changed after signing.
    let unsigned = anonymous.deliver_webhook(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-0".into()),
        ],
        &payload,
    );
    assert_eq!(err(unsigned), (401, "missing_signature".into()));
    let wrong = anonymous.deliver_webhook(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-0".into()),
            ("X-Hub-Signature-256", github_signature("guess", &payload)),
        ],
        &payload,
    );
    assert_eq!(err(wrong), (401, "bad_signature".into()));
    let mut tampered = payload.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    let forged = anonymous.deliver_webhook(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-0".into()),
            ("X-Hub-Signature-256", github_signature(SECRET, &payload)),
        ],
        &tampered,
    );
    assert_eq!(err(forged), (401, "bad_signature".into()));
    assert_eq!(size(&h), before, "a refused delivery wrote something");

    // A ping carries no governance fact: acknowledged, not recorded.
    let ping = serde_json::to_vec(&fixture("github/ping.json")).expect("json");
    let r = github(&h, "ping", "d-ping", &ping).expect("ping");
    assert_eq!(r["recorded"], false);
    assert_eq!(size(&h), before);

    // The real push is recorded, with a receipt that verifies against the log key.
    let r = github(&h, "push", "d-1", &payload).expect("push");
    assert_eq!(
        (r["recorded"].clone(), r["facts"]["commits"].clone()),
        (json!(true), json!(1))
    );
    let receipt: andon_domain::api::Receipt =
        serde_json::from_value(r["receipt"].clone()).expect("receipt");
    let log = NoteVerifier::parse(&h.admin.ledger_info().expect("info").verifier_key).expect("key");
    andon_client::check_receipt(&receipt, &log).expect("the receipt verifies");
    let page = h.admin.entries(receipt.ledger_index, 1).expect("entries");
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &page.entries[0].entry,
    )
    .expect("base64");
    let entry: Value = serde_json::from_slice(&bytes).expect("entry json");
    assert_eq!(entry["kind"], "scm.event");
    assert_eq!(
        entry["body"]["payload"],
        Sha256Digest::of(&payload).to_string()
    );
    assert_eq!(
        entry["body"]["facts"]["commits"][0]["sha"],
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    );

    // The same delivery again is a replay, refused, and writes nothing.
    assert_eq!(
        err(github(&h, "push", "d-1", &payload)),
        (409, "replayed_delivery".into())
    );
    assert_eq!(size(&h), before + 1);

    // A known event without what it must carry is unprocessable; a missing header is a 400.
    assert_eq!(
        err(github(
            &h,
            "pull_request_review",
            "d-2",
            br#"{"action":"submitted"}"#
        )),
        (422, "unparseable_payload".into())
    );
    let no_delivery = anonymous.deliver_webhook(
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", github_signature(SECRET, &payload)),
        ],
        &payload,
    );
    assert_eq!(err(no_delivery), (400, "missing_delivery".into()));
    assert_eq!(size(&h), before + 1);
}

fn gitlab_deliveries_need_the_hook_token_and_are_recorded_once(b: Backend) {
    let h = start(b);
    let payload = serde_json::to_vec(&fixture("gitlab/push.json")).expect("json");
    let anonymous = Client::new(&h.url, None);
    let send = |token: Option<&str>, key: Option<&str>| {
        let mut headers = vec![("X-Gitlab-Event", "Push Hook".to_owned())];
        if let Some(t) = token {
            headers.push(("X-Gitlab-Token", t.to_owned()));
        }
        if let Some(k) = key {
            headers.push(("Idempotency-Key", k.to_owned()));
        }
        anonymous.deliver_webhook("/webhooks/gitlab", &headers, &payload)
    };
    let before = h.counts().ledger_entries;
    assert_eq!(err(send(None, Some("k-1"))), (401, "missing_token".into()));
    assert_eq!(
        err(send(Some("gitlab-hook-tokeN"), Some("k-1"))),
        (401, "bad_token".into())
    );
    assert_eq!(h.counts().ledger_entries, before);
    let r = send(Some(GITLAB_TOKEN), Some("k-1")).expect("recorded");
    assert_eq!(r["facts"]["commits"], 2);
    assert_eq!(
        err(send(Some(GITLAB_TOKEN), Some("k-1"))),
        (409, "replayed_delivery".into())
    );
    // Without a delivery id, the payload's digest identifies the delivery.
    send(Some(GITLAB_TOKEN), None).expect("recorded");
    assert_eq!(
        err(send(Some(GITLAB_TOKEN), None)),
        (409, "replayed_delivery".into())
    );
    assert_eq!(h.counts().ledger_entries, before + 2);
    let t = h.admin.trace_commit("da1560886d4f").expect("trace");
    let c = t.commits[0].commit.as_ref().expect("pushed");
    assert_eq!(
        (c.repository.as_str(), c.message.as_str()),
        ("mike/diaspora", "fixed readme")
    );
}

fn without_a_configured_secret_the_server_keeps_its_own(b: Backend) {
    // No secret given: the server made one, kept in the database, that admins can read;
    // a delivery signed with anything else is refused and writes nothing.
    let h = Harness::start(b, 1 << 20);
    let before = h.counts();
    let r = github(&h, "push", "d-1", b"{}");
    assert_eq!(err(r), (401, "bad_signature".into()));
    assert_eq!(h.counts(), before, "a refused delivery wrote something");
    let hooks = h.admin.webhooks().expect("webhooks");
    let secret = hooks["github"]["secret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let token = hooks["gitlab"]["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_ne!(secret, token);
    let body = push_to("refs/heads/main", &[(&sha('1'), "PAY-1 first")]);
    Client::new(&h.url, None)
        .deliver_webhook(
            "/webhooks/github",
            &[
                ("X-GitHub-Event", "push".into()),
                ("X-GitHub-Delivery", "d-2".into()),
                ("X-Hub-Signature-256", github_signature(&secret, &body)),
            ],
            &body,
        )
        .expect("accepted with the kept secret");
    // Only admins read it.
    let (ci, _) = h.pipeline("pay");
    assert_eq!(err(ci.webhooks()), (403, "forbidden".into()));
    // Another server on the same database checks the same secret.
    let root = h
        .admin
        .create_identity("root", "admin", &[])
        .expect("admin");
    let other = h.another_server();
    let hooks = Client::new(&other, Some(root.token))
        .webhooks()
        .expect("webhooks");
    assert_eq!(hooks["github"]["secret"], secret.as_str());
}

/// Provenance for `artifact`, built from `commit`: the real npm provenance with that commit.
fn provenance(artifact: Sha256Digest, commit: &str) -> Statement {
    let mut generated: Value = serde_json::from_slice(include_bytes!(
        "../../../andon-evidence/tests/fixtures/provenance/npmcli-provenance-cli-0.0.3.json"
    ))
    .expect("json");
    generated["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] =
        commit.into();
    Statement::new(
        vec![("registry.example.com/payments:1.4.2".into(), artifact)],
        "https://slsa.dev/provenance/v1".into(),
        generated["predicate"].clone(),
    )
}

fn trace_follows_an_artifact_to_reviews_tickets_and_deployments(b: Backend) {
    let h = start(b);
    let (ci, key) = h.pipeline("pay");
    let alice = ("alice", 101);
    let bob = ("bob", 102);
    let (h1, h2, m2, h3, m3) = (sha('1'), sha('2'), sha('a'), sha('3'), sha('b'));

    // PR 7: bob approves the first head, alice pushes again, the second head is merged.
    let history: Vec<(&str, Vec<u8>)> = vec![
        (
            "push",
            push(&[(&h1, "PAY-7 cap refunds"), (&h2, "fix rounding")]),
        ),
        (
            "pull_request",
            pull_request("opened", 7, "PAY-7 refund limits", alice, &h1, None),
        ),
        ("pull_request_review", review(7, bob, "approved", &h1)),
        (
            "pull_request",
            pull_request("synchronize", 7, "PAY-7 refund limits", alice, &h2, None),
        ),
        (
            "pull_request",
            pull_request("closed", 7, "PAY-7 refund limits", alice, &h2, Some(&m2)),
        ),
        // PR 8: approved on exactly the head that is merged.
        (
            "pull_request",
            pull_request("opened", 8, "OPS-2 alerting", alice, &h3, None),
        ),
        (
            "pull_request_review",
            review(8, bob, "changes_requested", &h3),
        ),
        ("pull_request_review", review(8, bob, "approved", &h3)),
        (
            "pull_request",
            pull_request("closed", 8, "OPS-2 alerting", alice, &h3, Some(&m3)),
        ),
        (
            "deployment_status",
            deployment_status(&m2, "production", "success"),
        ),
    ];
    for (i, (event, payload)) in history.iter().enumerate() {
        github(&h, event, &format!("delivery-{i}"), payload).expect("recorded");
    }
    let artifact = Sha256Digest::of(b"payments 1.4.2");
    ci.submit_evidence(
        "pay",
        Some("run-9"),
        Some("provenance"),
        &provenance(artifact, &m2).sign(&key),
    )
    .expect("provenance");

    let t: TraceView = h
        .admin
        .trace_artifact(&artifact.to_string())
        .expect("trace");
    assert_eq!(
        t.artifacts[0].names,
        vec!["registry.example.com/payments:1.4.2".to_owned()]
    );
    assert_eq!(
        t.artifacts[0].evidence[0].kind.as_deref(),
        Some("provenance")
    );
    assert_eq!(t.commits.len(), 1);
    let c = &t.commits[0];
    assert_eq!(c.sha, m2);
    let pr = &c.pull_requests[0];
    assert_eq!((pr.number, pr.title.as_str()), (7, "PAY-7 refund limits"));
    let actions: Vec<&str> = pr.events.iter().map(|(_, e)| e.action.as_str()).collect();
    assert_eq!(actions, vec!["opened", "synchronize", "merged"]);
    assert_eq!(pr.review.independent_approvers, vec!["bob".to_owned()]);
    assert!(!pr.review.approved_exact_head);
    assert_eq!(pr.review.commits_after_approval, vec![h2.clone()]);
    assert_eq!(pr.review.merged_by.as_deref(), Some("release-bot"));
    assert!(
        pr.review.finding.contains("earlier head"),
        "{}",
        pr.review.finding
    );
    let tickets: Vec<&str> = c.tickets.iter().map(|t| t.ticket.as_str()).collect();
    assert_eq!(tickets, vec!["PAY-7"]);
    assert_eq!(c.deployments[0].environment, "production");
    assert_eq!(c.evidence[0].kind.as_deref(), Some("provenance"));

    // PR 8: the change request was superseded by an approval of the merged head.
    let t = h.admin.trace_commit(&m3[..12]).expect("trace");
    let r = &t.commits[0].pull_requests[0].review;
    assert!(
        r.approved_exact_head && r.commits_after_approval.is_empty(),
        "{r:?}"
    );
    assert!(
        r.finding.starts_with("independently approved by bob"),
        "{}",
        r.finding
    );

    // The head commit as pushed, with the ticket its message and branch name.
    let t = h.admin.trace_commit(&h1).expect("trace");
    let c = &t.commits[0];
    assert_eq!(
        c.commit.as_ref().map(|c| c.message.as_str()),
        Some("PAY-7 cap refunds")
    );
    let sources: Vec<(&str, &str)> = c
        .tickets
        .iter()
        .map(|t| (t.ticket.as_str(), t.source.as_str()))
        .collect();
    assert!(
        sources.contains(&("PAY-7", "commit_message")),
        "{sources:?}"
    );
    assert!(sources.contains(&("PAY-7", "branch")), "{sources:?}");

    // Clear errors for what cannot be traced.
    let code = |r: Result<TraceView, ClientError>| match r {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an error, got {other:?}"),
    };
    assert_eq!(
        code(h.admin.trace_commit("0000000")),
        (404, "not_found".into())
    );
    assert_eq!(
        code(h.admin.trace_commit("xyz")),
        (400, "invalid_commit".into())
    );
    assert_eq!(
        code(h.admin.trace_artifact("sha256:1234")),
        (400, "invalid_artifact".into())
    );
    assert_eq!(
        code(
            h.admin
                .trace_artifact(&Sha256Digest::of(b"unknown").to_string())
        ),
        (404, "not_found".into())
    );
}

fn review_and_pipeline_definition_attestations_feed_the_trace(b: Backend) {
    let h = start(b);
    let (ci, key) = h.pipeline("pay");
    let (head, merge) = (sha('4'), sha('c'));
    let artifact = Sha256Digest::of(b"payments 1.5.0");
    // A system without webhooks: the pipeline attests the review it saw, here approved
    // only by the author.
    let review = Statement::new(
        vec![("registry.example.com/payments:1.5.0".into(), artifact)],
        andon_domain::scm::REVIEW_PREDICATE_V1.into(),
        json!({
            "repository": "acme/payments",
            "pullRequest": {"number": 12, "title": "PAY-9 fee table", "author": "carol",
                            "sourceBranch": "feature/PAY-9", "targetBranch": "main",
                            "headCommit": head, "mergeCommit": merge, "state": "merged",
                            "mergedBy": "carol"},
            "reviews": [{"reviewer": "Carol", "state": "APPROVED", "commit": head}]
        }),
    );
    let s = h.typed_summary(&ci, &key, "review", &review);
    assert_eq!(s["kind"], "review");
    assert_eq!(s["tickets"][0]["ticket"], "PAY-9");
    let pipeline = Statement::new(
        vec![("registry.example.com/payments:1.5.0".into(), artifact)],
        andon_domain::scm::PIPELINE_DEFINITION_PREDICATE_V1.into(),
        json!({
            "report": {"mediaType": "application/yaml", "path": ".github/workflows/release.yml",
                       "content": "b246IHB1c2gKam9iczoge30K"},
            "repository": "acme/payments",
            "commit": merge,
        }),
    );
    let s = h.typed_summary(&ci, &key, "pipeline-definition", &pipeline);
    assert_eq!(s["path"], ".github/workflows/release.yml");
    assert_eq!(s["sha256"], Sha256Digest::of(b"on: push\njobs: {}\n").hex());
    let t = h.admin.trace_commit(&merge).expect("trace");
    let c = &t.commits[0];
    assert_eq!(c.evidence[0].kind.as_deref(), Some("pipeline-definition"));
    assert_eq!(t.artifacts[0].digest, artifact.to_string());
    let r = &c.pull_requests[0].review;
    assert_eq!(r.self_approvals, 1);
    assert!(r.finding.contains("only by its author"), "{}", r.finding);
    // A review predicate that is not one is refused, and writes nothing.
    let bad = Statement::new(
        vec![("x".into(), artifact)],
        andon_domain::scm::REVIEW_PREDICATE_V1.into(),
        json!({"repository": "acme/payments", "pullRequest": {"number": 1, "state": "approved-ish"}}),
    );
    h.assert_unparseable(&ci, &key, "review", &bad);
}

fn vulnerability_scans_are_summarized_from_the_scanner_output(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let trivy: &[u8] = include_bytes!(
        "../../../andon-evidence/tests/fixtures/vulnerabilities/trivy-alpine-310.sarif"
    );
    let st = Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"image"))],
        andon_domain::VULNERABILITIES_PREDICATE_V1.into(),
        serde_json::to_value(andon_domain::ReportPredicate::new(
            "application/sarif+json",
            None,
            trivy,
        ))
        .expect("json"),
    );
    let s = h.typed_summary(&ci, &key, "vulnerabilities", &st);
    assert_eq!(
        (
            s["kind"].clone(),
            s["findings"].clone(),
            s["fixable"].clone()
        ),
        (json!("vulnerabilities"), json!(8), json!(8))
    );
    assert_eq!(s["by_severity"]["medium"], 6);
    let bad = Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"image"))],
        andon_domain::VULNERABILITIES_PREDICATE_V1.into(),
        serde_json::to_value(andon_domain::ReportPredicate::new(
            "application/json",
            None,
            b"{\"runs\": 1}",
        ))
        .expect("json"),
    );
    h.assert_unparseable(&ci, &key, "vulnerabilities", &bad);
}

both_backends!(
    github_deliveries_are_authenticated_recorded_once_and_read,
    gitlab_deliveries_need_the_hook_token_and_are_recorded_once,
    without_a_configured_secret_the_server_keeps_its_own,
    trace_follows_an_artifact_to_reviews_tickets_and_deployments,
    review_and_pipeline_definition_attestations_feed_the_trace,
    vulnerability_scans_are_summarized_from_the_scanner_output,
);
