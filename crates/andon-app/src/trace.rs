//! From a commit or an artifact to its reviews, tickets, builds and deployments: the links
//! an auditor follows, artifact -> provenance -> commit -> pull request -> reviews ->
//! tickets -> deployments.

use std::collections::BTreeSet;

use andon_domain::Sha256Digest;
use andon_domain::api::{ArtifactTrace, CommitTrace, EvidenceBrief, PullRequestTrace, TraceView};
use andon_domain::query::evidence::TraceQuery;
use andon_domain::scm::{analyze_review, normalize_sha};
use andon_store::{EvidenceFilter, EvidenceRow};

use crate::{Actor, App, AppError};

/// `GET /v1/trace?commit=<sha>` or `?artifact=sha256:<hex>` (exactly one): the artifacts
/// built from the commit, or the evidence naming the artifact and the commits it was built
/// from, each commit with its pull requests, reviews, tickets and deployments.
pub async fn trace(app: &App, _actor: &Actor, q: TraceQuery) -> Result<TraceView, AppError> {
    let mut view = TraceView::default();
    let mut commits: Vec<String> = Vec::new();
    match (q.commit, q.artifact) {
        (Some(c), None) => {
            let sha = resolve_commit(app, &c).await?;
            view.query = format!("commit {sha}");
            // The artifacts built from it: subjects of the evidence naming it.
            let mut digests = BTreeSet::new();
            for id in app.store().evidence_of_commit(&sha).await? {
                if let Some(row) = app.store().evidence(&id).await? {
                    digests.extend(row.subjects.into_iter().map(|(_, d)| d));
                }
            }
            for d in digests.into_iter().take(MAX_FOLLOWED) {
                view.artifacts.push(artifact(app, &d).await?.0);
            }
            commits.push(sha);
        }
        (None, Some(a)) => {
            let digest: Sha256Digest = a.parse().map_err(|_| {
                AppError::bad_request("invalid_artifact", format!("{a:?} is not sha256:<64 hex>"))
            })?;
            let hex = digest.hex();
            view.query = format!("artifact sha256:{hex}");
            let (trace, rows) = artifact(app, &hex).await?;
            if rows.is_empty() {
                return Err(AppError::not_found(format!(
                    "no evidence names artifact sha256:{hex}"
                )));
            }
            let indexes: Vec<u64> = rows.iter().map(|r| r.ledger_index).collect();
            commits = app.store().commits_of_evidence(&indexes).await?;
            view.artifacts.push(trace);
        }
        _ => {
            return Err(AppError::bad_request(
                "bad_query",
                "give exactly one of commit=<sha> or artifact=sha256:<hex>",
            ));
        }
    }
    for c in commits.iter().take(MAX_FOLLOWED) {
        view.commits.push(commit(app, c).await?);
    }
    Ok(view)
}

/// The one recorded commit a sha or sha prefix names.
async fn resolve_commit(app: &App, given: &str) -> Result<String, AppError> {
    let prefix = normalize_sha(given).ok_or_else(|| {
        AppError::bad_request(
            "invalid_commit",
            format!("{given:?} is not 7 to 64 hex digits"),
        )
    })?;
    let found = app.store().resolve_commit(&prefix).await?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(AppError::not_found(format!("no recorded commit {prefix}"))),
        many => Err(AppError::bad_request(
            "ambiguous_commit",
            format!("{prefix} matches {} commits; give more digits", many.len()),
        )),
    }
}

/// At most this many artifacts and commits are followed from one query.
pub(crate) const MAX_FOLLOWED: usize = 50;

/// An evidence record as a trace lists it.
pub(crate) fn brief(row: EvidenceRow) -> EvidenceBrief {
    let summary: Option<serde_json::Value> = row
        .summary
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    EvidenceBrief {
        id: row.id,
        ledger_index: row.ledger_index,
        application: row.application,
        predicate_type: row.predicate_type,
        kind: summary
            .as_ref()
            .and_then(|s| s.get("kind"))
            .and_then(|k| k.as_str())
            .map(str::to_owned),
        summary,
    }
}

/// The evidence whose subject is `digest` (hex), oldest first.
pub(crate) async fn artifact(
    app: &App,
    digest: &str,
) -> Result<(ArtifactTrace, Vec<EvidenceRow>), AppError> {
    let mut rows = app
        .store()
        .list_evidence(&EvidenceFilter {
            subject_digest: Some(digest.to_owned()),
            limit: 500,
            ..Default::default()
        })
        .await?;
    rows.reverse();
    let names: BTreeSet<String> = rows
        .iter()
        .flat_map(|r| r.subjects.iter())
        .filter(|(_, d)| d == digest)
        .map(|(n, _)| n.clone())
        .collect();
    let trace = ArtifactTrace {
        digest: andon_domain::SubjectDigest::shown(digest),
        names: names.into_iter().collect(),
        evidence: rows.iter().cloned().map(brief).collect(),
    };
    Ok((trace, rows))
}

/// A commit's trace: as pushed, its pull requests with their review verdicts, tickets,
/// deployments, and the evidence naming it.
pub(crate) async fn commit(app: &App, sha: &str) -> Result<CommitTrace, AppError> {
    commit_with(app, sha, true).await
}

/// [`commit`], optionally without reading the evidence naming the commit (the gate has it).
pub async fn commit_with(
    app: &App,
    sha: &str,
    with_evidence: bool,
) -> Result<CommitTrace, AppError> {
    let store = app.store();
    let pushed = store.commits(sha).await?;
    let mut out = CommitTrace {
        sha: sha.to_owned(),
        commit: pushed.first().map(|c| c.fact.clone()),
        ledger_index: pushed.first().map(|c| c.ledger_index),
        ..Default::default()
    };
    let mut tickets = BTreeSet::new();
    for c in &pushed {
        tickets.extend(store.tickets(&c.fact.repository, sha).await?);
    }
    let mut deployed_shas = vec![sha.to_owned()];
    for (repository, number) in store.pull_requests_of(sha).await? {
        let events: Vec<_> = store
            .pull_request_history(&repository, number)
            .await?
            .into_iter()
            .map(|r| (r.ledger_index, r.fact))
            .collect();
        let reviews: Vec<_> = store
            .reviews(&repository, number)
            .await?
            .into_iter()
            .map(|r| (r.ledger_index, r.fact))
            .collect();
        let review = analyze_review(&events, &reviews);
        if let Some(m) = &review.merge_sha
            && !deployed_shas.contains(m)
        {
            deployed_shas.push(m.clone());
        }
        tickets.extend(store.tickets(&repository, &format!("#{number}")).await?);
        let last = events.last().map(|(_, e)| e.clone()).unwrap_or_default();
        out.pull_requests.push(PullRequestTrace {
            repository,
            number,
            title: last.title,
            source_branch: last.source_branch,
            target_branch: last.target_branch,
            events,
            reviews,
            review,
        });
    }
    for s in &deployed_shas {
        out.deployments
            .extend(store.scm_deployments(s).await?.into_iter().map(|d| d.fact));
    }
    out.tickets = tickets.into_iter().collect();
    let ids = if with_evidence {
        store.evidence_of_commit(sha).await?
    } else {
        Vec::new()
    };
    for id in ids {
        if let Some(row) = store.evidence(&id).await? {
            out.evidence.push(brief(row));
        }
    }
    Ok(out)
}
