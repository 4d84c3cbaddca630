//! Runtime snapshots and drift (docs/access.md): an environment reports what runs; Andon
//! compares it with the deployments it recorded and alerts on drift. The rules are
//! `andon_app::environments`'; these handlers extract, call and serialize.

use andon_app::environments;
use andon_domain::access::Snapshot;
use andon_domain::api::SnapshotInput;
use andon_domain::query::access::SnapshotsQuery;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{json_error, query_error};

/// `POST /v1/environments/{env}/snapshots`.
pub(crate) async fn report(
    State(app): State<App>,
    caller: Caller,
    Path(environment): Path<String>,
    body: Result<Json<SnapshotInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    environments::may_report(&caller, &environment)?;
    let Json(input) = body.map_err(json_error)?;
    let report = environments::report(&app, &caller, &environment, input).await?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// `GET /v1/environments/{env}/snapshots`: the latest snapshots, newest first.
pub(crate) async fn snapshots(
    State(app): State<App>,
    caller: Caller,
    Path(environment): Path<String>,
    query: Result<Query<SnapshotsQuery>, QueryRejection>,
) -> Result<Json<Vec<Snapshot>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(
        environments::snapshots(&app, &caller, &environment, q).await?,
    ))
}
