//! Andon's server: the HTTP API, authentication, evidence intake, and the ledger sequencer.
//!
//! Handlers validate at the boundary (envelope, statement, key, scope) in parallel; every
//! accepted fact then goes through one sequencer task that assigns ledger indexes and
//! group-commits batches, so the ledger never serialises the server on one fsync per record.
//! The server owns no domain rules of its own beyond who may do what.

mod app;
mod auth;
mod clock;
mod error;
mod notify;
mod observe;
pub mod openapi;
mod rfc;
mod routes;
mod sequencer;
mod web;
mod witness;

pub use app::{App, Config, Started};
pub use clock::Clock;
pub use error::ApiError;
pub use notify::{NotifyFormat, SIGNATURE_HEADER, signature as notification_signature};

use std::future::Future;

use tokio::net::TcpListener;

/// Serves `app` on `listener` until `shutdown` resolves. Tests call this with a listener on
/// port 0 and talk to it with the same client the CLI uses.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = routes::router(app);
    // The peer address feeds the authentication-failure limit.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
