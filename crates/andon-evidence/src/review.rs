//! Review and pipeline-definition predicates: facts a pipeline attests itself, for
//! source-control systems that send no webhooks, and for the pipeline file that ran.
//!
//! A review predicate (`https://andon.dev/attestations/review/v1`):
//!
//! ```json
//! {
//!   "repository": "acme/payments",
//!   "pullRequest": {"number": 42, "title": "PAY-7 refund limits", "author": "alice",
//!                   "sourceBranch": "feature/PAY-7", "targetBranch": "main",
//!                   "headCommit": "<sha>", "mergeCommit": "<sha>", "state": "merged",
//!                   "mergedBy": "bob", "mergedAt": "2026-11-20T10:00:00Z"},
//!   "reviews": [{"reviewer": "bob", "state": "approved", "commit": "<sha>",
//!                "submittedAt": "2026-11-20T09:55:00Z"}],
//!   "commits": [{"sha": "<sha>", "author": "alice", "message": "PAY-7 cap refunds"}]
//! }
//! ```
//!
//! A pipeline-definition predicate (`https://andon.dev/attestations/pipeline-definition/v1`)
//! embeds the file itself, so Andon computes its digest rather than trusting one:
//! `{"report": {"mediaType", "path", "content": <base64>}, "repository", "commit"}`.

use andon_domain::scm::{ChangeEvent, Commit, Review, SourceFacts, normalize_sha};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::ParseError;

fn malformed(format: &'static str, message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format,
        line: 0,
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReviewPredicate {
    repository: String,
    pull_request: PullRequest,
    #[serde(default)]
    reviews: Vec<ReviewIn>,
    #[serde(default)]
    commits: Vec<CommitIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PullRequest {
    number: u64,
    #[serde(default)]
    title: String,
    author: Option<String>,
    #[serde(default)]
    source_branch: String,
    #[serde(default)]
    target_branch: String,
    head_commit: Option<String>,
    merge_commit: Option<String>,
    state: String,
    merged_by: Option<String>,
    merged_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReviewIn {
    reviewer: String,
    state: String,
    commit: Option<String>,
    submitted_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CommitIn {
    sha: String,
    author: Option<String>,
    #[serde(default)]
    message: String,
    timestamp: Option<String>,
}

const REVIEW: &str = "review predicate";

fn commit_id(s: Option<String>, what: &str) -> Result<Option<String>, ParseError> {
    s.map(|s| {
        normalize_sha(&s).ok_or_else(|| malformed(REVIEW, format!("{what} is not a commit id")))
    })
    .transpose()
}

/// Reads a review predicate into source-control facts.
pub fn parse_review(predicate: &Value) -> Result<SourceFacts, ParseError> {
    let p: ReviewPredicate =
        serde_json::from_value(predicate.clone()).map_err(|e| malformed(REVIEW, e.to_string()))?;
    if p.repository.is_empty() || p.repository.len() > 256 {
        return Err(malformed(REVIEW, "repository is 1 to 256 characters"));
    }
    let pr = p.pull_request;
    let state = match pr.state.as_str() {
        "open" | "closed" | "merged" => pr.state.clone(),
        other => {
            return Err(malformed(
                REVIEW,
                format!("pullRequest.state {other:?} is not open, closed or merged"),
            ));
        }
    };
    let mut facts = SourceFacts::default();
    for c in p.commits {
        facts.commits.push(Commit {
            repository: p.repository.clone(),
            sha: commit_id(Some(c.sha), "commits[].sha")?.unwrap_or_default(),
            author: c.author,
            author_email: None,
            message: c.message,
            timestamp: c.timestamp,
            git_ref: None,
        });
    }
    let merged = state == "merged";
    facts.changes.push(ChangeEvent {
        repository: p.repository.clone(),
        number: pr.number,
        action: if merged { "merged" } else { "attested" }.to_owned(),
        title: pr.title,
        author: pr.author,
        author_id: None,
        source_branch: pr.source_branch,
        target_branch: pr.target_branch,
        head_sha: commit_id(pr.head_commit, "pullRequest.headCommit")?,
        merge_sha: commit_id(pr.merge_commit, "pullRequest.mergeCommit")?,
        state,
        actor: pr.merged_by,
        at: pr.merged_at,
    });
    for r in p.reviews {
        let state = r.state.to_ascii_lowercase();
        if !matches!(
            state.as_str(),
            "approved" | "changes_requested" | "commented" | "dismissed" | "unapproved"
        ) {
            return Err(malformed(
                REVIEW,
                format!(
                    "review state {:?} is not approved, changes_requested, commented, dismissed or unapproved",
                    r.state
                ),
            ));
        }
        facts.reviews.push(Review {
            repository: p.repository.clone(),
            number: pr.number,
            reviewer: r.reviewer,
            reviewer_id: None,
            state,
            commit: commit_id(r.commit, "reviews[].commit")?,
            at: r.submitted_at,
        });
    }
    Ok(facts)
}

/// What a pipeline-definition attestation establishes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineDefinition {
    /// The file's path in the repository.
    pub path: String,
    /// SHA-256 of the file, computed by Andon from the embedded content.
    pub sha256: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// The repository it was read from.
    pub repository: Option<String>,
    /// The commit it was read at.
    pub commit: Option<String>,
}

const PIPELINE: &str = "pipeline-definition predicate";

/// Reads a pipeline-definition predicate, given the embedded file's decoded bytes.
pub fn parse_pipeline_definition(
    predicate: &Value,
    content: &[u8],
) -> Result<PipelineDefinition, ParseError> {
    let path = predicate
        .pointer("/report/path")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty() && p.len() <= 1024)
        .ok_or_else(|| malformed(PIPELINE, "report.path (the definition's path) is required"))?;
    let repository = predicate
        .get("repository")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let commit = match predicate.get("commit").and_then(Value::as_str) {
        None => None,
        Some(c) => {
            Some(normalize_sha(c).ok_or_else(|| malformed(PIPELINE, "commit is not a commit id"))?)
        }
    };
    Ok(PipelineDefinition {
        path: path.to_owned(),
        sha256: hex_of(&Sha256::digest(content)),
        bytes: content.len() as u64,
        repository,
        commit,
    })
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
