//! Admission (docs/admission.md): clusters registered by admins, the refusals recorded, and
//! the webhook a cluster's API server calls. The rules are `andon_app::admission`'s; these
//! handlers extract, call and serialize.

use andon_domain::Role;
use andon_domain::admission::{AdmissionEvent, Cluster, ClusterInput, EventsQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::Value;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{body_error, json_error, query_error};

/// `PUT /v1/admission/clusters/{name}` (admins).
pub(crate) async fn set_cluster(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<ClusterInput>, JsonRejection>,
) -> Result<Json<Cluster>, ApiError> {
    // Refused before the body is read.
    caller.require(&[Role::Admin])?;
    let Json(input) = body.map_err(json_error)?;
    Ok(Json(
        andon_app::admission::clusters::set(&app, &caller, &name, input).await?,
    ))
}

/// `GET /v1/admission/clusters`.
pub(crate) async fn clusters(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<Cluster>>, ApiError> {
    Ok(Json(
        andon_app::admission::clusters::list(&app, &caller).await?,
    ))
}

/// `GET /v1/admission/events?cluster=`.
pub(crate) async fn events(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Vec<AdmissionEvent>>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(Json(
        andon_app::admission::clusters::events(&app, &caller, q.cluster.as_deref()).await?,
    ))
}

/// `POST /k8s/admission/v1/{cluster}`: the API server's review, with the cluster's token
/// as a bearer token (no Andon identity: the token is the cluster's own).
pub(crate) async fn review(
    State(app): State<App>,
    Path(cluster): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|e| body_error(&app, e))?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    Ok(Json(
        andon_app::admission::webhook::review(&app, &cluster, token, &body).await?,
    ))
}

/// `POST /k8s/admission/v1/{cluster}/{token}`: the same, for control planes that cannot
/// send a bearer token (managed Kubernetes): the token is the last path segment.
pub(crate) async fn review_with_path_token(
    State(app): State<App>,
    Path((cluster, token)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|e| body_error(&app, e))?;
    Ok(Json(
        andon_app::admission::webhook::review(&app, &cluster, Some(&token), &body).await?,
    ))
}
