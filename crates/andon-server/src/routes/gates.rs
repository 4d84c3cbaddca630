//! Release gates: policies, decisions, waivers and the Risk Control Matrix, over HTTP.
//!
//! The rules live in [`andon_app::gates`]: `POST /v1/gate` builds the gate input, evaluates
//! the policy that applies, signs the decision and ledgers it there. These handlers extract
//! the request, call one operation and answer with its result.

use andon_app::gates::{decide, matrix, policies, waivers};
use andon_domain::api::{DecisionView, GateRequest, PublishedPolicy, WaiverRequest};
use andon_domain::query::gates::{ControlsQuery, OscalQuery, WaiverQuery};
use andon_policy::Bundle;
use andon_store::{PolicyRow, WaiverRow};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{json_error, listing, query_error};

/// `POST /v1/policies` (admin): a bundle, validated (syntax, metadata, its unit tests).
pub(crate) async fn publish(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<Bundle>, JsonRejection>,
) -> Result<(StatusCode, Json<PublishedPolicy>), ApiError> {
    // Refused before the body is read.
    caller.require(policies::PUBLISHERS)?;
    let Json(bundle) = body.map_err(json_error)?;
    let p = policies::publish(&app, &caller, bundle).await?;
    let status = if p.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(p)))
}

/// `GET /v1/policies`.
pub(crate) async fn list_policies(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<PolicyRow>>, ApiError> {
    Ok(Json(policies::list(&app, &caller).await?))
}

/// `GET /v1/policies/{version}`: the bundle's exact bytes (their SHA-256 is the version).
pub(crate) async fn policy_bundle(
    State(app): State<App>,
    caller: Caller,
    Path(version): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let bytes = policies::bundle(&app, &caller, &version).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes))
}

/// `POST /v1/gate`.
pub(crate) async fn gate(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<GateRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<DecisionView>), ApiError> {
    // Refused before the body is read.
    caller.require(decide::DECIDERS)?;
    let Json(req) = body.map_err(json_error)?;
    let view = decide::gate(&app, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /v1/decisions/{id}`.
pub(crate) async fn decision(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DecisionView>, ApiError> {
    Ok(Json(decide::decision(&app, &caller, &id).await?))
}

/// `POST /v1/waivers`: anyone but an auditor may ask.
pub(crate) async fn request_waiver(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<WaiverRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<WaiverRow>), ApiError> {
    // Refused before the body is read.
    caller.require(waivers::REQUESTERS)?;
    let Json(req) = body.map_err(json_error)?;
    let row = waivers::request(&app, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// `POST /v1/waivers/{id}/approve`: an approver or admin other than the requester.
pub(crate) async fn approve_waiver(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WaiverRow>, ApiError> {
    Ok(Json(waivers::approve(&app, &caller, &id).await?))
}

/// `GET /v1/waivers[?app=]`.
pub(crate) async fn list_waivers(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<WaiverQuery>, QueryRejection>,
) -> Result<Json<Vec<WaiverRow>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(waivers::list(&app, &caller, &q).await?))
}

/// `GET /v1/controls?application=&environment=&since=&until=`: the Risk Control Matrix of
/// the policy that applies, each control with its risk, framework references and evidence,
/// and its effectiveness over the period: how many of the period's decisions it ran in,
/// and how each came out.
pub(crate) async fn controls(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ControlsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let m = matrix::controls(&app, &caller, &q).await?;
    let body = matrix::matrix_json(&m);
    Ok(listing(q.format, &body, &m.controls, "risk-control-matrix"))
}

/// `GET /v1/controls/oscal/component-definition`: the matrix's controls as an OSCAL 1.2.3
/// component definition.
pub(crate) async fn oscal_component_definition(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<OscalQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(oscal_file(
        matrix::oscal_component_definition(&app, &caller, q).await?,
    ))
}

/// `GET /v1/controls/oscal/assessment-results`: the matrix's effectiveness over the
/// period as OSCAL 1.2.3 assessment results.
pub(crate) async fn oscal_assessment_results(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<OscalQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(oscal_file(
        matrix::oscal_assessment_results(&app, &caller, q).await?,
    ))
}

/// An OSCAL document as JSON, offered as a file download.
fn oscal_file(f: matrix::OscalFile) -> Response {
    (
        [(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", f.name),
        )],
        Json(f.document),
    )
        .into_response()
}
