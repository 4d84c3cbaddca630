//! Evidence intake and search over HTTP: `andon_app::evidence` checks and records, these
//! handlers extract the request and answer.

use andon_app::evidence::{intake, search};
use andon_domain::api::{EvidenceView, Receipt};
use andon_domain::query::evidence::{ListQuery, SubmitQuery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::{body_error, listing, query_error};

/// `POST /v1/evidence`: one DSSE envelope as the body.
pub(crate) async fn submit(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    // Who first: a caller that may not submit learns nothing about its request.
    intake::check_submitter(&caller)?;
    let Query(q) = query.map_err(query_error)?;
    let intake = intake::check_request(&caller, q)?;
    let body = body.map_err(|e| body_error(&app, e))?;
    let receipt = intake::submit(&app, &intake, &body).await?;
    let status = if receipt.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)))
}

/// `POST /v1/evidence/batch`: a JSON array of DSSE envelopes, all accepted or none.
pub(crate) async fn submit_batch(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BatchReceipts>), ApiError> {
    // Who first: a caller that may not submit learns nothing about its request.
    intake::check_submitter(&caller)?;
    let Query(q) = query.map_err(query_error)?;
    let intake = intake::check_request(&caller, q)?;
    let body = body.map_err(|e| body_error(&app, e))?;
    let receipts = intake::submit_batch(&app, &intake, &body).await?;
    let status = if receipts.iter().all(|r| r.existing) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(BatchReceipts { receipts })))
}

/// The answer to a batch: one receipt per envelope, in order.
#[derive(serde::Serialize)]
pub(crate) struct BatchReceipts {
    receipts: Vec<Receipt>,
}

/// `GET /v1/evidence`: a search, as JSON or CSV.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let format = q.format;
    let page = search::list(&app, &caller, q).await?;
    Ok(listing(format, &page, &page.evidence, "evidence"))
}

/// `GET /v1/evidence/{id}`: one record with its statement.
pub(crate) async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EvidenceView>, ApiError> {
    Ok(Json(search::show(&app, &caller, &id).await?))
}

/// `GET /v1/evidence/{id}/document`: the envelope as submitted.
pub(crate) async fn document(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let doc = search::document(&app, &caller, &id).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], doc))
}
