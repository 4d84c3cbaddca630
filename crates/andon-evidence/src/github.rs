//! GitHub webhook payloads (as GitHub sends them, see `@octokit/webhooks-examples`) into
//! source-control facts.
//!
//! Events read: `push` (commits, their authors and messages), `pull_request` (opened,
//! synchronize, reopened, edited, closed, with head and merge commits), `pull_request_review`
//! (who approved or dismissed which head commit), `deployment` and `deployment_status`. Any
//! other event, and actions of these that carry no governance fact (labeled, assigned, ...),
//! give `None`: acknowledged and ignored.

use andon_domain::scm::{ChangeEvent, Commit, Review, ScmDeployment, SourceFacts, normalize_sha};
use serde_json::Value;

use crate::ParseError;

const F: &str = "GitHub webhook";

fn malformed(message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: F,
        line: 0,
        message: message.into(),
    }
}

fn s<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

fn req<'a>(v: &'a Value, p: &str) -> Result<&'a str, ParseError> {
    s(v, p).ok_or_else(|| malformed(format!("{p} is missing")))
}

fn sha(v: &Value, p: &str) -> Result<Option<String>, ParseError> {
    match s(v, p) {
        None => Ok(None),
        Some(x) => normalize_sha(x)
            .map(Some)
            .ok_or_else(|| malformed(format!("{p} is not a commit id: {x:?}"))),
    }
}

fn id(v: &Value, p: &str) -> Option<String> {
    v.pointer(p).and_then(Value::as_u64).map(|n| n.to_string())
}

/// Reads the facts of one delivery. `event` is the `X-GitHub-Event` header.
pub fn parse(event: &str, payload: &[u8]) -> Result<Option<SourceFacts>, ParseError> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| ParseError::Malformed {
        format: F,
        line: e.line() as u64,
        message: e.to_string(),
    })?;
    let mut facts = SourceFacts::default();
    match event {
        "push" => {
            let repository = req(&v, "/repository/full_name")?;
            let git_ref = req(&v, "/ref")?;
            let commits = match v.get("commits") {
                Some(Value::Array(a)) => a.as_slice(),
                None | Some(Value::Null) => &[],
                Some(_) => return Err(malformed("commits is not an array")),
            };
            for c in commits {
                let sha = sha(c, "/id")?.ok_or_else(|| malformed("a commit has no id"))?;
                facts.commits.push(Commit {
                    repository: repository.to_owned(),
                    sha,
                    author: s(c, "/author/username")
                        .or_else(|| s(c, "/author/name"))
                        .map(str::to_owned),
                    author_email: s(c, "/author/email").map(str::to_owned),
                    message: s(c, "/message").unwrap_or_default().to_owned(),
                    timestamp: s(c, "/timestamp").map(str::to_owned),
                    git_ref: Some(git_ref.to_owned()),
                });
            }
        }
        "pull_request" => {
            let action = req(&v, "/action")?;
            if !matches!(
                action,
                "opened" | "synchronize" | "reopened" | "edited" | "closed" | "ready_for_review"
            ) {
                return Ok(None);
            }
            let pr = v
                .get("pull_request")
                .ok_or_else(|| malformed("pull_request is missing"))?;
            let merged = pr.get("merged").and_then(Value::as_bool).unwrap_or(false);
            let (action, state) = match (action, merged) {
                ("closed", true) => ("merged", "merged"),
                ("closed", false) => ("closed", "closed"),
                (a, _) => (a, "open"),
            };
            facts.changes.push(ChangeEvent {
                repository: req(&v, "/repository/full_name")?.to_owned(),
                number: pr
                    .get("number")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| malformed("pull_request.number is missing"))?,
                action: action.to_owned(),
                title: s(pr, "/title").unwrap_or_default().to_owned(),
                author: s(pr, "/user/login").map(str::to_owned),
                author_id: id(pr, "/user/id"),
                source_branch: s(pr, "/head/ref").unwrap_or_default().to_owned(),
                target_branch: s(pr, "/base/ref").unwrap_or_default().to_owned(),
                head_sha: sha(pr, "/head/sha")?,
                // GitHub fills merge_commit_sha with a test merge while open; it is the
                // merge only once merged.
                merge_sha: if merged {
                    sha(pr, "/merge_commit_sha")?
                } else {
                    None
                },
                state: state.to_owned(),
                actor: if merged {
                    s(pr, "/merged_by/login").or_else(|| s(&v, "/sender/login"))
                } else {
                    s(&v, "/sender/login")
                }
                .map(str::to_owned),
                at: s(pr, "/merged_at")
                    .filter(|_| merged)
                    .or_else(|| s(pr, "/updated_at"))
                    .map(str::to_owned),
            });
        }
        "pull_request_review" => {
            let action = req(&v, "/action")?;
            if !matches!(action, "submitted" | "dismissed") {
                return Ok(None);
            }
            let review = v
                .get("review")
                .ok_or_else(|| malformed("review is missing"))?;
            let state = req(review, "/state")?.to_ascii_lowercase();
            facts.reviews.push(Review {
                repository: req(&v, "/repository/full_name")?.to_owned(),
                number: v
                    .pointer("/pull_request/number")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| malformed("pull_request.number is missing"))?,
                reviewer: req(review, "/user/login")?.to_owned(),
                reviewer_id: id(review, "/user/id"),
                state: if action == "dismissed" {
                    "dismissed".to_owned()
                } else {
                    state
                },
                commit: sha(review, "/commit_id")?,
                at: s(review, "/submitted_at").map(str::to_owned),
            });
        }
        "deployment" | "deployment_status" => {
            let d = v
                .get("deployment")
                .ok_or_else(|| malformed("deployment is missing"))?;
            let (state, at, environment) = if event == "deployment" {
                ("created", s(d, "/created_at"), s(d, "/environment"))
            } else {
                (
                    req(&v, "/deployment_status/state")?,
                    s(&v, "/deployment_status/created_at"),
                    s(&v, "/deployment_status/environment").or_else(|| s(d, "/environment")),
                )
            };
            facts.deployments.push(ScmDeployment {
                repository: req(&v, "/repository/full_name")?.to_owned(),
                sha: sha(d, "/sha")?.ok_or_else(|| malformed("deployment.sha is missing"))?,
                environment: environment.unwrap_or_default().to_owned(),
                state: state.to_owned(),
                deployment_id: id(d, "/id"),
                actor: s(&v, "/sender/login").map(str::to_owned),
                at: at.map(str::to_owned),
            });
        }
        _ => return Ok(None),
    }
    Ok((!facts.is_empty()).then_some(facts))
}
