//! What a gate gathers about an artifact (its evidence, the commits that evidence names
//! with their pull requests and reviews, and the deployments of its source commits), kept
//! between gates of the same artifact ([`super::kept`]).
//!
//! Gathering is about fifteen queries; checking that nothing it read has changed is a part
//! of one ([`andon_store::Store::gathered_since`]). [`gather`] reads the application's
//! evidence (with its subjects and commits) and the source-control tables; a read of any
//! other table added there must be added to the check. The parts of the input that depend
//! on the time or on the environment are the gate's context ([`super::context`]). Debug
//! builds gather again on every hit and assert that both agree.

use std::collections::BTreeSet;
use std::sync::Arc;

use andon_domain::{AppName, ArtifactRef};
use andon_policy::Prepared;
use andon_store::{EvidenceFilter, EvidenceRow};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::kept::{Check, Keep, Key};
use crate::input::{is_production, rfc3339};
use crate::{App, AppError};

/// Evidence records read per gate, at most.
const MAX_GATE_EVIDENCE: u32 = 1000;

/// The artifact's part of the gate input.
#[derive(Clone, Debug)]
pub struct Gathered {
    /// `evidence`: oldest first.
    pub evidence: Value,
    /// `commits`.
    pub commits: Value,
    /// `deployments`.
    pub deployments: Value,
    /// The same three in the policy engine's values, converted once for every gate that
    /// uses this gather.
    pub prepared: [Prepared; 3],
    /// The same three serialized (compact JSON), once for every decision that signs them.
    pub serialized: [Box<RawValue>; 3],
}

/// Equal when the three lists are: the engine's values and the serialized lists are made
/// from them.
impl PartialEq for Gathered {
    fn eq(&self, other: &Self) -> bool {
        self.evidence == other.evidence
            && self.commits == other.commits
            && self.deployments == other.deployments
    }
}

impl Gathered {
    /// The artifact's part of the gate input from its three lists.
    pub(crate) fn new(evidence: Vec<Value>, commits: Vec<Value>, deployments: Vec<Value>) -> Self {
        let (evidence, commits, deployments) = (
            Value::Array(evidence),
            Value::Array(commits),
            Value::Array(deployments),
        );
        let prepared = [&evidence, &commits, &deployments].map(Prepared::of);
        // A JSON value always serializes, and what it serializes to is JSON.
        let serialized = [&evidence, &commits, &deployments]
            .map(|v| serde_json::value::to_raw_value(v).unwrap_or_else(|e| unreachable!("{e}")));
        Self {
            evidence,
            commits,
            deployments,
            prepared,
            serialized,
        }
    }

    /// The input's members this gather holds, named, in the engine's values.
    pub fn prepared(&self) -> [(&'static str, &Prepared); 3] {
        let [e, c, d] = &self.prepared;
        [("evidence", e), ("commits", c), ("deployments", d)]
    }
}

/// The key a gather of `artifact` is kept under.
pub(crate) fn key(application: &AppName, artifact: &ArtifactRef) -> Key {
    (application.to_string(), artifact.digest.hex())
}

/// The artifact's part of the gate input: `kept` (from the last gate of the same artifact)
/// when `check` says nothing it read has changed since, gathered otherwise; with what to
/// keep once the decision is durable.
pub(crate) async fn artifact_facts(
    app: &App,
    application: &AppName,
    artifact: &ArtifactRef,
    kept: Option<Arc<Gathered>>,
    check: &Check<'_>,
) -> Result<(Arc<Gathered>, Keep<Gathered>), AppError> {
    super::kept::kept_or_read(
        app,
        key(application, artifact),
        kept,
        check,
        |m| m.changed,
        gather(app, application, artifact),
    )
    .await
}

/// The summary a policy sees: long listings that no control reads are dropped, so that the
/// input (kept in every decision) stays small.
fn policy_summary(summary: Option<&str>) -> Value {
    let mut v: Value = summary
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        match o.get("kind").and_then(Value::as_str) {
            Some("sbom") => {
                o.remove("listed");
            }
            Some("coverage") => {
                o.remove("files");
            }
            _ => {}
        }
    }
    v
}

/// One piece of evidence as the gate input shows it.
fn evidence_input(r: &EvidenceRow, summary: Value) -> Value {
    json!({
        "id": r.id,
        "ledger_index": r.ledger_index,
        "kind": summary.get("kind").and_then(Value::as_str).unwrap_or("generic"),
        "predicate_type": r.predicate_type,
        "signer": r.signer,
        "keyless": r.keyless.as_deref().and_then(|k| serde_json::from_str::<Value>(k).ok()),
        "run": r.run,
        "accepted_at": rfc3339(Some(r.created_at)).unwrap_or_default(),
        "subjects": r.subjects.iter().map(|(n, d)| json!({"name": n, "digest": andon_domain::SubjectDigest::shown(d)})).collect::<Vec<_>>(),
        "summary": summary,
    })
}

/// Reads the artifact's part of the gate input from the store: only the tables
/// [`andon_store::Store::gathered_since`] watches.
async fn gather(
    app: &App,
    application: &AppName,
    artifact: &ArtifactRef,
) -> Result<Gathered, AppError> {
    let store = app.store();
    let mut rows = store
        .list_evidence(&EvidenceFilter {
            application: Some(application.to_string()),
            subject_digest: Some(artifact.digest.hex()),
            limit: MAX_GATE_EVIDENCE,
            ..Default::default()
        })
        .await?;
    rows.reverse();
    let indexes: Vec<u64> = rows.iter().map(|r| r.ledger_index).collect();
    let shas = store.commits_of_evidence_set(&indexes).await?;
    // The artifact was built from its provenance's source commits: their deployments are
    // the artifact's (a pipeline definition's commit says nothing about where it ran).
    let summaries: Vec<Value> = rows
        .iter()
        .map(|r| policy_summary(r.summary.as_deref()))
        .collect();
    let sources: BTreeSet<String> = summaries
        .iter()
        .filter(|s| s["kind"] == "provenance")
        .filter_map(|s| s["source_commit"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let mut commits = Vec::new();
    let mut deployments = Vec::new();
    for sha in &shas {
        let c = crate::trace::commit_with(app, sha, false).await?;
        let tickets: BTreeSet<&str> = c.tickets.iter().map(|t| t.ticket.as_str()).collect();
        for d in c.deployments.iter().filter(|_| sources.contains(sha)) {
            deployments.push(json!({
                "environment": d.environment, "state": d.state, "sha": d.sha,
                "production": is_production(&d.environment), "source": "scm", "at": d.at,
            }));
        }
        commits.push(json!({
            "sha": c.sha,
            "repository": c.commit.as_ref().map(|p| p.repository.clone()),
            "author": c.commit.as_ref().and_then(|p| p.author.clone()),
            "message": c.commit.as_ref().map(|p| p.message.clone()),
            "tickets": tickets,
            "pull_requests": c.pull_requests.iter().map(|pr| json!({
                "repository": pr.repository, "number": pr.number, "title": pr.title,
                "source_branch": pr.source_branch, "target_branch": pr.target_branch,
                "author": pr.review.author, "state": pr.review.state, "review": pr.review,
            })).collect::<Vec<_>>(),
        }));
    }
    Ok(Gathered::new(
        rows.iter()
            .zip(summaries)
            .map(|(r, s)| evidence_input(r, s))
            .collect(),
        commits,
        deployments,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_drop_the_listings_no_control_reads() {
        let sbom = policy_summary(Some(r#"{"kind":"sbom","listed":["a","b"],"components":2}"#));
        assert_eq!(sbom, json!({"kind": "sbom", "components": 2}));
        let coverage = policy_summary(Some(r#"{"kind":"coverage","files":[1],"line_rate":0.8}"#));
        assert_eq!(coverage, json!({"kind": "coverage", "line_rate": 0.8}));
        // Other kinds keep everything; no or unreadable summaries are null.
        let tests = policy_summary(Some(r#"{"kind":"tests","files":[1]}"#));
        assert_eq!(tests, json!({"kind": "tests", "files": [1]}));
        assert_eq!(policy_summary(None), Value::Null);
        assert_eq!(policy_summary(Some("not json")), Value::Null);
    }
}
