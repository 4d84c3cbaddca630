//! The ledger, read-only: checkpoint, entries, inclusion and consistency proofs.

use andon_domain::api::{ConsistencyProof, EntriesPage, EntryView, InclusionProof, LogInfo};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::query_error;
use andon_app::ledger::self_check::run as self_check;

pub(crate) async fn info(State(app): State<App>, _caller: Caller) -> Json<LogInfo> {
    let cp = app.latest();
    Json(LogInfo {
        origin: app.0.origin.clone(),
        verifier_key: app.0.signer.verifier().to_string(),
        size: cp.checkpoint.size,
        checkpoint: cp.note.clone(),
        previous_verifier_keys: app.previous_keys(),
    })
}

/// The latest checkpoint as a plain signed note, the form witnesses and `curl` expect.
pub(crate) async fn checkpoint(State(app): State<App>, _caller: Caller) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        app.latest().note.clone(),
    )
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct EntriesQuery {
    start: Option<u64>,
    limit: Option<u32>,
}

pub(crate) async fn entries(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Json<EntriesPage>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let size = app.latest().checkpoint.size;
    let start = q.start.unwrap_or(0);
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let rows = if start >= size {
        vec![]
    } else {
        app.store()
            .entries(start, limit.min((size - start) as u32))
            .await?
    };
    Ok(Json(EntriesPage {
        entries: rows
            .into_iter()
            .map(|e| EntryView {
                index: e.index,
                kind: e.kind,
                leaf_hash: hex::encode(e.leaf_hash),
                entry: STANDARD.encode(&e.entry),
                document: e.document.map(|d| STANDARD.encode(d)),
            })
            .collect(),
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

pub(crate) async fn inclusion(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<InclusionProof>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let latest = app.latest();
    let size = q.size.unwrap_or(latest.checkpoint.size);
    if size > latest.checkpoint.size || q.index >= size {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!(
                "entry {} is not in a tree of size {size} (the log has {})",
                q.index, latest.checkpoint.size
            ),
        ));
    }
    let tree = app
        .0
        .tree
        .read()
        .map_err(|_| ApiError::unavailable("tree lock poisoned"))?;
    let proof = tree
        .inclusion_proof(q.index, size)
        .map_err(|e| ApiError::bad_request("out_of_range", e.to_string()))?;
    Ok(Json(InclusionProof {
        index: q.index,
        tree_size: size,
        leaf_hash: hex::encode(tree.leaf(q.index).unwrap_or_default()),
        proof: proof.iter().map(hex::encode).collect(),
        checkpoint: (size == latest.checkpoint.size).then(|| latest.note.clone()),
    }))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct ConsistencyQuery {
    from: u64,
    to: Option<u64>,
}

pub(crate) async fn consistency(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let latest = app.latest().checkpoint.size;
    let to = q.to.unwrap_or(latest);
    if to > latest {
        return Err(ApiError::bad_request(
            "out_of_range",
            format!("the log has {latest} entries, not {to}"),
        ));
    }
    let tree = app
        .0
        .tree
        .read()
        .map_err(|_| ApiError::unavailable("tree lock poisoned"))?;
    let proof = tree
        .consistency_proof(q.from, to)
        .map_err(|e| ApiError::bad_request("out_of_range", e.to_string()))?;
    Ok(Json(ConsistencyProof {
        from: q.from,
        to,
        proof: proof.iter().map(hex::encode).collect(),
    }))
}

/// `POST /v1/ledger/verify` (admin, auditor): the server checks its own stored ledger now.
pub(crate) async fn verify(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(&[andon_domain::Role::Admin, andon_domain::Role::Auditor])?;
    Ok(Json(self_check(&app).await?))
}
