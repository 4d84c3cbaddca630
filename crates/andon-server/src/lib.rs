//! Andon's server: the HTTP API, authentication, observability and the web interface over
//! the application layer (`andon-app`).
//!
//! Handlers extract, call the application and serialize; the rules, the sequencer and the
//! jobs live in `andon-app`.

mod auth;
pub mod client_addr;
mod error;
mod http;
mod observe;
pub mod openapi;
mod routes;
mod state;
mod tls;
mod web;

pub use andon_app::{
    App, Clock, Config, NotifyFormat, SIGNATURE_HEADER, Sso, Started, Witness,
    notification_signature,
};
pub use error::ApiError;
pub use tls::{Tls, serve_tls};

use std::future::Future;

use tokio::net::TcpListener;

/// Serves `app` on `listener` until `shutdown` resolves. Tests call this with a listener on
/// port 0 and talk to it with the same client the CLI uses.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = routes::router(state::Server::new(app));
    // The peer address feeds the authentication-failure limit.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
