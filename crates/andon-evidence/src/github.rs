//! GitHub webhook payloads (as GitHub sends them, see `@octokit/webhooks-examples`) into
//! source-control facts.
//!
//! Events read: `push` (commits, their authors and messages), `pull_request` (opened,
//! synchronize, reopened, edited, closed, with head and merge commits), `pull_request_review`
//! (who approved or dismissed which head commit), `deployment` and `deployment_status`. Any
//! other event, and actions of these that carry no governance fact (labeled, assigned, ...),
//! give `None`: acknowledged and ignored.

use andon_domain::scm::{ChangeEvent, Commit, Review, ScmDeployment, SourceFacts};
use serde_json::Value;

use crate::ParseError;
use crate::payload::Reader;

const R: Reader = Reader("GitHub webhook");

/// Reads the facts of one delivery. `event` is the `X-GitHub-Event` header.
pub fn parse(event: &str, payload: &[u8]) -> Result<Option<SourceFacts>, ParseError> {
    let v = R.json(payload)?;
    let mut facts = SourceFacts::default();
    match event {
        "push" => {
            let repository = R.req(&v, "/repository/full_name")?;
            let git_ref = R.req(&v, "/ref")?;
            let commits = match v.get("commits") {
                Some(Value::Array(a)) => a.as_slice(),
                None | Some(Value::Null) => &[],
                Some(_) => return Err(R.malformed("commits is not an array")),
            };
            for c in commits {
                let sha = R
                    .sha(c, "/id")?
                    .ok_or_else(|| R.malformed("a commit has no id"))?;
                facts.commits.push(Commit {
                    repository: repository.to_owned(),
                    sha,
                    author: R
                        .s(c, "/author/username")
                        .or_else(|| R.s(c, "/author/name"))
                        .map(str::to_owned),
                    author_email: R.s(c, "/author/email").map(str::to_owned),
                    message: R.s(c, "/message").unwrap_or_default().to_owned(),
                    timestamp: R.s(c, "/timestamp").map(str::to_owned),
                    git_ref: Some(git_ref.to_owned()),
                });
            }
        }
        "pull_request" => {
            let action = R.req(&v, "/action")?;
            if !matches!(
                action,
                "opened" | "synchronize" | "reopened" | "edited" | "closed" | "ready_for_review"
            ) {
                return Ok(None);
            }
            let pr = v
                .get("pull_request")
                .ok_or_else(|| R.malformed("pull_request is missing"))?;
            let merged = pr.get("merged").and_then(Value::as_bool).unwrap_or(false);
            let (action, state) = match (action, merged) {
                ("closed", true) => ("merged", "merged"),
                ("closed", false) => ("closed", "closed"),
                (a, _) => (a, "open"),
            };
            facts.changes.push(ChangeEvent {
                repository: R.req(&v, "/repository/full_name")?.to_owned(),
                number: pr
                    .get("number")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| R.malformed("pull_request.number is missing"))?,
                action: action.to_owned(),
                title: R.s(pr, "/title").unwrap_or_default().to_owned(),
                author: R.s(pr, "/user/login").map(str::to_owned),
                author_id: R.id(pr, "/user/id"),
                source_branch: R.s(pr, "/head/ref").unwrap_or_default().to_owned(),
                target_branch: R.s(pr, "/base/ref").unwrap_or_default().to_owned(),
                head_sha: R.sha(pr, "/head/sha")?,
                // GitHub fills merge_commit_sha with a test merge while open; it is the
                // merge only once merged.
                merge_sha: if merged {
                    R.sha(pr, "/merge_commit_sha")?
                } else {
                    None
                },
                state: state.to_owned(),
                actor: if merged {
                    R.s(pr, "/merged_by/login")
                        .or_else(|| R.s(&v, "/sender/login"))
                } else {
                    R.s(&v, "/sender/login")
                }
                .map(str::to_owned),
                at: R
                    .s(pr, "/merged_at")
                    .filter(|_| merged)
                    .or_else(|| R.s(pr, "/updated_at"))
                    .map(str::to_owned),
            });
        }
        "pull_request_review" => {
            let action = R.req(&v, "/action")?;
            if !matches!(action, "submitted" | "dismissed") {
                return Ok(None);
            }
            let review = v
                .get("review")
                .ok_or_else(|| R.malformed("review is missing"))?;
            let state = R.req(review, "/state")?.to_ascii_lowercase();
            facts.reviews.push(Review {
                repository: R.req(&v, "/repository/full_name")?.to_owned(),
                number: v
                    .pointer("/pull_request/number")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| R.malformed("pull_request.number is missing"))?,
                reviewer: R.req(review, "/user/login")?.to_owned(),
                reviewer_id: R.id(review, "/user/id"),
                state: if action == "dismissed" {
                    "dismissed".to_owned()
                } else {
                    state
                },
                commit: R.sha(review, "/commit_id")?,
                at: R.s(review, "/submitted_at").map(str::to_owned),
            });
        }
        "deployment" | "deployment_status" => {
            let d = v
                .get("deployment")
                .ok_or_else(|| R.malformed("deployment is missing"))?;
            let (state, at, environment) = if event == "deployment" {
                ("created", R.s(d, "/created_at"), R.s(d, "/environment"))
            } else {
                (
                    R.req(&v, "/deployment_status/state")?,
                    R.s(&v, "/deployment_status/created_at"),
                    R.s(&v, "/deployment_status/environment")
                        .or_else(|| R.s(d, "/environment")),
                )
            };
            facts.deployments.push(ScmDeployment {
                repository: R.req(&v, "/repository/full_name")?.to_owned(),
                sha: R
                    .sha(d, "/sha")?
                    .ok_or_else(|| R.malformed("deployment.sha is missing"))?,
                environment: environment.unwrap_or_default().to_owned(),
                state: state.to_owned(),
                deployment_id: R.id(d, "/id"),
                actor: R.s(&v, "/sender/login").map(str::to_owned),
                at: at.map(str::to_owned),
            });
        }
        _ => return Ok(None),
    }
    Ok((!facts.is_empty()).then_some(facts))
}
