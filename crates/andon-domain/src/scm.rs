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
