//! Source-control webhooks: `POST /webhooks/github` and `POST /webhooks/gitlab`.
//!
//! GitHub signs each delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`
//! with the hook's secret, checked in constant time. GitLab sends the hook's secret token in
//! `X-Gitlab-Token`, also compared in constant time. A delivery id (`X-GitHub-Delivery`;
//! GitLab's `Idempotency-Key` or `X-Gitlab-Event-UUID`, else the payload's digest) is
//! recorded once: a replay is refused with 409. Events with governance facts become one
//! ledger entry each; others are acknowledged with 202 and not recorded.

use andon_domain::{Sha256Digest, SourceEventFact};
use andon_evidence::{github, gitlab};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ApiError;
use crate::App;
use andon_app::Fact;

/// The longest delivery id kept.
const MAX_DELIVERY_ID: usize = 200;

fn unauthorized(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, m)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn not_configured(provider: &str, setting: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "webhook_not_configured",
        format!("{provider} webhooks are not configured on this server (set {setting})"),
    )
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

/// Checks `X-Hub-Signature-256` against the body.
fn verify_github_signature(secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let sig = header(headers, "x-hub-signature-256").ok_or_else(|| {
        unauthorized(
            "missing_signature",
            "no X-Hub-Signature-256 header: configure the webhook with a secret",
        )
    })?;
    let tag = sig
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|t| t.len() == 32)
        .ok_or_else(|| {
            unauthorized(
                "bad_signature",
                "X-Hub-Signature-256 is not sha256=<64 hex digits>",
            )
        })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| ApiError::unavailable(format!("webhook secret unusable: {e}")))?;
    mac.update(body);
    mac.verify_slice(&tag).map_err(|_| {
        unauthorized(
            "bad_signature",
            "X-Hub-Signature-256 does not match the body and the configured secret",
        )
    })
}

fn delivery_id(id: &str) -> Result<String, ApiError> {
    if id.len() > MAX_DELIVERY_ID || id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_delivery",
            format!("a delivery id is at most {MAX_DELIVERY_ID} printable characters"),
        ));
    }
    Ok(id.to_owned())
}

async fn record(
    app: &App,
    provider: &str,
    delivery: String,
    event: &str,
    payload: &[u8],
    facts: Option<andon_domain::scm::SourceFacts>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Some(mut facts) = facts else {
        return Ok((
            StatusCode::ACCEPTED,
            Json(
                json!({"recorded": false, "event": event, "reason": "no governance facts in this event"}),
            ),
        ));
    };
    // Checked here to answer a replay without queueing it; the sequencer checks again, and
    // the delivery's primary key is the last word.
    if app.0.store.delivery_seen(provider, &delivery).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "replayed_delivery",
            format!("{provider} delivery {delivery} was already recorded"),
        ));
    }
    app.config().ticket_patterns.link(&mut facts);
    let summary = json!({
        "commits": facts.commits.len(),
        "pull_request_events": facts.changes.len(),
        "reviews": facts.reviews.len(),
        "deployments": facts.deployments.len(),
        "tickets": facts.tickets.iter().map(|t| t.ticket.clone()).collect::<std::collections::BTreeSet<_>>(),
    });
    let fact = SourceEventFact {
        provider: provider.to_owned(),
        delivery,
        event: event.to_owned(),
        payload: Sha256Digest::of(payload),
        facts,
    };
    let receipt = app
        .append(Fact::Source {
            fact,
            payload: payload.to_vec(),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"recorded": true, "event": event, "facts": summary, "receipt": receipt})),
    ))
}

/// `POST /webhooks/github`.
pub(crate) async fn github(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let secret = app
        .0
        .config
        .github_webhook_secret
        .clone()
        .ok_or_else(|| not_configured("GitHub", "ANDON_GITHUB_WEBHOOK_SECRET"))?;
    let body = body.map_err(body_error)?;
    verify_github_signature(&secret, &headers, &body)?;
    let event = header(&headers, "x-github-event")
        .ok_or_else(|| ApiError::bad_request("missing_event", "no X-GitHub-Event header"))?;
    let delivery = header(&headers, "x-github-delivery")
        .ok_or_else(|| ApiError::bad_request("missing_delivery", "no X-GitHub-Delivery header"))
        .and_then(delivery_id)?;
    let facts = github::parse(event, &body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unparseable_payload",
            e.to_string(),
        )
    })?;
    record(&app, "github", delivery, event, &body, facts).await
}

/// `POST /webhooks/gitlab`.
pub(crate) async fn gitlab(
    State(app): State<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let expected = app
        .0
        .config
        .gitlab_webhook_token
        .clone()
        .ok_or_else(|| not_configured("GitLab", "ANDON_GITLAB_WEBHOOK_TOKEN"))?;
    let token = header(&headers, "x-gitlab-token")
        .ok_or_else(|| unauthorized("missing_token", "no X-Gitlab-Token header"))?;
    // Compare digests, so neither the contents nor the length of the secret leak by timing.
    let same: bool = Sha256Digest::of(token.as_bytes())
        .as_bytes()
        .ct_eq(Sha256Digest::of(expected.as_bytes()).as_bytes())
        .into();
    if !same {
        return Err(unauthorized(
            "bad_token",
            "X-Gitlab-Token does not match the configured token",
        ));
    }
    let body = body.map_err(body_error)?;
    let event = header(&headers, "x-gitlab-event").unwrap_or("unknown");
    let delivery = match header(&headers, "idempotency-key")
        .or_else(|| header(&headers, "x-gitlab-event-uuid"))
    {
        Some(id) => delivery_id(id)?,
        None => format!("sha256:{}", Sha256Digest::of(&body).hex()),
    };
    let facts = gitlab::parse(&body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unparseable_payload",
            e.to_string(),
        )
    })?;
    record(&app, "gitlab", delivery, event, &body, facts).await
}
