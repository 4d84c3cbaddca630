//! GitLab webhook payloads (as documented in GitLab's "Webhook events") into source-control
//! facts.
//!
//! Events read, by `object_kind` (or, for a system hook's push, `event_name`): `push` (commits), `merge_request` (open, update, reopen,
//! close, merge; and approvals: `approval`/`approved` by the user who approved, on the then
//! last commit, `unapproval`/`unapproved`) and `deployment`. GitLab names a merge request's
//! author only by id (`author_id`); when the event's `user` is that id (the author opened
//! it), the login is taken from there. Anything else gives `None`.

use andon_domain::scm::{ChangeEvent, Commit, Review, ScmDeployment, SourceFacts, normalize_sha};
use serde_json::Value;

use crate::ParseError;
use crate::payload::Reader;

const R: Reader = Reader("GitLab webhook");

fn repository(v: &Value) -> Result<&str, ParseError> {
    R.req(v, "/project/path_with_namespace")
}

/// Reads the facts of one delivery, whatever its `X-Gitlab-Event` header: GitLab names the
/// kind inside the payload.
pub fn parse(payload: &[u8]) -> Result<Option<SourceFacts>, ParseError> {
    let v = R.json(payload)?;
    let mut facts = SourceFacts::default();
    // A system hook (instance-wide) names a push by `event_name`, without `object_kind`.
    let kind = R
        .s(&v, "/object_kind")
        .or_else(|| R.s(&v, "/event_name"))
        .unwrap_or_default();
    match kind {
        "push" => {
            let repo = repository(&v)?;
            let git_ref = R.req(&v, "/ref")?;
            for c in v
                .get("commits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                facts.commits.push(Commit {
                    repository: repo.to_owned(),
                    sha: R
                        .sha(c, "/id")?
                        .ok_or_else(|| R.malformed("a commit has no id"))?,
                    author: R.s(c, "/author/name").map(str::to_owned),
                    author_email: R.s(c, "/author/email").map(str::to_owned),
                    message: R.s(c, "/message").unwrap_or_default().to_owned(),
                    timestamp: R.s(c, "/timestamp").map(str::to_owned),
                    git_ref: Some(git_ref.to_owned()),
                });
            }
        }
        "merge_request" => {
            let repo = repository(&v)?;
            let mr = v
                .get("object_attributes")
                .ok_or_else(|| R.malformed("object_attributes is missing"))?;
            let number = mr
                .get("iid")
                .and_then(Value::as_u64)
                .ok_or_else(|| R.malformed("object_attributes.iid is missing"))?;
            let action = R.s(mr, "/action").unwrap_or("update");
            let head = R.sha(mr, "/last_commit/id")?;
            let user = R.s(&v, "/user/username").map(str::to_owned);
            let user_id = R.id(&v, "/user/id");
            let at = R.s(mr, "/updated_at").map(str::to_owned);
            match action {
                "approval" | "approved" | "unapproval" | "unapproved" => {
                    let state = if action.starts_with("un") {
                        "unapproved"
                    } else {
                        "approved"
                    };
                    facts.reviews.push(Review {
                        repository: repo.to_owned(),
                        number,
                        reviewer: user.ok_or_else(|| R.malformed("user.username is missing"))?,
                        reviewer_id: user_id,
                        state: state.to_owned(),
                        commit: head,
                        at,
                    });
                }
                "open" | "update" | "reopen" | "close" | "merge" => {
                    let author_id = R.id(mr, "/author_id");
                    let author = user.clone().filter(|_| author_id == user_id);
                    let (action, state) = match action {
                        "open" => ("opened", "open"),
                        "update" => ("synchronize", "open"),
                        "reopen" => ("reopened", "open"),
                        "close" => ("closed", "closed"),
                        _ => ("merged", "merged"),
                    };
                    facts.changes.push(ChangeEvent {
                        repository: repo.to_owned(),
                        number,
                        action: action.to_owned(),
                        title: R.s(mr, "/title").unwrap_or_default().to_owned(),
                        author,
                        author_id,
                        source_branch: R.s(mr, "/source_branch").unwrap_or_default().to_owned(),
                        target_branch: R.s(mr, "/target_branch").unwrap_or_default().to_owned(),
                        head_sha: head,
                        merge_sha: if state == "merged" {
                            R.sha(mr, "/merge_commit_sha")?
                        } else {
                            None
                        },
                        state: state.to_owned(),
                        actor: user,
                        at,
                    });
                }
                _ => return Ok(None),
            }
        }
        "deployment" => {
            // The payload has `short_sha` and the full id only at the end of commit_url.
            let commit = R
                .s(&v, "/commit_url")
                .and_then(|u| u.rsplit('/').next())
                .and_then(normalize_sha)
                .ok_or_else(|| R.malformed("commit_url does not end in a commit id"))?;
            facts.deployments.push(ScmDeployment {
                repository: repository(&v)?.to_owned(),
                sha: commit,
                environment: R.req(&v, "/environment")?.to_owned(),
                state: R.req(&v, "/status")?.to_owned(),
                deployment_id: R.id(&v, "/deployment_id"),
                actor: R.s(&v, "/user/username").map(str::to_owned),
                at: R.s(&v, "/status_changed_at").map(str::to_owned),
            });
        }
        _ => return Ok(None),
    }
    Ok((!facts.is_empty()).then_some(facts))
}
