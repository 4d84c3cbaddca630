//! Source-control facts: commits, pull (merge) request events, reviews, deployments and the
//! tickets they name, normalized from GitHub and GitLab webhooks or from review attestations.
//!
//! These are what traceability is built from: commit -> pull request -> reviews -> tickets.
//! Identities are the provider's login (GitHub `login`, GitLab `username`) and, where the
//! provider gives one, its numeric user id, which survives renames and is compared first.

use serde::{Deserialize, Serialize};

/// Predicate type of a code-review attestation, for systems that send no webhooks.
pub const REVIEW_PREDICATE_V1: &str = "https://andon.dev/attestations/review/v1";
/// Predicate type of a pipeline-definition attestation.
pub const PIPELINE_DEFINITION_PREDICATE_V1: &str =
    "https://andon.dev/attestations/pipeline-definition/v1";

/// Everything one webhook delivery or review attestation says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceFacts {
    /// Commits pushed (or named by a review attestation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<Commit>,
    /// Pull (merge) request events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ChangeEvent>,
    /// Reviews and approvals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviews: Vec<Review>,
    /// Deployments and their status changes, as the source-control system saw them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<ScmDeployment>,
    /// Tickets named by commit messages, branch names and pull-request titles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tickets: Vec<TicketLink>,
}

impl SourceFacts {
    /// True when there is nothing to record.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
            && self.changes.is_empty()
            && self.reviews.is_empty()
            && self.deployments.is_empty()
    }
}

/// A commit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// `owner/name` (GitHub `full_name`, GitLab `path_with_namespace`).
    pub repository: String,
    /// The full commit id, lowercase hex.
    pub sha: String,
    /// The author's name or login.
    pub author: Option<String>,
    /// The author's e-mail.
    pub author_email: Option<String>,
    /// The full message.
    pub message: String,
    /// The author time, as the provider wrote it.
    pub timestamp: Option<String>,
    /// The ref it was pushed to (`refs/heads/main`).
    pub git_ref: Option<String>,
}

/// One event in the life of a pull (merge) request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// `owner/name`.
    pub repository: String,
    /// The pull request number (GitLab `iid`).
    pub number: u64,
    /// What happened: `opened`, `synchronize`, `closed`, `merged`, `reopened`, ...
    pub action: String,
    /// The title.
    pub title: String,
    /// The author's login.
    pub author: Option<String>,
    /// The author's provider user id.
    pub author_id: Option<String>,
    /// The branch the changes come from.
    pub source_branch: String,
    /// The branch they go into.
    pub target_branch: String,
    /// The head commit at this event.
    pub head_sha: Option<String>,
    /// The merge (or squash) commit, once merged.
    pub merge_sha: Option<String>,
    /// `open`, `closed` or `merged` after this event.
    pub state: String,
    /// Who caused the event (the merger, for a merge).
    pub actor: Option<String>,
    /// When, as the provider wrote it.
    pub at: Option<String>,
}

/// A review or approval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// `owner/name`.
    pub repository: String,
    /// The pull request number.
    pub number: u64,
    /// The reviewer's login.
    pub reviewer: String,
    /// The reviewer's provider user id.
    pub reviewer_id: Option<String>,
    /// `approved`, `changes_requested`, `commented`, `dismissed` or `unapproved`.
    pub state: String,
    /// The head commit the review was given on.
    pub commit: Option<String>,
    /// When, as the provider wrote it.
    pub at: Option<String>,
}

/// A deployment seen by the source-control system.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScmDeployment {
    /// `owner/name`.
    pub repository: String,
    /// The commit deployed.
    pub sha: String,
    /// The environment.
    pub environment: String,
    /// `created`, `pending`, `in_progress`, `success`, `failure`, `error`, `canceled`, ...
    pub state: String,
    /// The provider's deployment id.
    pub deployment_id: Option<String>,
    /// Who triggered it.
    pub actor: Option<String>,
    /// When, as the provider wrote it.
    pub at: Option<String>,
}

/// A ticket named somewhere in the history.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TicketLink {
    /// `owner/name`.
    pub repository: String,
    /// The ticket id as written (`PAY-123`, `#45`).
    pub ticket: String,
    /// Where it was found: `commit_message`, `branch` or `pull_request_title`.
    pub source: String,
    /// What it was found on: a commit sha, or `#<number>` for a pull request.
    pub reference: String,
}

/// Normalizes a commit id: 7 to 64 hex digits, lowercased.
pub fn normalize_sha(s: &str) -> Option<String> {
    let s = s.trim();
    ((7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| s.to_ascii_lowercase())
}

/// What the history of one pull request says about its review: the question an auditor
/// asks of every change that reached production.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewAnalysis {
    /// The author's login, when known.
    pub author: Option<String>,
    /// `open`, `closed` or `merged`.
    pub state: String,
    /// The head commit that was merged (or the current head while open).
    pub head_sha: Option<String>,
    /// The merge commit.
    pub merge_sha: Option<String>,
    /// Who merged it.
    pub merged_by: Option<String>,
    /// Reviewers other than the author whose approval stood at merge (or now, if open).
    pub independent_approvers: Vec<String>,
    /// Whether one of those approvals was given on exactly the head that was merged.
    pub approved_exact_head: bool,
    /// Heads pushed after the last independent approval, up to the merge.
    pub commits_after_approval: Vec<String>,
    /// Approvals by the author themselves, which do not count.
    pub self_approvals: u32,
    /// One sentence: the verdict an auditor reads first.
    pub finding: String,
}

fn same_person(a: (&str, Option<&str>), b: (Option<&str>, Option<&str>)) -> Option<bool> {
    match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x == y),
        _ => b.0.map(|login| login.eq_ignore_ascii_case(a.0)),
    }
}

/// Analyzes a pull request's events and reviews, each given with the ledger index that
/// orders them. Approvals count only when given by someone other than the author (by
/// provider id when both are known, else by login), before the merge (or in the same entry,
/// as a review attestation records them), and not later
/// dismissed, withdrawn or superseded by a request for changes from the same reviewer.
pub fn analyze_review(events: &[(u64, ChangeEvent)], reviews: &[(u64, Review)]) -> ReviewAnalysis {
    let mut out = ReviewAnalysis::default();
    let author = events.iter().find_map(|(_, e)| e.author.clone());
    let author_id = events.iter().find_map(|(_, e)| e.author_id.clone());
    out.author = author.clone();
    let merge = events.iter().find(|(_, e)| e.state == "merged");
    let cutoff = merge.map_or(u64::MAX, |(i, _)| *i);
    out.state = events
        .last()
        .map(|(_, e)| e.state.clone())
        .unwrap_or_default();
    if merge.is_some() {
        out.state = "merged".into();
    }
    out.head_sha = match merge {
        Some((_, m)) => m.head_sha.clone().or_else(|| {
            events
                .iter()
                .rev()
                .find_map(|(i, e)| (*i <= cutoff).then(|| e.head_sha.clone()).flatten())
        }),
        None => events.iter().rev().find_map(|(_, e)| e.head_sha.clone()),
    };
    out.merge_sha = merge.and_then(|(_, m)| m.merge_sha.clone());
    out.merged_by = merge.and_then(|(_, m)| m.actor.clone());

    // Standing approvals per reviewer: (ledger index, commit).
    let mut standing: Vec<(String, u64, Option<String>)> = Vec::new();
    for (i, r) in reviews.iter().filter(|(i, _)| *i <= cutoff) {
        let author_view = (author.as_deref(), author_id.as_deref());
        let is_author = same_person((&r.reviewer, r.reviewer_id.as_deref()), author_view);
        standing.retain(|(who, _, _)| who != &r.reviewer);
        match r.state.as_str() {
            "approved" if is_author == Some(true) => out.self_approvals += 1,
            // Independence unknown (no author recorded) is not independence.
            "approved" if is_author == Some(false) => {
                standing.push((r.reviewer.clone(), *i, r.commit.clone()));
            }
            _ => {}
        }
    }
    out.independent_approvers = standing.iter().map(|(w, _, _)| w.clone()).collect();
    out.approved_exact_head = out.head_sha.is_some()
        && standing
            .iter()
            .any(|(_, _, c)| c.is_some() && *c == out.head_sha);
    if let Some(last) = standing.iter().map(|(_, i, _)| *i).max() {
        let approved: Vec<&Option<String>> = standing.iter().map(|(_, _, c)| c).collect();
        for (i, e) in events {
            if *i > last
                && *i <= cutoff
                && let Some(h) = &e.head_sha
                && !approved.contains(&&Some(h.clone()))
                && !out.commits_after_approval.contains(h)
            {
                out.commits_after_approval.push(h.clone());
            }
        }
        if !out.approved_exact_head
            && let Some(h) = &out.head_sha
            && !out.commits_after_approval.contains(h)
        {
            out.commits_after_approval.push(h.clone());
        }
    }
    out.finding = if author.is_none() && author_id.is_none() {
        "the author is unknown, so no approval can be shown to be independent".into()
    } else if out.independent_approvers.is_empty() {
        if out.self_approvals > 0 {
            "approved only by its author: no independent review".into()
        } else {
            "no approval by anyone other than the author".into()
        }
    } else if !out.approved_exact_head {
        format!(
            "approved by {}, but on an earlier head: {} commit(s) after the approval were not reviewed",
            out.independent_approvers.join(", "),
            out.commits_after_approval.len()
        )
    } else {
        format!(
            "independently approved by {} on the exact head that was {}",
            out.independent_approvers.join(", "),
            if out.state == "merged" {
                "merged"
            } else {
                "current"
            }
        )
    };
    out
}
