//! The one alert model (docs/alerts.md): every source's alerts listed and filtered,
//! acknowledged and resolved by people, each step a ledger entry. The rules are
//! `andon_app::alerts`'; these handlers extract, call and serialize.

use andon_app::alerts;
use andon_domain::change::Alert;
use andon_domain::query::access::AlertsQuery;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{listing, optional_json, query_error};
use andon_domain::api::NoteInput;

/// `GET /v1/alerts?state=&kind=&application=&severity=&limit=`, newest first.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let format = q.format;
    let rows = alerts::list(&app, &caller, q).await?;
    Ok(listing(format, &rows, &rows, "alerts"))
}

/// `GET /v1/alerts/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(alerts::show(&app, &caller, &id).await?))
}

/// `POST /v1/alerts/{id}/acknowledge`: someone is on it.
pub(crate) async fn acknowledge(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<NoteInput>>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    alerts::may_update(&caller)?;
    let note = optional_json(body)?.and_then(|b| b.note);
    Ok(Json(alerts::acknowledge(&app, &caller, &id, note).await?))
}

/// `POST /v1/alerts/{id}/resolve`: dealt with.
pub(crate) async fn resolve(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<NoteInput>>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    alerts::may_update(&caller)?;
    let note = optional_json(body)?.and_then(|b| b.note);
    Ok(Json(alerts::resolve(&app, &caller, &id, note).await?))
}
