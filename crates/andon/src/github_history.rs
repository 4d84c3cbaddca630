//! A pull-request history as GitHub would deliver it, for the demo: each payload is GitHub's
//! own published example (`@octokit/webhooks-examples`) with this history's particulars, and
//! each delivery is signed with the hook's secret as GitHub signs it.

use andon_client::{Client, github_signature};
use serde_json::{Value, json};

const PULL_REQUEST: &str =
    include_str!("../../andon-evidence/tests/fixtures/webhooks/github/pull_request.opened.json");
const REVIEW: &str = include_str!(
    "../../andon-evidence/tests/fixtures/webhooks/github/pull_request_review.submitted.json"
);
const PUSH: &str = include_str!("../../andon-evidence/tests/fixtures/webhooks/github/push.json");
const DEPLOYMENT_STATUS: &str =
    include_str!("../../andon-evidence/tests/fixtures/webhooks/github/deployment_status.json");

/// What stays the same across a pull request's events.
#[derive(Clone, Copy)]
pub struct PullRequest<'a> {
    /// Its number.
    pub number: u64,
    /// Its title.
    pub title: &'a str,
    /// Its author's login.
    pub author: &'a str,
    /// Its source branch.
    pub branch: &'a str,
}

/// A repository's webhook, as seen from GitHub's side.
pub struct Hook<'a> {
    /// The server.
    pub client: &'a Client,
    /// The hook's secret.
    pub secret: &'a str,
    /// `owner/name`.
    pub repository: String,
    /// Deliveries sent so far (also the delivery id suffix).
    pub sent: u32,
    /// A prefix making delivery ids unique per demo run.
    pub run_id: String,
}

fn template(text: &str) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(text)?)
}

fn user(login: &str) -> Value {
    let id: u64 = login.bytes().fold(7, |h, b| h * 31 + u64::from(b)) % 90_000_000;
    json!({"login": login, "id": id, "type": "User"})
}

impl Hook<'_> {
    fn deliver(&mut self, event: &str, mut payload: Value) -> anyhow::Result<()> {
        payload["repository"]["full_name"] = self.repository.clone().into();
        let body = serde_json::to_vec(&payload)?;
        self.sent += 1;
        self.client.deliver_webhook(
            "/webhooks/github",
            &[
                ("X-GitHub-Event", event.to_owned()),
                (
                    "X-GitHub-Delivery",
                    format!("{}-{}", self.run_id, self.sent),
                ),
                ("X-Hub-Signature-256", github_signature(self.secret, &body)),
            ],
            &body,
        )?;
        Ok(())
    }

    /// A push of `commits` (id, message, author) to `branch`.
    pub fn push(&mut self, branch: &str, commits: &[(&str, &str, &str)]) -> anyhow::Result<()> {
        let timed: Vec<(&str, &str, &str, jiff::Timestamp)> = commits
            .iter()
            .map(|&(id, message, author)| {
                // Authored between 1 and 48 hours before the demo runs, so lead times are
                // realistic (the template's date is years old).
                let hours = 1 + id.bytes().map(i64::from).sum::<i64>() % 48;
                let at = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(hours);
                (id, message, author, at)
            })
            .collect();
        self.push_at(branch, &timed)
    }

    /// A push of commits authored at the given times.
    pub fn push_at(
        &mut self,
        branch: &str,
        commits: &[(&str, &str, &str, jiff::Timestamp)],
    ) -> anyhow::Result<()> {
        let mut p = template(PUSH)?;
        let model = p["commits"][0].clone();
        p["ref"] = format!("refs/heads/{branch}").into();
        p["commits"] = commits
            .iter()
            .map(|(id, message, author, at)| {
                let mut c = model.clone();
                c["id"] = (*id).into();
                c["message"] = (*message).into();
                c["author"] = json!({"name": author, "email": format!("{author}@example.com"), "username": author});
                c["timestamp"] = at.to_string().into();
                c
            })
            .collect();
        self.deliver("push", p)
    }

    /// A pull request event: `opened`, `synchronize`, or `closed` with a merge commit and
    /// who merged it.
    pub fn pull_request(
        &mut self,
        action: &str,
        pr: &PullRequest<'_>,
        head: &str,
        merge: Option<(&str, &str)>,
    ) -> anyhow::Result<()> {
        let PullRequest {
            number,
            title,
            author,
            branch,
        } = *pr;
        let mut p = template(PULL_REQUEST)?;
        p["action"] = action.into();
        let pr = &mut p["pull_request"];
        pr["number"] = number.into();
        pr["title"] = title.into();
        pr["user"] = user(author);
        pr["head"]["sha"] = head.into();
        pr["head"]["ref"] = branch.into();
        pr["base"]["ref"] = "main".into();
        if let Some((merge_sha, merger)) = merge {
            pr["state"] = "closed".into();
            pr["merged"] = true.into();
            pr["merge_commit_sha"] = merge_sha.into();
            pr["merged_by"] = user(merger);
        }
        p["sender"] = user(merge.map_or(author, |(_, m)| m));
        self.deliver("pull_request", p)
    }

    /// A review submitted on `commit`.
    pub fn review(
        &mut self,
        number: u64,
        reviewer: &str,
        state: &str,
        commit: &str,
    ) -> anyhow::Result<()> {
        let mut p = template(REVIEW)?;
        p["pull_request"]["number"] = number.into();
        p["review"]["user"] = user(reviewer);
        p["review"]["state"] = state.into();
        p["review"]["commit_id"] = commit.into();
        self.deliver("pull_request_review", p)
    }

    /// A deployment of `commit` reaching `state` in `environment`.
    pub fn deployment_status(
        &mut self,
        commit: &str,
        environment: &str,
        state: &str,
    ) -> anyhow::Result<()> {
        let mut p = template(DEPLOYMENT_STATUS)?;
        p["deployment"]["sha"] = commit.into();
        p["deployment"]["environment"] = environment.into();
        p["deployment_status"]["environment"] = environment.into();
        p["deployment_status"]["state"] = state.into();
        p["deployment_status"]["created_at"] = jiff::Timestamp::now().to_string().into();
        self.deliver("deployment_status", p)
    }
}
