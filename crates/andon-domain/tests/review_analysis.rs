//! The review verdict over a pull request's history: who approved what, and when.

use andon_domain::scm::{ChangeEvent, Review, analyze_review};

fn event(action: &str, head: &str, merged: bool) -> ChangeEvent {
    ChangeEvent {
        repository: "acme/payments".into(),
        number: 1,
        action: action.into(),
        author: Some("alice".into()),
        author_id: Some("1".into()),
        head_sha: Some(head.into()),
        merge_sha: merged.then(|| "m".repeat(40)),
        state: if merged { "merged" } else { "open" }.into(),
        actor: merged.then(|| "bob".into()),
        ..Default::default()
    }
}

fn review(who: &str, id: Option<&str>, state: &str, commit: &str) -> Review {
    Review {
        repository: "acme/payments".into(),
        number: 1,
        reviewer: who.into(),
        reviewer_id: id.map(Into::into),
        state: state.into(),
        commit: Some(commit.into()),
        ..Default::default()
    }
}

#[test]
fn a_dismissed_approval_no_longer_counts() {
    let events = vec![
        (0, event("opened", "h1", false)),
        (3, event("merged", "h1", true)),
    ];
    let reviews = vec![
        (1, review("bob", Some("2"), "approved", "h1")),
        (2, review("bob", Some("2"), "dismissed", "h1")),
    ];
    let a = analyze_review(&events, &reviews);
    assert!(a.independent_approvers.is_empty());
    assert_eq!(a.finding, "no approval by anyone other than the author");
}

#[test]
fn the_author_is_recognised_by_id_even_under_another_login() {
    let events = vec![
        (0, event("opened", "h1", false)),
        (2, event("merged", "h1", true)),
    ];
    let reviews = vec![(1, review("alice-renamed", Some("1"), "approved", "h1"))];
    let a = analyze_review(&events, &reviews);
    assert_eq!(a.self_approvals, 1);
    assert!(a.finding.contains("only by its author"), "{}", a.finding);
}

#[test]
fn an_approval_after_the_merge_does_not_count() {
    let events = vec![
        (0, event("opened", "h1", false)),
        (1, event("merged", "h1", true)),
    ];
    let reviews = vec![(2, review("bob", Some("2"), "approved", "h1"))];
    assert!(
        analyze_review(&events, &reviews)
            .independent_approvers
            .is_empty()
    );
}

#[test]
fn pushes_after_the_approval_are_listed() {
    let events = vec![
        (0, event("opened", "h1", false)),
        (2, event("synchronize", "h2", false)),
        (3, event("synchronize", "h3", false)),
        (4, event("merged", "h3", true)),
    ];
    let reviews = vec![(1, review("bob", Some("2"), "approved", "h1"))];
    let a = analyze_review(&events, &reviews);
    assert_eq!(
        a.commits_after_approval,
        vec!["h2".to_owned(), "h3".to_owned()]
    );
    assert!(!a.approved_exact_head);
    assert_eq!(
        (a.state.as_str(), a.head_sha.as_deref()),
        ("merged", Some("h3"))
    );
}

#[test]
fn without_a_known_author_independence_cannot_be_shown() {
    let mut e = event("opened", "h1", false);
    e.author = None;
    e.author_id = None;
    let a = analyze_review(&[(0, e)], &[(1, review("bob", None, "approved", "h1"))]);
    assert!(a.independent_approvers.is_empty());
    assert!(a.finding.contains("author is unknown"), "{}", a.finding);
}
