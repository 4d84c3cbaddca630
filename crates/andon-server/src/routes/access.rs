//! Production access (docs/access.md): break-glass requests, approvals, grants, expiry and
//! revocation; the standing access register; Production Access Debt. The rules are
//! `andon_app::access`'s; these handlers extract, call and serialize.

use andon_app::access::{accounts, debt, requests};
use andon_domain::access::StandingAccount;
use andon_domain::api::{AccessDecisionInput, AccessRequestInput, AccountInput, AccountUseInput};
use andon_domain::query::access::{DebtQuery, GrantsQuery, RequestsQuery};
use andon_metrics::debt::DebtReport;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{json_error, listing, optional_json, query_error};

/// `POST /v1/access/requests`.
pub(crate) async fn request(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<AccessRequestInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    requests::may_request(&caller)?;
    let Json(req) = body.map_err(json_error)?;
    let r = requests::request(&app, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// `POST /v1/access/requests/{id}/approve`: the grant starts now.
pub(crate) async fn approve(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<AccessDecisionInput>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    requests::may_decide(&caller)?;
    let comment = optional_json(body)?.and_then(|b| b.comment);
    Ok(Json(requests::approve(&app, &caller, &id, comment).await?))
}

/// `POST /v1/access/requests/{id}/reject`.
pub(crate) async fn reject(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<AccessDecisionInput>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    requests::may_decide(&caller)?;
    let comment = optional_json(body)?.and_then(|b| b.comment);
    Ok(Json(requests::reject(&app, &caller, &id, comment).await?))
}

/// `POST /v1/access/requests/{id}/revoke`: ends a valid grant now (an admin, an approver,
/// or its holder).
pub(crate) async fn revoke(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    // Read, not ignored: a body left unread makes the HTTP server close the connection
    // after answering, and a client that pooled it fails its next request.
    body: Result<Option<Json<AccessDecisionInput>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    requests::may_revoke(&caller)?;
    let comment = optional_json(body)?.and_then(|b| b.comment);
    Ok(Json(requests::revoke(&app, &caller, &id, comment).await?))
}

/// `POST /v1/access/check` (admin): records due expiries now.
pub(crate) async fn check(State(app): State<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let expired = requests::check(&app, &caller).await?;
    Ok(Json(json!({ "expired": expired })))
}

/// `GET /v1/access/requests?application=&environment=&state=`.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<RequestsQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let format = q.format;
    let views = requests::list(&app, &caller, q).await?;
    Ok(listing(format, &views, &views, "access-requests"))
}

/// `GET /v1/access/requests/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(requests::show(&app, &caller, &id).await?))
}

/// `GET /v1/access/grants?environment=`: exactly the grants valid now, for an access system
/// to pull.
pub(crate) async fn grants(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<GrantsQuery>, QueryRejection>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(requests::grants(&app, &caller, q).await?))
}

/// `POST /v1/access/accounts` (admin): registers a persistent account and its owners.
pub(crate) async fn register_account(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<AccountInput>, JsonRejection>,
) -> Result<(StatusCode, Json<StandingAccount>), ApiError> {
    accounts::may_register(&caller)?;
    let Json(a) = body.map_err(json_error)?;
    let account = accounts::register(&app, &caller, a).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// `POST /v1/access/accounts/{name}/uses` (a pipeline or admin: the environment or an
/// access system reporting).
pub(crate) async fn account_used(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<AccountUseInput>, JsonRejection>,
) -> Result<(StatusCode, Json<StandingAccount>), ApiError> {
    accounts::may_report_use(&caller)?;
    let Json(u) = body.map_err(json_error)?;
    let account = accounts::used(&app, &caller, &name, u).await?;
    Ok((StatusCode::CREATED, Json(account)))
}

/// `POST /v1/access/accounts/{name}/retire` (admin).
pub(crate) async fn retire_account(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<StandingAccount>, ApiError> {
    Ok(Json(accounts::retire(&app, &caller, &name).await?))
}

/// `GET /v1/access/accounts`: the register.
pub(crate) async fn accounts(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<StandingAccount>>, ApiError> {
    Ok(Json(accounts::accounts(&app, &caller).await?))
}

/// `GET /v1/access/standing`: the people with standing access to production (owners of
/// every active account in a production environment), with their accounts. Empty is the
/// goal.
pub(crate) async fn standing(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<Value>>, ApiError> {
    Ok(Json(accounts::standing(&app, &caller).await?))
}

/// `GET /v1/access/debt?application=|team=&period=&since=&until=`: Production Access Debt
/// per period, with its trend. Neither application nor team: the whole organisation.
pub(crate) async fn debt(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<DebtQuery>, QueryRejection>,
) -> Result<Json<DebtReport>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(debt::debt(&app, &caller, q).await?))
}
