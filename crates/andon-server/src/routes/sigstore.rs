//! Keyless signing over HTTP: Sigstore trusted roots and application keyless policies;
//! `andon_app::sigstore` checks and records, every change a ledger entry.

use andon_app::{admin, sigstore};
use andon_domain::api::{KeylessPolicyView, TrustedRootView};
use andon_domain::sigstore::KeylessPolicy;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;

pub(crate) async fn set_trusted_root(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<TrustedRootView>, ApiError> {
    admin::require_admin(&caller)?;
    Ok(Json(
        sigstore::set_trusted_root(&app, &caller, &name, &body).await?,
    ))
}

pub(crate) async fn list_trusted_roots(
    State(app): State<App>,
    _caller: Caller,
) -> Json<Vec<TrustedRootView>> {
    Json(sigstore::list_trusted_roots(&app))
}

pub(crate) async fn set_keyless_policy(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<KeylessPolicy>, JsonRejection>,
) -> Result<Json<KeylessPolicyView>, ApiError> {
    admin::require_admin(&caller)?;
    let policy = body
        .map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("malformed_json", e.body_text()))?;
    Ok(Json(
        sigstore::set_keyless_policy(&app, &caller, &name, policy).await?,
    ))
}
