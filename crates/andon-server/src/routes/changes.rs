//! Deployments and change management (docs/changes.md): the change record a production gate
//! opens or finds, approvals with separation of duty, deployments with gate-bypass alerts,
//! their later failure and restoration, and the request for change Andon writes. The rules
//! live in `andon_app::changes`; these handlers read the request and write the answer.

use andon_app::changes::{approve, deploy, incident, list, rfc};
use andon_domain::api::{ApprovalRequest, DeploymentRequest, DeploymentStateRequest};
use andon_domain::change::{Change, Deployment};
use andon_domain::query::changes::ListQuery;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::json_error;
use crate::http::query_error;

/// A JSON body, or our JSON error for one that could not be read.
fn json_body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(json_error)
}

/// `GET /v1/changes/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(list::show(&app, &caller, &id).await?))
}

/// `GET /v1/changes?application=`.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let rows = list::changes(&app, &caller, &q).await?;
    Ok(crate::http::listing(q.format, &rows, &rows, "changes"))
}

/// `POST /v1/changes/{id}/approve`.
pub(crate) async fn approve(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(
        approve::approve(&app, &caller, &id, json_body(body)).await?,
    ))
}

/// `POST /v1/changes/{id}/reject`.
pub(crate) async fn reject(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(
        approve::reject(&app, &caller, &id, json_body(body)).await?,
    ))
}

/// `POST /v1/deployments`: recorded whatever the gate said; without an allowing decision it
/// is a gate bypass, flagged and alerted in the same ledger entry.
pub(crate) async fn record_deployment(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<DeploymentRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let recorded = deploy::record_deployment(&app, &caller, json_body(body)).await?;
    Ok((StatusCode::CREATED, Json(json!(recorded))))
}

/// `POST /v1/deployments/{id}/state`.
pub(crate) async fn deployment_state(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<DeploymentStateRequest>, JsonRejection>,
) -> Result<Json<Deployment>, ApiError> {
    Ok(Json(
        deploy::deployment_state(&app, &caller, &id, json_body(body)).await?,
    ))
}

/// `POST /v1/incidents`: a failure reported by an incident tool, linked to the deployment
/// it names or to the last production deployment at or before its start (docs/metrics.md);
/// recorded as that deployment's failure, and restoration when resolved.
pub(crate) async fn report_incident(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<andon_domain::api::IncidentRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let reported = incident::report_incident(&app, &caller, json_body(body)).await?;
    Ok(Json(json!(reported)))
}

/// `GET /v1/deployments/{id}`.
pub(crate) async fn deployment(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    Ok(Json(list::deployment(&app, &caller, &id).await?))
}

/// `GET /v1/deployments?application=&environment=&before=&limit=`.
pub(crate) async fn deployments(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let rows = list::deployments(&app, &caller, &q).await?;
    Ok(crate::http::listing(q.format, &rows, &rows, "deployments"))
}

/// `GET /v1/notifications` (admin, auditor): the outbound delivery log, newest first.
pub(crate) async fn notifications(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let q = q.map(|Query(q)| q).map_err(query_error);
    let format = q.as_ref().ok().and_then(|q| q.format);
    let rows = list::notifications(&app, &caller, q).await?;
    Ok(crate::http::listing(format, &rows, &rows, "notifications"))
}

/// `POST /v1/alerts/check` (admin): looks for overdue emergency reviews now rather than at
/// the watcher's next tick (for a scheduler, or the demo); answers how many were raised.
pub(crate) async fn check_alerts(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let raised = approve::check_overdue_reviews(&app, &caller).await?;
    Ok(Json(json!({ "raised": raised })))
}

/// `GET /v1/schemas/rfc.json`: the RFC document's JSON Schema (no token needed).
pub(crate) async fn rfc_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        rfc::SCHEMA,
    )
}

/// `GET /v1/changes/{id}/rfc.json`.
pub(crate) async fn rfc_json(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(rfc::rfc_json(&app, &caller, &id).await?))
}

/// `GET /v1/changes/{id}/rfc.md`.
pub(crate) async fn rfc_markdown(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        rfc::rfc_markdown(&app, &caller, &id).await?,
    ))
}
