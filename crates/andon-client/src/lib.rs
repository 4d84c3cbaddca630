//! Andon's HTTP client, used by the CLI, the demo, the benchmark and the tests, so that
//! everything exercises the API the way pipelines do.
//!
//! [`Client`] holds the server's address, the token and the connection pool; its calls are
//! grouped in the source by API family (one module each), as the server's routes are.

mod access;
mod admin;
mod admission;
mod alerts;
mod changes;
mod drills;
mod evidence;
mod gates;
mod http;
mod ledger;
mod oidc;
mod reports;
mod telemetry;
mod webhooks;

pub use evidence::{EvidenceQuery, batch_body};
pub use ledger::{check_inclusion, check_receipt};
pub use webhooks::github_signature;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached or answered something unreadable.
    #[error("cannot talk to the server: {0}")]
    Transport(String),
    /// A proof or signed checkpoint the server sent does not verify.
    #[error("does not verify: {0}")]
    Unverified(String),
}

impl ClientError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            ClientError::Transport(_) | ClientError::Unverified(_) => None,
        }
    }
}

/// The certificate authorities `ANDON_CA_FILE` names (PEM), for a server whose HTTPS
/// certificate a private CA issued; without it, the web's public roots.
fn private_roots() -> Option<ureq::tls::RootCerts> {
    let path = std::env::var_os("ANDON_CA_FILE").filter(|p| !p.is_empty())?;
    let pem = match std::fs::read(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "warning: ANDON_CA_FILE {}: {e}; using the public roots",
                std::path::Path::new(&path).display()
            );
            return None;
        }
    };
    let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        eprintln!(
            "warning: ANDON_CA_FILE {} holds no PEM certificate; using the public roots",
            std::path::Path::new(&path).display()
        );
        return None;
    }
    Some(ureq::tls::RootCerts::new_with_certs(&certs))
}

/// A client bound to one server and one token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
    retries: u32,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8420`).
    pub fn new(base: &str, token: Option<String>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // ureq keeps 3 idle connections per host by default; a busy CI fleet (or the
            // load benchmark) sharing one client would reconnect on nearly every request.
            .max_idle_connections(1024)
            .max_idle_connections_per_host(1024)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(private_roots().unwrap_or(ureq::tls::RootCerts::WebPki))
                    .build(),
            )
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
            retries: 0,
        }
    }

    /// Retries a request the server refused for overload (429, or 503 while it restarts)
    /// up to `n` times, waiting as its `Retry-After` asks (at most 10 s each). Requests are
    /// idempotent where it matters (evidence is identified by its bytes).
    pub fn retrying(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The server URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The API token it sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}
