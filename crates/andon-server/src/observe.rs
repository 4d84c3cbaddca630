//! What operators watch: request counts and latencies by route, ledger size and append
//! latency, the sequencer's queue, open alerts and pending notifications, as Prometheus
//! text (`GET /metrics`); liveness and readiness; a request id on every request and log
//! line.

use std::fmt::Write as _;
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
        server.http.meters.refused();
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
    server.http.meters.request(&method, &route, status, took);
    if status >= 400
        || server
            .http
            .meters
            .sampled(server.app.config().access_log_sample)
    {
        let who = identity.0.get().map(String::as_str).unwrap_or("-");
        span.in_scope(|| {
            tracing::info!(
                status,
                ms = took.as_secs_f64() * 1000.0,
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
    match app.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the database does not answer: {e}"),
        )
            .into_response(),
    }
}

/// `GET /metrics` (any identity: Prometheus sends a bearer token): Prometheus text format.
pub(crate) async fn metrics(
    State(server): State<Server>,
    _caller: Caller,
) -> Result<Response, ApiError> {
    let app = &server.app;
    let m = &server.http.meters;
    let mut out = String::new();
    out.push_str("# HELP andon_http_requests_total HTTP requests by route and status.\n# TYPE andon_http_requests_total counter\n");
    if let Ok(routes) = m.routes.lock() {
        for ((method, route), stats) in routes.iter() {
            for (status, n) in &stats.statuses {
                let _ = writeln!(
                    out,
                    "andon_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
    }
    out.push_str("# HELP andon_http_request_duration_seconds HTTP request latency by route.\n# TYPE andon_http_request_duration_seconds histogram\n");
    if let Ok(routes) = m.routes.lock() {
        for ((method, route), stats) in routes.iter() {
            stats.latency.write(
                &mut out,
                "andon_http_request_duration_seconds",
                &format!("method=\"{method}\",route=\"{route}\""),
            );
        }
    }
    out.push_str("# HELP andon_ledger_append_duration_seconds From hand-over to the sequencer to a durable receipt.\n# TYPE andon_ledger_append_duration_seconds histogram\n");
    app.append_latencies()
        .write(&mut out, "andon_ledger_append_duration_seconds", "");
    let _ = writeln!(
        out,
        "# HELP andon_http_refused_total Requests refused for overload (429).\n# TYPE andon_http_refused_total counter\nandon_http_refused_total {}",
        m.refused.load(std::sync::atomic::Ordering::Relaxed)
    );
    let (depth, capacity) = app.sequencer_queue();
    let _ = write!(
        out,
        "# HELP andon_ledger_entries Entries in the ledger (latest signed checkpoint).\n# TYPE andon_ledger_entries gauge\nandon_ledger_entries {}\n\
         # HELP andon_sequencer_queue_depth Facts waiting for the sequencer.\n# TYPE andon_sequencer_queue_depth gauge\nandon_sequencer_queue_depth {}\n\
         # HELP andon_sequencer_queue_capacity The sequencer queue's bound.\n# TYPE andon_sequencer_queue_capacity gauge\nandon_sequencer_queue_capacity {}\n",
        app.latest().checkpoint.size,
        depth,
        capacity
    );
    let store = app.store();
    out.push_str("# HELP andon_alerts_open Alerts not resolved, by severity.\n# TYPE andon_alerts_open gauge\n");
    for (severity, n) in store.open_alert_counts().await? {
        let _ = writeln!(out, "andon_alerts_open{{severity=\"{severity}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP andon_notifications_pending Notifications not delivered yet (and not given up).\n# TYPE andon_notifications_pending gauge\nandon_notifications_pending {}",
        store.pending_notifications().await?
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
