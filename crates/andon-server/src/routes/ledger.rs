//! The ledger over HTTP, read-only: checkpoint, entries, inclusion and consistency proofs
//! (`andon_app::ledger::entries`).

use andon_app::ledger::entries;
use andon_domain::api::{ConsistencyProof, EntriesPage, InclusionProof, LogInfo};
use andon_domain::query::ledger::{ConsistencyQuery, EntriesQuery, InclusionQuery};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::query_error;

pub(crate) async fn info(State(app): State<App>, caller: Caller) -> Json<LogInfo> {
    Json(entries::info(&app, &caller))
}

/// The latest checkpoint as a plain signed note, the form witnesses and `curl` expect.
pub(crate) async fn checkpoint(
    State(app): State<App>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        entries::checkpoint(&app, &caller).await?,
    ))
}

/// The newest checkpoint a witness cosigned, with its cosignatures, as a signed note.
pub(crate) async fn cosigned(
    State(app): State<App>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        entries::cosigned(&app, &caller).await?,
    ))
}

pub(crate) async fn entries(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<EntriesQuery>, QueryRejection>,
) -> Result<Json<EntriesPage>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(entries::entries(&app, &caller, q).await?))
}

pub(crate) async fn inclusion(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<InclusionQuery>, QueryRejection>,
) -> Result<Json<InclusionProof>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(entries::inclusion(&app, &caller, q)?))
}

pub(crate) async fn consistency(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<ConsistencyQuery>, QueryRejection>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(entries::consistency(&app, &caller, q)?))
}

/// `POST /v1/ledger/verify` (admin, auditor): the server checks its own stored ledger now.
pub(crate) async fn verify(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(entries::verify(&app, &caller).await?))
}
