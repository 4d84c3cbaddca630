//! Federated identity over HTTP: the OpenID issuers trusted, the workload rules mapping CI
//! jobs to pipelines, and the exchange of a job's ID token for a session token;
//! `andon_app::federation` verifies and records, every change a ledger entry.

use andon_app::{admin, federation};
use andon_domain::api::IssuedToken;
use andon_domain::identity::ReasonInput;
use andon_domain::oidc::api::{ExchangeRequest, IssuerView, RuleView};
use andon_domain::oidc::{OidcIssuer, WorkloadRule};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::optional_json;
use crate::state::Server;

fn json<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("malformed_json", e.body_text()))
}

pub(crate) async fn set_issuer(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<OidcIssuer>, JsonRejection>,
) -> Result<Json<IssuerView>, ApiError> {
    admin::require_admin(&caller)?;
    let config = json(body)?;
    Ok(Json(
        federation::set_issuer(&app, &caller, &name, config).await?,
    ))
}

pub(crate) async fn list_issuers(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<IssuerView>>, ApiError> {
    Ok(Json(federation::list_issuers(&app, &caller)?))
}

pub(crate) async fn set_rule(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<WorkloadRule>, JsonRejection>,
) -> Result<Json<RuleView>, ApiError> {
    admin::require_admin(&caller)?;
    let rule = json(body)?;
    Ok(Json(
        federation::set_rule(&app, &caller, &name, rule).await?,
    ))
}

pub(crate) async fn list_rules(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<RuleView>>, ApiError> {
    Ok(Json(federation::list_rules(&app, &caller)?))
}

pub(crate) async fn remove_rule(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Option<Json<ReasonInput>>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin::require_admin(&caller)?;
    let reason = optional_json(body)?.unwrap_or_default();
    let index = federation::remove_rule(&app, &caller, &name, reason).await?;
    Ok(Json(
        serde_json::json!({"name": name, "removed": true, "ledger_index": index}),
    ))
}

pub(crate) async fn sign_in(
    State(server): State<Server>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    body: Result<Json<andon_domain::oidc::api::SignInRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let app = server.app.clone();
    crate::auth::limited(&server, &extensions, sign_in_as(app, headers, body)).await
}

async fn sign_in_as(
    app: App,
    headers: axum::http::HeaderMap,
    body: Result<Json<andon_domain::oidc::api::SignInRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let req = json(body)?;
    // Linking needs the identity's own token beside the ID token.
    let me = match req.link {
        false => None,
        true => {
            let token = headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "linking needs the identity's own token (Authorization: Bearer)",
                    )
                })?;
            Some(
                crate::auth::caller_for(&app, andon_app::token_hash(token.trim()))
                    .await?
                    .0,
            )
        }
    };
    let issued = federation::person::sign_in(&app, &req.id_token, None, "cli", me.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn set_person_rule(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<andon_domain::oidc::PersonRule>, JsonRejection>,
) -> Result<Json<federation::person::PersonRuleView>, ApiError> {
    admin::require_admin(&caller)?;
    let rule = json(body)?;
    Ok(Json(
        federation::person::set_person_rule(&app, &caller, &name, rule).await?,
    ))
}

pub(crate) async fn list_person_rules(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<federation::person::PersonRuleView>>, ApiError> {
    Ok(Json(federation::person::list_person_rules(&app, &caller)?))
}

pub(crate) async fn remove_person_rule(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Option<Json<ReasonInput>>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin::require_admin(&caller)?;
    let reason = optional_json(body)?.unwrap_or_default();
    let index = federation::person::remove_person_rule(&app, &caller, &name, reason).await?;
    Ok(Json(
        serde_json::json!({"name": name, "removed": true, "ledger_index": index}),
    ))
}

pub(crate) async fn exchange(
    State(server): State<Server>,
    extensions: axum::http::Extensions,
    body: Result<Json<ExchangeRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let app = &server.app;
    crate::auth::limited(&server, &extensions, async {
        let req = json(body)?;
        let issued = federation::exchange(app, &req.id_token, req.public_key.as_deref()).await?;
        Ok((StatusCode::CREATED, Json(issued)))
    })
    .await
}
