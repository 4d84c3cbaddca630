//! `GET /v1/trace?commit=<sha>` or `?artifact=sha256:<hex>`: the links an auditor follows,
//! artifact -> provenance -> commit -> pull request -> reviews -> tickets -> deployments.

use std::collections::BTreeSet;

use andon_domain::Sha256Digest;
use andon_domain::api::TraceView;
use andon_domain::scm::normalize_sha;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::query_error;
use andon_app::trace::*;

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct TraceQuery {
    commit: Option<String>,
    artifact: Option<String>,
}

pub(crate) async fn trace(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Json<TraceView>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let mut view = TraceView::default();
    let mut commits: Vec<String> = Vec::new();
    match (q.commit, q.artifact) {
        (Some(c), None) => {
            let prefix = normalize_sha(&c).ok_or_else(|| {
                ApiError::bad_request("invalid_commit", format!("{c:?} is not 7 to 64 hex digits"))
            })?;
            let found = app.store().resolve_commit(&prefix).await?;
            let sha = match found.as_slice() {
                [one] => one.clone(),
                [] => return Err(ApiError::not_found(format!("no recorded commit {prefix}"))),
                many => {
                    return Err(ApiError::bad_request(
                        "ambiguous_commit",
                        format!("{prefix} matches {} commits; give more digits", many.len()),
                    ));
                }
            };
            view.query = format!("commit {sha}");
            // The artifacts built from it: subjects of the evidence naming it.
            let mut digests = BTreeSet::new();
            for id in app.store().evidence_of_commit(&sha).await? {
                if let Some(row) = app.store().evidence(&id).await? {
                    digests.extend(row.subjects.into_iter().map(|(_, d)| d));
                }
            }
            for d in digests.into_iter().take(MAX_FOLLOWED) {
                view.artifacts.push(artifact(&app, &d).await?.0);
            }
            commits.push(sha);
        }
        (None, Some(a)) => {
            let digest: Sha256Digest = a.parse().map_err(|_| {
                ApiError::bad_request("invalid_artifact", format!("{a:?} is not sha256:<64 hex>"))
            })?;
            let hex = digest.hex();
            view.query = format!("artifact sha256:{hex}");
            let (trace, rows) = artifact(&app, &hex).await?;
            if rows.is_empty() {
                return Err(ApiError::not_found(format!(
                    "no evidence names artifact sha256:{hex}"
                )));
            }
            for r in &rows {
                for c in app.store().commits_of_evidence(r.ledger_index).await? {
                    if !commits.contains(&c) {
                        commits.push(c);
                    }
                }
            }
            view.artifacts.push(trace);
        }
        _ => {
            return Err(ApiError::bad_request(
                "bad_query",
                "give exactly one of commit=<sha> or artifact=sha256:<hex>",
            ));
        }
    }
    for c in commits.iter().take(MAX_FOLLOWED) {
        view.commits.push(commit(&app, c).await?);
    }
    Ok(Json(view))
}
