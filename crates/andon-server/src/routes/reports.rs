//! Reports uploaded on their own (`andon_app::evidence::reports`): the body is the report's
//! bytes, read once into one buffer within `--max-report-bytes`, outside the JSON body limit
//! every other route has.

use andon_app::evidence::reports;
use andon_domain::api::ReportReceipt;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use futures_core::Stream as _;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;

/// `PUT /v1/reports/{digest}`: stores the body under its digest, which it must hash to.
pub(crate) async fn upload(
    State(app): State<App>,
    caller: Caller,
    Path(digest): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<ReportReceipt>), ApiError> {
    // Who and what first: a refused request is answered before its body is sent (the CLI
    // asks first, `Expect: 100-continue`).
    reports::check_uploader(&caller)?;
    let digest = reports::parse_digest(&digest)?;
    let limit = app.config().max_report_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > limit as u64) {
        return Err(reports::too_large(n, limit).into());
    }
    // One buffer, filled as the body arrives: the report is held once.
    let mut content = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut stream = body.into_data_stream();
    while let Some(chunk) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut stream).poll_next(cx)).await
    {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("unreadable_body", format!("reading the report: {e}"))
        })?;
        if content.len() + chunk.len() > limit {
            return Err(reports::too_large((content.len() + chunk.len()) as u64, limit).into());
        }
        content.extend_from_slice(&chunk);
    }
    let receipt = reports::upload(&app, &caller, digest, content).await?;
    let status = if receipt.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)))
}

/// `GET /v1/reports/{digest}`: a stored report, as uploaded.
pub(crate) async fn read(
    State(app): State<App>,
    caller: Caller,
    Path(digest): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let digest = reports::parse_digest(&digest)?;
    let bytes = reports::read(&app, &caller, digest).await?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}
