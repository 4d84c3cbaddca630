//! Andon's server: the HTTP API, authentication, observability and the web interface over
//! the application layer (`andon-app`).
//!
//! Handlers extract, call the application and serialize; the rules, the sequencer and the
//! jobs live in `andon-app`.

mod auth;
pub mod client_addr;
mod error;
mod http;
mod metrics;
mod observe;
pub mod openapi;
mod routes;
mod state;
mod tls;
mod web;

pub use andon_app::{
    App, Clock, Config, NotifyFormat, SIGNATURE_HEADER, Sso, Started, VulnSla, Witness,
    notification_signature,
};
pub use error::ApiError;
pub use tls::Tls;

use std::future::Future;

use tokio::net::TcpListener;

/// Serves `app` on `listener` until `shutdown` resolves. Tests call this with a listener on
/// port 0 and talk to it with the same client the CLI uses.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_all(
        Listeners {
            main: listener,
            metrics: None,
            tls: None,
        },
        app,
        shutdown,
    )
    .await
}

/// Where a server listens.
pub struct Listeners {
    /// The API, the web interface, the probes and `/metrics` (with a token).
    pub main: TcpListener,
    /// `/metrics` without a token, and the probes: for a scraper on a network of its own.
    pub metrics: Option<TcpListener>,
    /// HTTPS on the main listener.
    pub tls: Option<(Tls, axum_server::tls_rustls::RustlsConfig)>,
}

/// Serves `app` on every listener until `shutdown` resolves.
pub async fn serve_all(
    listeners: Listeners,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = state::Server::new(app);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let metrics = listeners.metrics.map(|l| {
        let router = routes::metrics_router(server.clone());
        let stop = stopped(stop_rx.clone());
        tokio::spawn(async move {
            axum::serve(
                l,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stop)
            .await
        })
    });
    let router = routes::router(server);
    let main = match listeners.tls {
        Some((tls, config)) => {
            tls::serve_tls(listeners.main, router, stopped(stop_rx), tls, config).await
        }
        // The peer address feeds the authentication-failure limit.
        None => {
            axum::serve(
                listeners.main,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stopped(stop_rx))
            .await
        }
    };
    if let Some(m) = metrics {
        m.await.map_err(std::io::Error::other)??;
    }
    main
}
