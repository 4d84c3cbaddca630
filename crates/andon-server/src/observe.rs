//! What operators watch: request counts and latencies by route, ledger size and append
//! latency, the sequencer's queue, open alerts and pending notifications, as Prometheus
//! text (`GET /metrics`); liveness and readiness; a request id on every request and log
//! line.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;

use crate::ApiError;

use crate::App;
use crate::auth::Caller;
use crate::state::Server;

/// A request id: the caller's `X-Request-Id` if it sent a sane one, else a new one.
fn request_id(req: &Request) -> String {
    req.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut raw = [0u8; 8];
            let _ = getrandom::fill(&mut raw);
            hex::encode(raw)
        })
}

/// Middleware on every matched route: a request id (echoed in `X-Request-Id`, in the
/// request's log span and its completion line), and the route's count and latency.
pub(crate) async fn track(State(server): State<Server>, mut req: Request, next: Next) -> Response {
    // Bounded concurrency: past the limit, refuse at once rather than pile up.
    let Ok(_permit) = server.http.in_flight.clone().try_acquire_owned() else {
        server.http.metrics.refused();
        return ApiError::busy("too many requests in flight; retry in a second").into_response();
    };
    let id = request_id(&req);
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let client = req
        .extensions()
        .get::<crate::client_addr::ClientAddr>()
        .map(|c| c.0.to_string())
        .unwrap_or_default();
    let identity = crate::auth::IdentitySlot::default();
    req.extensions_mut().insert(identity.clone());
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut resp = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = resp.status().as_u16();
    server.http.metrics.request(&method, &route, status, took);
    if status >= 400
        || server
            .http
            .sampler
            .sampled(server.app.config().access_log_sample)
    {
        let who = identity.0.get().map(String::as_str).unwrap_or("-");
        span.in_scope(|| {
            tracing::info!(
                status,
                // Microsecond precision is what a latency needs; more digits are log volume.
                ms = (took.as_secs_f64() * 1e6).round() / 1e3,
                client = %client,
                identity = %who,
                "request done"
            );
        });
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    // The time the server spent, for browsers' developer tools and the page benchmark.
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={:.3}", took.as_secs_f64() * 1000.0)) {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

/// Reads a request's whole body (within the body limit) before anything answers it.
///
/// An HTTP/1.1 server that answers without reading the body it was sent closes the
/// connection afterwards; a client that pooled that connection then fails its next request
/// with a disconnect (it happened: a revoke that needed no body). Reading first makes every
/// answer, a refused token or a handler that ignores the body included, leave the
/// connection usable. Bodies are bounded by the limit and read whole by the JSON
/// extractors anyway, so this costs one copy, not memory the server would not spend.
///
/// A client that asked first (`Expect: 100-continue`, as the CLI and curl do for large
/// bodies) and whose Content-Length is over the limit is answered 413 before it sends
/// anything: it reads the answer instead of meeting a closed connection halfway through
/// sending. One that did not ask is read as far as the limit first, as every other request.
pub(crate) async fn read_body(State(server): State<Server>, req: Request, next: Next) -> Response {
    use axum::extract::FromRequest as _;
    let limit = server.app.config().max_body_bytes;
    let headers = req.headers();
    let asked_first = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| asked_first && *n > limit as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the body is {n} bytes, over this server's limit of {limit} bytes (andon serve --max-body-bytes)"
            ),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    match axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(rejection) => {
            let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                "payload_too_large"
            } else {
                "bad_body"
            };
            ApiError::new(rejection.status(), code, rejection.body_text()).into_response()
        }
    }
}

/// `GET /readyz`: the database answers, the sequencer runs and this server may write (it
/// holds the log key in force; the schema lets it write); 503 otherwise, with why.
pub(crate) async fn ready(State(app): State<App>) -> Response {
    if app.sequencer_stopped() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the ledger sequencer has stopped",
        )
            .into_response();
    }
    if let Some(why) = app.writes_stopped() {
        return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
    }
    // An orchestrator waits a few seconds at most: the answer comes within half a second,
    // database or not.
    match tokio::time::timeout(std::time::Duration::from_millis(400), app.store().ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the database does not answer: {e}"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer within 400 ms",
        )
            .into_response(),
    }
}

/// `GET /metrics` on the main listener (any identity: Prometheus sends a bearer token).
pub(crate) async fn metrics(State(server): State<Server>, _caller: Caller) -> Response {
    open_metrics(&server)
}

/// `GET /metrics` on the metrics listener (`--metrics-listen`): no token, never limited.
pub(crate) async fn metrics_open(State(server): State<Server>) -> Response {
    open_metrics(&server)
}

/// The metrics, from memory only (see `metrics`).
fn open_metrics(server: &Server) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        server.http.metrics.encode(),
    )
        .into_response()
}
