//! Game days (docs/drills.md): drills started, finished and reviewed, and application risk
//! levels. The rules are `andon_app::drills`'; these handlers extract, call and serialize.

use andon_domain::drills::{Drill, DrillFinish, DrillQuery, DrillStart, Retrospective, RiskInput};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{json_error, query_error};

/// `POST /v1/drills`.
pub(crate) async fn start(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<DrillStart>, JsonRejection>,
) -> Result<(StatusCode, Json<Drill>), ApiError> {
    caller.require(andon_app::drills::RUNNERS)?;
    let Json(input) = body.map_err(json_error)?;
    Ok((
        StatusCode::CREATED,
        Json(andon_app::drills::start(&app, &caller, input).await?),
    ))
}

/// `POST /v1/drills/{id}/finish` (the body may be empty).
pub(crate) async fn finish(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<DrillFinish>, JsonRejection>,
) -> Result<Json<Drill>, ApiError> {
    caller.require(andon_app::drills::RUNNERS)?;
    let input = match body {
        Ok(Json(i)) => i,
        Err(JsonRejection::MissingJsonContentType(_)) => DrillFinish::default(),
        Err(e) => return Err(json_error(e)),
    };
    Ok(Json(
        andon_app::drills::finish(&app, &caller, &id, input).await?,
    ))
}

/// `POST /v1/drills/{id}/retrospective`.
pub(crate) async fn retrospective(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Retrospective>, JsonRejection>,
) -> Result<Json<Drill>, ApiError> {
    caller.require(andon_app::drills::REVIEWERS)?;
    let Json(input) = body.map_err(json_error)?;
    Ok(Json(
        andon_app::drills::retrospective(&app, &caller, &id, input).await?,
    ))
}

/// `GET /v1/drills?application=`.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<DrillQuery>, QueryRejection>,
) -> Result<Json<Vec<Drill>>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(Json(
        andon_app::drills::list(&app, &caller, q.application.as_deref()).await?,
    ))
}

/// `GET /v1/drills/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Drill>, ApiError> {
    Ok(Json(andon_app::drills::show(&app, &caller, &id).await?))
}

/// `PUT /v1/applications/{name}/risk` (admins).
pub(crate) async fn set_risk(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<RiskInput>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[andon_domain::Role::Admin])?;
    let Json(input) = body.map_err(json_error)?;
    Ok(Json(
        andon_app::drills::set_risk(&app, &caller, &name, input).await?,
    ))
}
