//! What every page shares: the signed-in viewer, and a page as an HTML response.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Caller;
use crate::state::Server;

/// A signed-in viewer of the interface: the caller behind the session (or a bearer
/// token). Without one, a page redirects to the sign-in form and comes back after.
pub(crate) struct Viewer {
    pub caller: Caller,
    pub shown: andon_web::Viewer,
}

impl FromRequestParts<Server> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        server: &Server,
    ) -> Result<Self, Self::Rejection> {
        match Caller::from_request_parts(parts, server).await {
            Ok(caller) => Ok(Viewer {
                shown: andon_web::Viewer {
                    name: caller.name.clone(),
                    role: caller.role.to_string(),
                },
                caller,
            }),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                let here = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/ui/");
                Err(
                    Redirect::to(&format!("/ui/sign-in?next={}", andon_web::encode(here)))
                        .into_response(),
                )
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A rendered page as an HTML response.
pub(crate) fn html(markup: maud::Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}
