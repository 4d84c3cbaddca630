//! Security telemetry (docs/telemetry.md): `POST /v1/telemetry` takes a batch of events,
//! ledgers its digest, stores the events and runs the rules over what the batch touched;
//! `GET /v1/telemetry` searches stored events; `GET /v1/telemetry/rules` shows the rules.
//! The rules are `andon_app::telemetry`'s; these handlers extract, call and serialize.

use andon_app::telemetry;
use andon_domain::query::telemetry::SearchQuery;
use andon_store::StoredEvent;
use andon_telemetry::Rules;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{body_error, query_error};

/// `POST /v1/telemetry`: a JSON array of events, or one event per line.
pub(crate) async fn ingest(
    State(app): State<App>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    telemetry::may_ingest(&caller)?;
    let body = body.map_err(|e| body_error(&app, e))?;
    let answer = telemetry::ingest(&app, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `GET /v1/telemetry`: stored events, newest first; `?batch=` lists one batch in order,
/// whose canonical lines hash to the digest its ledger entry holds.
pub(crate) async fn search(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<StoredEvent>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(telemetry::search(&app, &caller, q).await?))
}

/// `GET /v1/telemetry/rules`: the rules in force, with every parameter.
pub(crate) async fn rules(State(app): State<App>, caller: Caller) -> Json<Rules> {
    Json(telemetry::rules(&app, &caller))
}
