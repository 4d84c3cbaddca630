//! GitHub payloads from `@octokit/webhooks-examples` and GitLab payloads from GitLab's
//! documentation, read into source-control facts; ticket ids found in them.

use andon_domain::scm::SourceFacts;
use andon_evidence::tickets::TicketPatterns;
use andon_evidence::{github, gitlab};

fn gh(event: &str, file: &str) -> Option<SourceFacts> {
    let path = format!(
        "{}/tests/fixtures/webhooks/github/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    github::parse(event, &std::fs::read(path).expect("fixture")).expect("parses")
}

fn gl(file: &str) -> Option<SourceFacts> {
    let path = format!(
        "{}/tests/fixtures/webhooks/gitlab/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    gitlab::parse(&std::fs::read(path).expect("fixture")).expect("parses")
}

#[test]
fn github_push_gives_its_commits_with_authors_and_messages() {
    let f = gh("push", "push.json").expect("facts");
    assert_eq!(f.commits.len(), 1);
    let c = &f.commits[0];
    assert_eq!(c.repository, "Codertocat/Hello-World");
    assert_eq!(c.sha, "6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(c.author.as_deref(), Some("Codertocat"));
    assert_eq!(c.message, "Initial commit");
    assert_eq!(c.git_ref.as_deref(), Some("refs/heads/master"));
    // A tag push carries no commit: nothing to record.
    assert_eq!(gh("push", "push.tag.json"), None);
}

#[test]
fn github_pull_request_events_give_head_state_and_author() {
    let opened = gh("pull_request", "pull_request.opened.json").expect("facts");
    let e = &opened.changes[0];
    assert_eq!(
        (e.repository.as_str(), e.number),
        ("Codertocat/Hello-World", 2)
    );
    assert_eq!((e.action.as_str(), e.state.as_str()), ("opened", "open"));
    assert_eq!(e.author.as_deref(), Some("Codertocat"));
    assert_eq!(e.author_id.as_deref(), Some("21031067"));
    assert_eq!(
        e.head_sha.as_deref(),
        Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821")
    );
    assert_eq!(
        (e.source_branch.as_str(), e.target_branch.as_str()),
        ("changes", "master")
    );
    assert_eq!(e.merge_sha, None);
    let sync = gh("pull_request", "pull_request.synchronize.json").expect("facts");
    assert_eq!(sync.changes[0].action, "synchronize");
    // This example was closed without merging: its test-merge commit is not a merge.
    let closed = gh("pull_request", "pull_request.closed.json").expect("facts");
    assert_eq!(
        (
            closed.changes[0].state.as_str(),
            closed.changes[0].merge_sha.as_deref()
        ),
        ("closed", None)
    );
}

#[test]
fn github_merged_pull_request_records_the_merge_commit_and_merger() {
    let path = format!(
        "{}/tests/fixtures/webhooks/github/pull_request.closed.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("json");
    v["pull_request"]["merged"] = true.into();
    v["pull_request"]["merged_by"] = serde_json::json!({"login": "octocat", "id": 583231});
    let f = github::parse("pull_request", &serde_json::to_vec(&v).expect("json"))
        .expect("parses")
        .expect("facts");
    let e = &f.changes[0];
    assert_eq!((e.action.as_str(), e.state.as_str()), ("merged", "merged"));
    assert_eq!(
        e.merge_sha.as_deref(),
        Some("c4295bd74fb0f4fda03689c3df3f2803b658fd85")
    );
    assert_eq!(e.actor.as_deref(), Some("octocat"));
}

#[test]
fn github_reviews_name_reviewer_state_and_the_commit_reviewed() {
    let f = gh("pull_request_review", "pull_request_review.submitted.json").expect("facts");
    let r = &f.reviews[0];
    assert_eq!(
        (r.reviewer.as_str(), r.state.as_str(), r.number),
        ("Codertocat", "commented", 2)
    );
    assert_eq!(
        r.commit.as_deref(),
        Some("ec26c3e57ca3a959ca5aad62de7213c562f8c821")
    );
    let d = gh("pull_request_review", "pull_request_review.dismissed.json").expect("facts");
    assert_eq!(d.reviews[0].state, "dismissed");
}

#[test]
fn github_deployments_and_their_statuses() {
    let d = gh("deployment", "deployment.json").expect("facts");
    let x = &d.deployments[0];
    assert_eq!(
        (x.environment.as_str(), x.state.as_str()),
        ("production", "created")
    );
    assert_eq!(x.sha, "f95f852bd8fca8fcc58a9a2d6c842781e32a215e");
    let s = gh("deployment_status", "deployment_status.json").expect("facts");
    assert_eq!(s.deployments[0].state, "success");
    assert_eq!(s.deployments[0].deployment_id, x.deployment_id);
}

#[test]
fn github_events_without_governance_facts_are_ignored() {
    assert_eq!(gh("ping", "ping.json"), None);
    assert_eq!(gh("issues", "ping.json"), None);
    // A known event whose payload lacks what it must carry is an error, not a silent skip.
    let e =
        github::parse("pull_request_review", br#"{"action": "submitted"}"#).expect_err("no review");
    assert!(e.to_string().contains("review is missing"), "{e}");
}

/// An instance-wide system hook names its push by `event_name` and has no `object_kind`:
/// its commits are read as a project hook's are.
#[test]
fn a_gitlab_system_hook_push_gives_its_commits() {
    let p = gl("system_hook_push.json").expect("facts");
    assert_eq!(p.commits.len(), 1);
    let c = &p.commits[0];
    assert_eq!(
        (c.repository.as_str(), c.sha.as_str(), c.git_ref.as_deref()),
        (
            "mike/diaspora",
            "c5feabde2d8cd023215af4d2ceeb7a64839fc428",
            Some("refs/heads/master")
        )
    );
}

#[test]
fn gitlab_push_merge_request_and_deployment() {
    let p = gl("push.json").expect("facts");
    assert_eq!(p.commits.len(), 2);
    assert_eq!(p.commits[0].repository, "mike/diaspora");
    assert_eq!(p.commits[1].sha, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    assert_eq!(p.commits[0].author.as_deref(), Some("Jordi Mallach"));
    let m = gl("merge_request.json").expect("facts");
    let e = &m.changes[0];
    assert_eq!(
        (e.repository.as_str(), e.number, e.action.as_str()),
        ("gitlabhq/gitlab-test", 1, "opened")
    );
    assert_eq!(
        e.head_sha.as_deref(),
        Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
    );
    // The event's user (id 1) is not the author (id 51): no login for the author.
    assert_eq!(
        (e.author.as_deref(), e.author_id.as_deref()),
        (None, Some("51"))
    );
    assert_eq!(e.title, "MS-Viewport");
    let d = gl("deployment.json").expect("facts");
    let x = &d.deployments[0];
    assert_eq!(x.sha, "279484c09fbe69ededfced8c1bb6e6d24616b468");
    assert_eq!(
        (x.environment.as_str(), x.state.as_str()),
        ("staging", "success")
    );
}

#[test]
fn gitlab_approval_is_a_review_of_the_last_commit_by_the_event_user() {
    let path = format!(
        "{}/tests/fixtures/webhooks/gitlab/merge_request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("json");
    v["object_attributes"]["action"] = "approval".into();
    let f = gitlab::parse(&serde_json::to_vec(&v).expect("json"))
        .expect("parses")
        .expect("facts");
    let r = &f.reviews[0];
    assert_eq!(
        (
            r.reviewer.as_str(),
            r.reviewer_id.as_deref(),
            r.state.as_str()
        ),
        ("root", Some("1"), "approved")
    );
    assert_eq!(
        r.commit.as_deref(),
        Some("da1560886d4f094c3e6c9ef40349f7d38b5d27d7")
    );
}

#[test]
fn tickets_come_from_messages_branches_and_titles() {
    let t = TicketPatterns::default();
    assert_eq!(
        t.find("PAY-12: cap refunds (fixes #7, see OPS-3)"),
        vec!["PAY-12", "#7", "OPS-3"]
    );
    assert_eq!(t.find("feature/PAY-12-refunds"), vec!["PAY-12"]);
    // An HTML entity or a word-joined hash is not an issue reference.
    assert_eq!(t.find("it&#39;s x#1"), Vec::<String>::new());
    let mut f = gh("pull_request", "pull_request.opened.json").expect("facts");
    f.changes[0].title = "PAY-12 refund limits".into();
    f.changes[0].source_branch = "feature/OPS-3".into();
    t.link(&mut f);
    let found: Vec<(&str, &str, &str)> = f
        .tickets
        .iter()
        .map(|l| (l.ticket.as_str(), l.source.as_str(), l.reference.as_str()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("OPS-3", "branch", "#2"),
            ("PAY-12", "pull_request_title", "#2")
        ]
    );
    let custom = TicketPatterns::new(&[r"\bSR(\d{6})\b"]).expect("compiles");
    assert_eq!(custom.find("SR004512 and SR12"), vec!["004512"]);
    assert!(
        TicketPatterns::new(&["("])
            .expect_err("bad")
            .contains("ticket pattern")
    );
}
