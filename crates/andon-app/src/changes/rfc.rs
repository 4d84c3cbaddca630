//! The request for change (`andon.rfc/v1`) Andon writes from what it holds.

use std::collections::BTreeSet;

use andon_domain::change::Change;
use serde_json::{Value, json};

use crate::changes::gate::{artifact_evidence, find_change, provenance_of, source_of};
use crate::changes::markdown::markdown;
use crate::input::rfc3339;
use crate::{Actor, App, AppError};

/// The JSON Schema of the RFC document (docs/schemas/rfc.schema.json).
pub const SCHEMA: &str = include_str!("../../../../docs/schemas/rfc.schema.json");

/// The request for change of change `id` (any authenticated caller).
pub async fn rfc_json(app: &App, _actor: &Actor, id: &str) -> Result<Value, AppError> {
    let change = find_change(app, id).await?;
    rfc_document(app, &change).await
}

/// The request for change of change `id` as Markdown (any authenticated caller).
pub async fn rfc_markdown(app: &App, actor: &Actor, id: &str) -> Result<String, AppError> {
    Ok(markdown(&rfc_json(app, actor, id).await?))
}

/// What a change brings, from the source-control facts Andon holds: the commits since the
/// application's last production deployment, their pull requests and tickets.
struct Brought {
    /// Commits, as the RFC lists them.
    commits: Vec<Value>,
    /// Pull requests, each once, as the RFC lists them.
    pull_requests: Vec<Value>,
    /// Ticket ids.
    tickets: BTreeSet<String>,
}

impl Brought {
    async fn of(
        app: &App,
        source: Option<&str>,
        previous: Option<&andon_domain::change::Deployment>,
    ) -> Result<Self, AppError> {
        let commits = match source {
            Some(sha) => {
                commits_since(app, sha, previous.and_then(|d| d.source_commit.as_deref())).await?
            }
            None => Vec::new(),
        };
        let mut brought = Brought {
            commits: Vec::new(),
            pull_requests: Vec::new(),
            tickets: BTreeSet::new(),
        };
        let mut seen_prs = BTreeSet::new();
        for c in &commits {
            let trace = crate::trace::commit_with(app, &c.sha, false).await?;
            let mut own = BTreeSet::new();
            for t in &trace.tickets {
                brought.tickets.insert(t.ticket.clone());
                own.insert(t.ticket.clone());
            }
            for pr in &trace.pull_requests {
                if seen_prs.insert((pr.repository.clone(), pr.number)) {
                    brought.pull_requests.push(json!({
                        "repository": pr.repository, "number": pr.number, "title": pr.title,
                        "author": pr.review.author, "state": pr.review.state,
                        "approved_by": pr.review.independent_approvers,
                    }));
                }
            }
            brought.commits.push(json!({
                "sha": c.sha, "repository": c.repository, "author": c.author,
                "message": c.message.lines().next().unwrap_or(""), "tickets": own,
            }));
        }
        Ok(brought)
    }

    /// The authors of its commits and pull requests.
    fn authors(&self) -> BTreeSet<String> {
        authors(&json!({
            "what": {"commits": self.commits},
            "why": {"pull_requests": self.pull_requests},
        }))
    }
}

/// The authors of the commits and pull requests an RFC document lists, lowercase:
/// source-control logins and identity names are compared without case.
pub(crate) fn authors(rfc: &Value) -> BTreeSet<String> {
    rfc["what"]["commits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["author"].as_str())
        .chain(
            rfc["why"]["pull_requests"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["author"].as_str()),
        )
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The source-control authors of the commits and pull requests `change` brings, lowercase
/// (the RFC's, without the rest of it).
pub async fn change_authors(app: &App, change: &Change) -> Result<BTreeSet<String>, AppError> {
    let digest_hex = change
        .artifact_digest
        .strip_prefix("sha256:")
        .unwrap_or(&change.artifact_digest);
    let evidence = artifact_evidence(app, &change.application, digest_hex).await?;
    let previous = app
        .store()
        .last_production_deployment(&change.application, change.ledger_index)
        .await?;
    Ok(
        Brought::of(app, source_of(&evidence).as_deref(), previous.as_ref())
            .await?
            .authors(),
    )
}

/// The request for change (`andon.rfc/v1`), from what Andon holds.
pub async fn rfc_document(app: &App, change: &Change) -> Result<Value, AppError> {
    let store = app.store();
    let digest_hex = change
        .artifact_digest
        .strip_prefix("sha256:")
        .unwrap_or(&change.artifact_digest);
    let team = store
        .applications()
        .await?
        .into_iter()
        .find(|a| a.name == change.application)
        .map(|a| a.team);
    let evidence = artifact_evidence(app, &change.application, digest_hex).await?;
    let source = source_of(&evidence);
    let previous = store
        .last_production_deployment(&change.application, change.ledger_index)
        .await?;
    let brought = Brought::of(app, source.as_deref(), previous.as_ref()).await?;
    let decisions =
        crate::changes::provenance::approvals_with_provenance(app, change, &brought.authors())
            .await?;
    let Brought {
        commits: commit_docs,
        pull_requests,
        tickets,
    } = brought;
    let reports: Vec<Value> = evidence
        .iter()
        .map(|(r, s)| {
            json!({
                "id": r.id, "kind": s.get("kind").cloned().unwrap_or("generic".into()),
                "predicate_type": r.predicate_type, "signer": r.signer, "run": r.run,
                "ledger_index": r.ledger_index, "link": format!("/v1/evidence/{}", r.id),
            })
        })
        .collect();
    let provenance = provenance_of(&evidence).map(|(r, s)| {
        json!({"evidence": r.id, "builder": s["builder_id"], "source_commit": s["source_commit"],
               "source_repository": s["source_repository"]})
    });
    let decision = match store
        .latest_decision(&change.artifact_digest, &change.environment)
        .await?
    {
        Some(id) => match store.decision(&id).await? {
            Some(row) => {
                let doc = andon_domain::Envelope::parse(&row.envelope)
                    .ok()
                    .and_then(|e| {
                        serde_json::from_slice::<andon_domain::gate::DecisionDoc>(&e.payload).ok()
                    });
                json!({
                    "id": row.id, "allow": row.allow, "ledger_index": row.ledger_index,
                    "decided_at": doc.as_ref().map(|d| d.decided_at.clone()),
                    "policy": doc.as_ref().map(|d| d.policy.clone()),
                    "controls": doc.map(|d| d.controls).unwrap_or_default(),
                    "link": format!("/v1/decisions/{}", row.id),
                })
            }
            None => Value::Null,
        },
        None => Value::Null,
    };
    Ok(json!({
        "schema": "andon.rfc/v1",
        "change": {
            "id": change.id, "class": change.class, "status": change.status,
            "change_type": change.change_type, "requested_by": change.requested_by,
            "created_at": rfc3339(Some(change.created_at)), "ledger_index": change.ledger_index,
            "emergency_reason": change.emergency_reason,
            "review_due_at": rfc3339(change.review_due_at),
            "reviewed_at": rfc3339(change.reviewed_at),
            "planned_start": change.fields.planned_start, "planned_end": change.fields.planned_end,
        },
        "classification": change.classification,
        "why": {"tickets": tickets, "pull_requests": pull_requests},
        "what": {
            "artifact": {"name": change.artifact_name, "digest": change.artifact_digest},
            "source_commit": source,
            "since": previous.as_ref().map(|d| json!({
                "deployment": d.id, "artifact": format!("{}@{}", d.artifact_name, d.artifact_digest),
                "source_commit": d.source_commit, "deployed_at": rfc3339(Some(d.deployed_at)),
            })),
            "commits": commit_docs,
            "provenance": provenance,
            "scripts": change.fields.scripts,
            "paths": change.fields.paths,
        },
        "evidence": {"decision": decision, "reports": reports},
        "affected": {"application": change.application, "team": team, "environment": change.environment},
        "risk": change.fields.risk,
        "rollback_plan": change.fields.rollback_plan,
        "approvals": {
            "required": change.classification.approvals,
            "group": change.classification.approver_group,
            "decisions": decisions,
        },
        "links": {
            "self": format!("/v1/changes/{}/rfc.json", change.id),
            "markdown": format!("/v1/changes/{}/rfc.md", change.id),
            "change": format!("/v1/changes/{}", change.id),
        },
    }))
}

/// The commits a production deployment of `source` brings to production first: those since
/// the application's last production deployment that no earlier one brought, with their
/// author times (lead time for changes; docs/metrics.md).
pub async fn first_deployed(
    app: &App,
    application: &str,
    source: &str,
) -> Result<Vec<(String, Option<i64>)>, AppError> {
    let previous = app
        .store()
        .last_production_deployment(application, u64::MAX)
        .await?;
    let commits = commits_since(
        app,
        source,
        previous.as_ref().and_then(|d| d.source_commit.as_deref()),
    )
    .await?;
    let shas: Vec<String> = commits.iter().map(|c| c.sha.clone()).collect();
    let seen = app.store().deployed_commits(application, &shas).await?;
    Ok(commits
        .into_iter()
        .filter(|c| !seen.contains(&c.sha))
        .map(|c| {
            let at = c
                .timestamp
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_millisecond());
            (c.sha, at)
        })
        .collect())
}

/// The commits recorded for the repository of `until` after `after` (exclusive) up to
/// `until` (inclusive), in the order they reached Andon (docs/changes.md).
pub async fn commits_since(
    app: &App,
    until: &str,
    after: Option<&str>,
) -> Result<Vec<andon_domain::scm::Commit>, AppError> {
    let store = app.store();
    let Some(last) = store.commits(until).await?.into_iter().next() else {
        return Ok(Vec::new());
    };
    let repository = last.fact.repository.clone();
    let first = match after {
        Some(sha) => store
            .commits(sha)
            .await?
            .into_iter()
            .find(|c| c.fact.repository == repository),
        None => None,
    };
    let from = first.as_ref().map_or(0, |c| c.ledger_index);
    let range = store
        .commits_recorded_between(&repository, from, last.ledger_index)
        .await?;
    let mut out = Vec::new();
    let mut started = first.is_none();
    for c in range {
        if !started {
            started = Some(c.fact.sha.as_str()) == after;
            continue;
        }
        let done = c.fact.sha == until;
        out.push(c.fact);
        if done {
            break;
        }
    }
    Ok(out)
}
