//! Applications, identities, tokens and keys over HTTP: `andon_app::admin` checks and
//! records, every change a ledger entry.

use andon_app::admin;
use andon_domain::api::{
    ApplicationView, EvidencePolicyView, IssuedToken, KeyView, NewApplication, NewEvidencePolicy,
    NewIdentity, NewKey, NewSigningPolicy, Receipt, SigningPolicyView, WhoAmI,
};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("malformed_json", e.body_text()))
}

pub(crate) async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(admin::whoami(&caller))
}

pub(crate) async fn webhooks(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(admin::webhooks(&app, &caller)?))
}

pub(crate) async fn create_application(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<NewApplication>, JsonRejection>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    // Who first: a non-admin learns nothing about its body.
    admin::require_admin(&caller)?;
    let req = json_body(body)?;
    let receipt = admin::create_application(&app, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

pub(crate) async fn list_applications(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<ApplicationView>>, ApiError> {
    Ok(Json(admin::list_applications(&app, &caller).await?))
}

pub(crate) async fn set_signing_policy(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<NewSigningPolicy>, JsonRejection>,
) -> Result<Json<SigningPolicyView>, ApiError> {
    admin::require_admin(&caller)?;
    let req = json_body(body)?;
    Ok(Json(
        admin::set_signing_policy(&app, &caller, &name, req).await?,
    ))
}

pub(crate) async fn set_evidence_policy(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<NewEvidencePolicy>, JsonRejection>,
) -> Result<Json<EvidencePolicyView>, ApiError> {
    admin::require_admin(&caller)?;
    let req = json_body(body)?;
    Ok(Json(
        admin::set_evidence_policy(&app, &caller, &name, req).await?,
    ))
}

pub(crate) async fn create_identity(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<NewIdentity>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    admin::require_admin(&caller)?;
    let req = json_body(body)?;
    let issued = admin::create_identity(&app, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn issue_token(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let issued = admin::issue_token(&app, &caller, &name).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn register_key(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<NewKey>, JsonRejection>,
) -> Result<(StatusCode, Json<KeyView>), ApiError> {
    admin::require_admin(&caller)?;
    let req = json_body(body)?;
    let key = admin::register_key(&app, &caller, &name, req).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

pub(crate) async fn revoke_key(
    State(app): State<App>,
    caller: Caller,
    Path(keyid): Path<String>,
) -> Result<Json<Receipt>, ApiError> {
    Ok(Json(admin::revoke_key(&app, &caller, &keyid).await?))
}
