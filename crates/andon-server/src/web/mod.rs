//! The web interface under `/ui`: sign-in, the session, and the pages.
//!
//! Each page calls the API's own handlers with the viewer's identity and renders their
//! answers with `andon-web`, so a page shows exactly what the API answers that identity,
//! and its export links are the API's own URLs (which the session may read).

mod pages;
pub(crate) mod session;
mod sso;
mod view;

use view::html;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::Server;

pub(crate) fn router() -> Router<Server> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(pages::overview))
        .route("/ui/assets/andon.css", get(stylesheet))
        .route("/ui/sign-in", get(sign_in_form).post(sign_in))
        .route("/ui/sign-out", axum::routing::post(sign_out))
        .route("/ui/sso", get(sso::start))
        .route("/ui/sso/callback", get(sso::callback))
        .route("/ui/evidence", get(pages::evidence))
        .route("/ui/evidence/{id}", get(pages::evidence_record))
        .route("/ui/deployments", get(pages::deployments))
        .route("/ui/deployments/{id}", get(pages::deployment))
        .route("/ui/controls", get(pages::controls))
        .route("/ui/controls/{id}", get(pages::control_cases))
        .route("/ui/changes", get(pages::changes))
        .route("/ui/changes/{id}", get(pages::change))
        .route("/ui/access", get(pages::access))
        .route("/ui/alerts", get(pages::alerts))
        .route("/ui/vulnerabilities", get(pages::vulnerabilities))
        .route("/ui/vulnerabilities/{id}", get(pages::vulnerability_item))
        .route("/ui/metrics", get(pages::metrics))
        .route("/ui/ledger", get(pages::ledger))
        .layer(axum::middleware::map_response(harden))
}

/// Headers every interface response carries: no scripts at all, no framing, no sniffing,
/// nothing cached (pages hold audit data), no referrer leaking query strings to other sites
/// (`same-origin`, not `no-referrer`: under that, browsers send `Origin: null` on form
/// posts, and sign-in could not tell its own page from another site's).
async fn harden(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        andon_web::STYLESHEET,
    )
}

/// Whether a form post comes from this server's own pages: a browser names the page's
/// origin, which must be this host (no `Origin`: not a browser's cross-site post).
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, h)| h);
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Where to go after signing in: only a page of the interface (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.contains("//") && !n.contains('\\') => n.to_owned(),
        _ => "/ui/".to_owned(),
    }
}

#[derive(serde::Deserialize)]
struct SignInQuery {
    next: Option<String>,
}

async fn sign_in_form(
    State(server): State<Server>,
    query: axum::extract::Query<SignInQuery>,
) -> impl IntoResponse {
    let sso = server.app.config().sso.is_some();
    html(andon_web::sign_in(
        None,
        &safe_next(query.next.as_deref()),
        sso,
    ))
}

#[derive(serde::Deserialize)]
struct SignInForm {
    token: String,
    next: Option<String>,
}

async fn sign_in(State(server): State<Server>, request: axum::extract::Request) -> Response {
    let app = server.app.clone();
    use axum::extract::FromRequest as _;
    let peer = request
        .extensions()
        .get::<crate::client_addr::ClientAddr>()
        .map(|c| c.0);
    if let Some(ip) = peer
        && server.http.auth_failures.blocked(ip)
    {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            html(andon_web::sign_in(
                Some("Too many failed sign-ins from this address; wait a minute."),
                "/ui/",
                server.app.config().sso.is_some(),
            )),
        )
            .into_response();
    }
    if !same_origin(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            html(andon_web::sign_in(
                Some("Sign in from this server's own page."),
                "/ui/",
                server.app.config().sso.is_some(),
            )),
        )
            .into_response();
    }
    let secure = request
        .headers()
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes() == b"https");
    let form = axum::Form::<SignInForm>::from_request(request, &server).await;
    let Ok(axum::Form(form)) = form else {
        return (
            StatusCode::BAD_REQUEST,
            html(andon_web::sign_in(
                Some("The form was incomplete: paste a token."),
                "/ui/",
                server.app.config().sso.is_some(),
            )),
        )
            .into_response();
    };
    let next = safe_next(form.next.as_deref());
    let hash = andon_app::token_hash(form.token.trim());
    if crate::auth::caller_for(&app, hash.clone()).await.is_err() {
        // A wrong token here is a guess like any other: it counts against the address.
        if let Some(ip) = peer {
            server.http.auth_failures.failed(ip);
        }
        return (
            StatusCode::UNAUTHORIZED,
            html(andon_web::sign_in(
                Some("That token is not valid."),
                &next,
                app.config().sso.is_some(),
            )),
        )
            .into_response();
    }
    let cookie = session::set_cookie(&session::mint(&app, &hash, app.now()), secure);
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, next), (header::SET_COOKIE, cookie)],
    )
        .into_response()
}

/// Ends the session: a session a sign-in through the identity provider started is revoked
/// in the ledger (on every server at once), not only dropped from the browser; a session of
/// a pasted API token drops the cookie and leaves the token alone.
async fn sign_out(State(server): State<Server>, headers: axum::http::HeaderMap) -> Response {
    if same_origin(&headers)
        && let Some(hash) = session::from_headers(&server.app, &headers)
        && let Err(e) = andon_app::federation::person::sign_out(&server.app, &hash).await
    {
        tracing::warn!(error = %e, "sign-out could not revoke the session");
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/ui/sign-in".to_owned()),
            (header::SET_COOKIE, session::clear_cookie()),
        ],
    )
        .into_response()
}
