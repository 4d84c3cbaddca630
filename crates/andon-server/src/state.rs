//! The router's state: the application, and what only the HTTP layer keeps (request
//! meters, failed authentications per address, the in-flight permits).

use std::sync::Arc;

use std::time::Duration;

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
    /// The metrics (`GET /metrics`).
    pub metrics: crate::metrics::Metrics,
    /// Access-log sampling.
    pub sampler: Sampler,
    /// Failed authentications per address.
    pub auth_failures: AuthFailures,
    /// Permits for requests in flight (`max_in_flight`).
    pub in_flight: Arc<tokio::sync::Semaphore>,
}

impl Server {
    /// The state for serving `app`, with limits from its configuration.
    pub(crate) fn new(app: App) -> Self {
        let config = app.config();
        let http = Http {
            metrics: crate::metrics::Metrics::new(&app),
            sampler: Sampler::default(),
            auth_failures: AuthFailures::new(config.auth_failure_limit, config.auth_failure_window),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1))),
        };
        let http = Arc::new(http);
        // What lives in the database is read in the background: a scrape answers from
        // memory, also while the database is down.
        let (probe_app, probe_http) = (app.clone(), Arc::downgrade(&http));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let Some(http) = probe_http.upgrade() else {
                    break;
                };
                http.metrics.probe(&probe_app).await;
            }
        });
        Self { app, http }
    }
}

impl FromRef<Server> for App {
    fn from_ref(s: &Server) -> App {
        s.app.clone()
    }
}

/// Access-log sampling.
#[derive(Debug, Default)]
pub(crate) struct Sampler {
    /// Successful requests seen.
    successes: std::sync::atomic::AtomicU64,
}

impl Sampler {
    /// Whether this successful request's access-log line is written: `share` of them,
    /// evenly (every n-th for a share of 1/n).
    pub(crate) fn sampled(&self, share: f64) -> bool {
        if share >= 1.0 {
            return true;
        }
        if share <= 0.0 {
            return false;
        }
        let n = self
            .successes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let every = (1.0 / share).round().max(1.0) as u64;
        n.is_multiple_of(every)
    }
}

/// Failed authentications per address over a fixed window: past the limit, the address
/// is refused (429) until the window ends, before any token is looked at, so guessing
/// tokens is slowed to the limit. Bounded: old windows are dropped as it fills.
#[derive(Debug)]
pub(crate) struct AuthFailures {
    limit: u32,
    window: std::time::Duration,
    seen: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (std::time::Instant, u32)>>,
}

impl AuthFailures {
    pub(crate) fn new(limit: u32, window: std::time::Duration) -> Self {
        Self {
            limit,
            window,
            seen: Default::default(),
        }
    }

    pub(crate) fn blocked(&self, ip: std::net::IpAddr) -> bool {
        let Ok(seen) = self.seen.lock() else {
            return false;
        };
        seen.get(&ip)
            .is_some_and(|(start, n)| *n >= self.limit && start.elapsed() < self.window)
    }

    pub(crate) fn failed(&self, ip: std::net::IpAddr) {
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.len() >= 100_000 {
            let window = self.window;
            seen.retain(|_, (start, _)| start.elapsed() < window);
        }
        let e = seen.entry(ip).or_insert((std::time::Instant::now(), 0));
        if e.0.elapsed() >= self.window {
            *e = (std::time::Instant::now(), 0);
        }
        e.1 += 1;
    }
}
