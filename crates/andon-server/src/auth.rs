//! Authentication (bearer tokens) as an extractor, and the role checks.

use andon_app::Actor;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::ApiError;
use crate::App;
use crate::state::Server;
use andon_app::token_hash;

/// Where a request's authenticated identity is noted for its access-log line (put in the
/// request by the tracking middleware, filled by the [`Caller`] extractor).
#[derive(Clone, Default)]
pub(crate) struct IdentitySlot(pub std::sync::Arc<std::sync::OnceLock<String>>);

/// The authenticated caller: the application's [`Actor`], extracted from the request.
#[derive(Clone, Debug)]
pub struct Caller(pub Actor);

impl std::ops::Deref for Caller {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequestParts<Server> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        server: &Server,
    ) -> Result<Self, Self::Rejection> {
        let app = &server.app;
        let peer = parts
            .extensions
            .get::<crate::client_addr::ClientAddr>()
            .map(|c| c.0);
        if let Some(ip) = peer
            && server.http.auth_failures.blocked(ip)
        {
            return Err(too_many_failures());
        }
        // Only a presented credential that fails counts: a guess, not a forgotten header.
        let presented = parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION);
        let result = authenticate(parts, app).await;
        if let (Ok(caller), Some(slot)) = (&result, parts.extensions.get::<IdentitySlot>()) {
            let _ = slot.0.set(caller.name.clone());
        }
        if let (Err(e), Some(ip), true) = (&result, peer, presented)
            && e.status == StatusCode::UNAUTHORIZED
        {
            server.http.auth_failures.failed(ip);
        }
        result
    }
}

async fn authenticate(parts: &mut Parts, app: &App) -> Result<Caller, ApiError> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        // A browser's session stands in for the token, for reading only: a cookie rides
        // along on requests other sites cause, so it never authorizes a change.
        let reading =
            parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD;
        if reading && let Some(hash) = crate::web::session::from_headers(app, &parts.headers) {
            return caller_for(app, hash)
                .await
                .map_err(|_| unauthorized("the session's token is no longer valid"));
        }
        return Err(unauthorized("missing Authorization: Bearer <token>"));
    };
    let token = header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("the Authorization header is not a bearer token"))?;
    // Looking up the SHA-256 of the token compares hashes, not the secret itself, so the
    // lookup's timing reveals nothing useful about the token.
    caller_for(app, token_hash(token.trim())).await
}

/// The answer to an address over the limit of failed authentications.
fn too_many_failures() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_auth_failures",
        "too many failed authentications from this address; wait a minute",
    )
}

/// The limit on failed authentications, for the routes that authenticate by what the body
/// carries (an ID token) rather than by a bearer token: refuses an address over the limit,
/// and counts a 401 against it. `attempt` is the route's work.
pub(crate) async fn limited<T>(
    server: &Server,
    extensions: &axum::http::Extensions,
    attempt: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let peer = extensions
        .get::<crate::client_addr::ClientAddr>()
        .map(|c| c.0);
    if let Some(ip) = peer
        && server.http.auth_failures.blocked(ip)
    {
        return Err(too_many_failures());
    }
    let result = attempt.await;
    if let (Err(e), Some(ip)) = (&result, peer)
        && e.status == StatusCode::UNAUTHORIZED
    {
        server.http.auth_failures.failed(ip);
    }
    result
}

/// The caller a token hash belongs to, or 401.
pub(crate) async fn caller_for(app: &App, hash: String) -> Result<Caller, ApiError> {
    Ok(Caller(app.actor_by_token_hash(hash).await?))
}
