//! Identity lifecycle over HTTP: listing identities and tokens, enrollment, revoking a
//! token, disabling an identity (`andon_app::identities`, every change a ledger entry).

use andon_app::identities;
use andon_domain::api::IssuedToken;
use andon_domain::identity::{
    EnrollRequest, IdentityDetail, IdentityView, ReasonInput, TokenView, TokensQuery,
};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{optional_json, query_error};

pub(crate) async fn list_identities(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<IdentityView>>, ApiError> {
    Ok(Json(identities::list_identities(&app, &caller)?))
}

pub(crate) async fn show_identity(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<IdentityDetail>, ApiError> {
    Ok(Json(identities::show_identity(&app, &caller, &name)?))
}

pub(crate) async fn disable_identity(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Option<Json<ReasonInput>>, JsonRejection>,
) -> Result<Json<IdentityView>, ApiError> {
    andon_app::admin::require_admin(&caller)?;
    let req = optional_json(body)?.unwrap_or_default();
    Ok(Json(
        identities::disable_identity(&app, &caller, &name, req).await?,
    ))
}

pub(crate) async fn create_enrollment(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let issued = identities::create_enrollment(&app, &caller, &name).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn enroll(
    State(app): State<App>,
    body: Result<Json<EnrollRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let Json(req) = body.map_err(|e| ApiError::bad_request("malformed_json", e.body_text()))?;
    let issued = identities::enroll(&app, req).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn list_tokens(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<TokensQuery>, QueryRejection>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(identities::list_tokens(
        &app,
        &caller,
        q.identity.as_deref(),
    )?))
}

pub(crate) async fn revoke_token(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<ReasonInput>>, JsonRejection>,
) -> Result<Json<TokenView>, ApiError> {
    let req = optional_json(body)?.unwrap_or_default();
    Ok(Json(
        identities::revoke_token(&app, &caller, &id, req).await?,
    ))
}
