//! Vulnerabilities (docs/vulnerabilities.md): OSV advisories imported, the blast radius
//! of a package or a vulnerability, and the items tracking each to its fix. The rules are
//! `andon_app::vulns`'; these handlers extract, call and serialize.

use andon_domain::query::vulns::{ImpactQuery, ItemQuery};
use andon_domain::vuln_items::{CheckAnswer, VulnItem};
use andon_domain::vulns::{AdvisoryBrief, Impact, ImportAnswer};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{body_error, query_error};

/// `POST /v1/advisories`: OSV records (admins).
pub(crate) async fn import(
    State(app): State<App>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ImportAnswer>), ApiError> {
    let body = body.map_err(|e| body_error(&app, e))?;
    let answer = andon_app::vulns::advisories::import(&app, &caller, &body).await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `GET /v1/vulnerabilities/impact?purl=|id=&environment=`.
pub(crate) async fn impact(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ImpactQuery>, QueryRejection>,
) -> Result<Json<Impact>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(Json(
        andon_app::vulns::impact::impact(&app, &caller, &q).await?,
    ))
}

/// `GET /v1/vulnerabilities/items?application=&state=&vulnerability=`.
pub(crate) async fn items(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ItemQuery>, QueryRejection>,
) -> Result<Json<Vec<VulnItem>>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(Json(
        andon_app::vulns::items::list(&app, &caller, &q).await?,
    ))
}

/// `GET /v1/vulnerabilities/items/{id}`: one item with its transitions.
pub(crate) async fn item(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<VulnItem>, ApiError> {
    Ok(Json(
        andon_app::vulns::items::get(&app, &caller, &id).await?,
    ))
}

/// `POST /v1/vulnerabilities/check` (admins): advance every item and raise overdue alerts now.
pub(crate) async fn check(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<CheckAnswer>, ApiError> {
    Ok(Json(andon_app::vulns::items::check(&app, &caller).await?))
}

/// `GET /v1/advisories`: the imported advisories, newest import first.
pub(crate) async fn advisories(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<AdvisoryBrief>>, ApiError> {
    Ok(Json(
        andon_app::vulns::advisories::list(&app, &caller).await?,
    ))
}
