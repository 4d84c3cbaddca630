//! `GET /metrics`: OpenMetrics text from the `prometheus-client` registry, answered from
//! memory only, so that it keeps answering while the database is down (which it then
//! says: `andon_database_up 0`). The figures that live in the database (open alerts,
//! pending notifications) are read by a background probe every few seconds and served as
//! last read. Every metric is listed in docs/operations.md ("Metrics").

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::App;

/// Upper bounds of the request latency histogram, seconds.
const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A route: method and template.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Route {
    method: String,
    route: String,
}

/// A route and the status it answered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct Answer {
    method: String,
    route: String,
    status: u16,
}

/// Open alerts of a kind and severity.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct AlertLabels {
    kind: String,
    severity: String,
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<Answer, Counter>,
    latency: Family<Route, Histogram>,
    refused: Counter,
    database_up: Gauge,
    alerts_open: Family<AlertLabels, Gauge>,
    notifications_pending: Gauge,
    /// When the database was last read successfully (Unix seconds), 0 before.
    database_read_at: Gauge<i64, AtomicI64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// The registry with every metric, the application's figures read at each scrape.
    pub(crate) fn new(app: &App) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Answer, Counter>::default();
        registry.register(
            "andon_http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let latency = Family::<Route, Histogram>::new_with_constructor(
            (|| Histogram::new(BOUNDS)) as fn() -> Histogram,
        );
        registry.register(
            "andon_http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let refused = Counter::default();
        registry.register(
            "andon_http_refused",
            "Requests refused for overload (429)",
            refused.clone(),
        );
        let database_up = Gauge::default();
        registry.register(
            "andon_database_up",
            "1 when the database answered the last probe (every 5 s, within 1 s), else 0",
            database_up.clone(),
        );
        let database_read_at = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "andon_database_last_read_timestamp_seconds",
            "When the database-held figures (alerts, notifications) were last read",
            database_read_at.clone(),
        );
        let alerts_open = Family::<AlertLabels, Gauge>::default();
        registry.register(
            "andon_alerts_open",
            "Alerts not resolved, by kind and severity (as last read from the database)",
            alerts_open.clone(),
        );
        let notifications_pending = Gauge::default();
        registry.register(
            "andon_notifications_pending",
            "Notifications not delivered yet and not given up (as last read)",
            notifications_pending.clone(),
        );
        registry.register_collector(Box::new(AppFigures(app.clone())));
        Self {
            registry,
            requests,
            latency,
            refused,
            database_up,
            alerts_open,
            notifications_pending,
            database_read_at,
        }
    }

    /// Counts one answered request.
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&Answer {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// Counts one request refused for overload.
    pub(crate) fn refused(&self) {
        self.refused.inc();
    }

    /// The OpenMetrics text of every metric.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding the metrics failed");
        }
        out
    }

    /// Reads what lives in the database, once: whether it answers (within a second), and
    /// if it does, the open alerts and pending notifications.
    pub(crate) async fn probe(&self, app: &App) {
        let store = app.store();
        let read = async {
            let alerts = store.open_alerts_by_kind().await?;
            let pending = store.pending_notifications().await?;
            Ok::<_, andon_store::StoreError>((alerts, pending))
        };
        match tokio::time::timeout(Duration::from_secs(1), read).await {
            Ok(Ok((alerts, pending))) => {
                self.database_up.set(1);
                self.alerts_open.clear();
                for (kind, severity, n) in alerts {
                    self.alerts_open
                        .get_or_create(&AlertLabels { kind, severity })
                        .set(n as i64);
                }
                self.notifications_pending.set(pending as i64);
                self.database_read_at
                    .set(jiff::Timestamp::now().as_second());
            }
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "the metrics probe could not read the database");
                self.database_up.set(0);
            }
            Err(_) => {
                self.database_up.set(0);
            }
        }
    }
}

/// The application's own figures, read at each scrape from memory.
struct AppFigures(App);

impl std::fmt::Debug for AppFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppFigures")
    }
}

impl Collector for AppFigures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let app = &self.0;
        let gauge = |encoder: &mut DescriptorEncoder, name: &str, help: &str, v: i64| {
            ConstGauge::new(v).encode(encoder.encode_descriptor(
                name,
                help,
                None,
                MetricType::Gauge,
            )?)
        };
        gauge(
            &mut encoder,
            "andon_ledger_entries",
            "Entries in the ledger (its latest signed checkpoint)",
            app.latest().checkpoint.size as i64,
        )?;
        let (depth, capacity) = app.sequencer_queue();
        gauge(
            &mut encoder,
            "andon_sequencer_queue_depth",
            "Facts waiting for the sequencer",
            depth as i64,
        )?;
        gauge(
            &mut encoder,
            "andon_sequencer_queue_capacity",
            "The sequencer queue's bound",
            capacity as i64,
        )?;
        gauge(
            &mut encoder,
            "andon_writes_stopped",
            "1 while this server writes nothing (sequencer stopped, log key handed over to a key it does not hold, schema contracted by a newer Andon); /readyz says why",
            i64::from(app.sequencer_stopped() || app.writes_stopped().is_some()),
        )?;
        if let Some(check) = app.last_check() {
            gauge(
                &mut encoder,
                "andon_ledger_verified",
                "1 when the server's last self-check of the stored ledger passed, 0 when it found problems",
                i64::from(check["verified"] == true),
            )?;
        }
        let h = app.append_latencies();
        let mut m = encoder.encode_descriptor(
            "andon_ledger_append_duration_seconds",
            "From hand-over to the sequencer to a durable receipt",
            None,
            MetricType::Histogram,
        )?;
        m.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
            h.sum(),
            h.count(),
            &h.buckets(),
            None,
        )
    }
}
