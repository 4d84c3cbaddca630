//! The router's state: the application, and what only the HTTP layer keeps (request
//! meters, failed authentications per address, the in-flight permits).

use std::sync::Arc;

use axum::extract::FromRef;

use crate::App;

/// The application and the HTTP layer's own state, cheap to clone.
#[derive(Clone)]
pub(crate) struct Server {
    /// The application every handler calls.
    pub app: App,
    /// What only the HTTP layer keeps.
    pub http: Arc<Http>,
}

/// What only the HTTP layer keeps.
pub(crate) struct Http {
    /// Request meters (`GET /metrics`).
    pub meters: crate::observe::Meters,
    /// Failed authentications per address.
    pub auth_failures: crate::auth::AuthFailures,
    /// Permits for requests in flight (`max_in_flight`).
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

impl Server {
    /// The state for serving `app`, with limits from its configuration.
    pub(crate) fn new(app: App) -> Self {
        let config = app.config();
        let http = Http {
            meters: Default::default(),
            auth_failures: crate::auth::AuthFailures::new(
                config.auth_failure_limit,
                config.auth_failure_window,
            ),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1))),
        };
        Self {
            app,
            http: Arc::new(http),
        }
    }
}

impl FromRef<Server> for App {
    fn from_ref(s: &Server) -> App {
        s.app.clone()
    }
}
