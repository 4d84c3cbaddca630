//! Signing in to the web interface through the organisation's identity provider
//! (`andon_app::federation::sso`): `/ui/sso` sends the browser there with a fresh state,
//! nonce and PKCE challenge kept in a sealed cookie; `/ui/sso/callback` redeems the code and
//! starts the session. Every failure lands on the sign-in page with what went wrong.

use andon_app::federation::sso;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::view::html;
use super::{safe_next, session};
use crate::state::Server;

#[derive(serde::Deserialize)]
pub(super) struct Start {
    next: Option<String>,
}

fn secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes() == b"https")
}

fn failed(status: StatusCode, message: &str, next: &str) -> Response {
    (
        status,
        [(header::SET_COOKIE, session::clear_pending_cookie())],
        html(andon_web::sign_in(Some(message), next, true)),
    )
        .into_response()
}

/// `GET /ui/sso`: off to the identity provider.
pub(super) async fn start(
    State(server): State<Server>,
    headers: HeaderMap,
    Query(q): Query<Start>,
) -> Response {
    let app = &server.app;
    let next = safe_next(q.next.as_deref());
    match sso::begin(app, &next).await {
        Ok((url, pending)) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, url),
                (
                    header::SET_COOKIE,
                    session::set_pending_cookie(
                        &session::seal_pending(app, &pending),
                        secure(&headers),
                    ),
                ),
            ],
        )
            .into_response(),
        Err(e) => failed(StatusCode::SERVICE_UNAVAILABLE, &e.message, &next),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /ui/sso/callback`: back from the provider with a code (or its refusal).
pub(super) async fn callback(
    State(server): State<Server>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let app = &server.app;
    let Some(pending) = session::named_cookie(&headers, session::SSO_COOKIE)
        .and_then(|v| session::open_pending(app, v))
    else {
        return failed(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started here, or it lapsed: start again.",
            "/ui/",
        );
    };
    if let Some(error) = q.error {
        let why = q.error_description.unwrap_or(error);
        return failed(
            StatusCode::UNAUTHORIZED,
            &format!("The identity provider did not sign you in: {why}"),
            &pending.next,
        );
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return failed(
            StatusCode::BAD_REQUEST,
            "The identity provider answered without a code.",
            &pending.next,
        );
    };
    match sso::finish(app, &code, &state, &pending).await {
        Ok(issued) => {
            let hash = andon_app::token_hash(&issued.token);
            let cookie =
                session::set_cookie(&session::mint(app, &hash, app.now()), secure(&headers));
            // A page that moves on by itself, not a redirect: see andon_web::signed_in.
            let mut r = html(andon_web::signed_in(&pending.next)).into_response();
            let h = r.headers_mut();
            for c in [cookie, session::clear_pending_cookie()] {
                if let Ok(v) = c.parse() {
                    h.append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Err(e) => {
            let e = crate::ApiError::from(e);
            failed(
                e.status,
                &format!("{} ({})", e.message, e.code),
                &pending.next,
            )
        }
    }
}
