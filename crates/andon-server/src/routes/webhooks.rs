//! Source-control webhooks over HTTP: `POST /webhooks/github` and `POST /webhooks/gitlab`.
//!
//! These handlers read the headers and the body; `andon_app::source` checks the hook's
//! secret or token and records the delivery (once: a replay is refused with 409). Events
//! with governance facts become one ledger entry each (201); others are acknowledged with
//! 202 and not recorded.

use andon_app::source::{self, Delivered, GithubDelivery};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::ApiError;
use crate::App;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            e.body_text(),
        )
    } else {
        ApiError::bad_request("unreadable_body", e.body_text())
    }
}

/// The answer to a delivery: 201 with the facts recorded, or 202 when there were none.
fn answer(delivered: Delivered) -> (StatusCode, Json<serde_json::Value>) {
    match delivered {
        Delivered::Ignored { event } => (
            StatusCode::ACCEPTED,
            Json(
                json!({"recorded": false, "event": event, "reason": "no governance facts in this event"}),
            ),
        ),
        Delivered::Recorded {
            event,
            facts,
            receipt,
        } => (
            StatusCode::CREATED,
            Json(json!({"recorded": true, "event": event, "facts": facts, "receipt": receipt})),
        ),
    }
}

/// `POST /webhooks/github`.
pub(crate) async fn github(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let hook = source::github_hook(&app)?;
    let body = body.map_err(body_error)?;
    let delivery = GithubDelivery {
        signature: header(&headers, "x-hub-signature-256"),
        event: header(&headers, "x-github-event"),
        delivery: header(&headers, "x-github-delivery"),
    };
    Ok(answer(source::github(&app, &hook, delivery, &body).await?))
}

/// `POST /webhooks/gitlab`.
pub(crate) async fn gitlab(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let hook = source::gitlab_hook(&app, header(&headers, "x-gitlab-token"))?;
    let body = body.map_err(body_error)?;
    let event = header(&headers, "x-gitlab-event");
    let delivery =
        header(&headers, "idempotency-key").or_else(|| header(&headers, "x-gitlab-event-uuid"));
    Ok(answer(
        source::gitlab(&app, &hook, event, delivery, &body).await?,
    ))
}
