//! HTTPS: `andon serve --tls-cert --tls-key` with rustls (the ring provider the database
//! driver already uses). The certificate and key are read at start (a bad pair stops the
//! start) and again on SIGHUP, so a renewed certificate is served without a restart; a
//! reload that fails keeps the one in use and says why.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;

/// A certificate chain and its private key, PEM files.
#[derive(Clone, Debug)]
pub struct Tls {
    /// The certificate chain (the server's first).
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl Tls {
    /// Reads and checks the pair.
    pub async fn load(&self) -> std::io::Result<RustlsConfig> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        RustlsConfig::from_pem_file(&self.cert, &self.key)
            .await
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "TLS certificate {} and key {}: {e}",
                        self.cert.display(),
                        self.key.display()
                    ),
                )
            })
    }
}

/// Serves `router` over TLS on `listener` until `shutdown` resolves, with `config` (from
/// [`Tls::load`]), reloading it from `tls`'s files on SIGHUP.
pub(crate) async fn serve_tls(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    tls: Tls,
    config: RustlsConfig,
) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let config = config.clone();
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                match config.reload_from_pem_file(&tls.cert, &tls.key).await {
                    Ok(()) => {
                        tracing::info!(cert = %tls.cert.display(), "TLS certificate reloaded")
                    }
                    Err(e) => tracing::error!(
                        cert = %tls.cert.display(),
                        error = %e,
                        "TLS certificate not reloaded; the previous one is still served"
                    ),
                }
            }
        });
    }
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopping.graceful_shutdown(None);
    });
    axum_server::from_tcp_rustls(listener.into_std()?, config)?
        .handle(handle)
        .serve(router.into_make_service_with_connect_info::<SocketAddr>())
        .await
}
