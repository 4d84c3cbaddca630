//! `andon bench telemetry`: security telemetry ingestion over HTTP (batches of events,
//! ledgered, stored and run through every rule), as events per second and batch latency,
//! beside the bare parse-and-digest rate of the same bodies measured in the same run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_domain::api::DeploymentRequest;
use serde_json::{Value, json};

use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::fixtures::embedded::embedded;

/// Flags of `andon bench telemetry`.
#[derive(clap::Args, Debug)]
pub struct TelemetryBenchArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// How long to send.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Events per request.
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,
    /// Applications the events are spread over (each with a recent production deployment,
    /// so the 5xx-spike rule has work to do).
    #[arg(long, default_value_t = 20)]
    pub apps: usize,
    /// Start a server in this process on this database (`temp`: a fresh SQLite file).
    #[arg(long)]
    pub embedded: Option<String>,
}

/// A small deterministic generator (xorshift), so runs send the same mix.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One batch of the mix: three quarters HTTP status counts per application, a quarter
/// sign-ins (a few failures), and a configuration change now and then, made by the
/// application's deployment.
fn batch(rng: &mut Rng, apps: &[(String, String)], size: usize, now: i64) -> Vec<u8> {
    let mut events = Vec::with_capacity(size);
    for _ in 0..size {
        let (app, deployment) = &apps[rng.below(apps.len() as u64) as usize];
        let at = jiff::Timestamp::from_millisecond(now - rng.below(300_000) as i64)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let roll = rng.below(100);
        let e: Value = if roll < 74 {
            let count = 200 + rng.below(800);
            json!({"kind": "http.requests", "at": at, "source": "lb", "application": app,
                   "environment": "production", "count": count,
                   "status_4xx": rng.below(count / 20), "status_5xx": rng.below(3)})
        } else if roll < 98 {
            let kind = if rng.below(10) == 0 {
                "login.failure"
            } else {
                "login.success"
            };
            json!({"kind": kind, "at": at, "source": "okta", "application": app,
                   "actor": format!("user{}", rng.below(500)), "count": 1})
        } else {
            json!({"kind": "config.change", "at": at, "source": "k8s-audit", "application": app,
                   "environment": "production", "actor": "deploy-bot", "deployment": deployment,
                   "detail": "ConfigMap pay-settings updated"})
        };
        events.push(e);
    }
    serde_json::to_vec(&events).unwrap_or_default()
}

/// Runs `andon bench telemetry`.
pub fn run(ctx: &Context, b: &TelemetryBenchArgs) -> anyhow::Result<ExitCode> {
    let server = b.embedded.as_deref().map(embedded).transpose()?;
    let (url, token) = match &server {
        Some(s) => (s.url.clone(), Some(s.admin_token.clone())),
        None => (ctx.server.clone(), ctx.token.clone()),
    };
    let admin = Client::new(&url, token);
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let suffix = hex::encode(rnd);
    eprintln!(
        "creating {} applications with a production deployment each ...",
        b.apps
    );
    let now = jiff::Timestamp::now().as_millisecond();
    let ten_minutes_ago = jiff::Timestamp::from_millisecond(now - 600_000)?.to_string();
    let mut apps = Vec::new();
    for i in 0..b.apps.max(1) {
        let app = format!("telbench-{suffix}-{i}");
        admin.create_application(&app, "bench")?;
        let d = admin.record_deployment(&DeploymentRequest {
            application: app.clone(),
            artifact: format!(
                "registry.example.com/{app}@{}",
                Sha256Digest::of(app.as_bytes())
            ),
            environment: "production".into(),
            deployed_at: Some(ten_minutes_ago.clone()),
            ..Default::default()
        })?;
        let id = d["deployment"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        apps.push((app, id));
    }
    let names: Vec<String> = apps.iter().map(|(a, _)| a.clone()).collect();
    let issued = admin.create_identity(&format!("telbench-{suffix}"), "pipeline", &names)?;
    let ci = Client::new(&url, Some(issued.token));

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let bodies: Vec<Vec<u8>> = (0..64)
        .map(|_| batch(&mut rng, &apps, b.batch.max(1), now))
        .collect();

    // The bare floor: parse, validate and digest the same bodies, one core.
    let t = Instant::now();
    let mut parsed = 0usize;
    while t.elapsed() < Duration::from_secs(2) {
        for body in &bodies {
            let events = andon_telemetry::parse_batch(body)?;
            std::hint::black_box(andon_telemetry::batch_digest(&events));
            parsed += events.len();
        }
    }
    let parse_rate = parsed as f64 / t.elapsed().as_secs_f64();

    eprintln!(
        "sending batches of {} events with {} clients for {} s ...",
        b.batch, b.clients, b.seconds
    );
    let until = Duration::from_secs(b.seconds);
    let start = Instant::now();
    let bodies = std::sync::Arc::new(bodies);
    let handles: Vec<_> = (0..b.clients.max(1))
        .map(|i| {
            let c = ci.clone();
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut events = 0usize;
                let mut alerts = 0usize;
                let mut errors = 0usize;
                let mut n = i;
                while start.elapsed() < until {
                    let body = &bodies[n % bodies.len()];
                    n += 1;
                    let s = Instant::now();
                    match c.send_telemetry(body) {
                        Ok(r) => {
                            lat.push(s.elapsed());
                            events += r["accepted"].as_u64().unwrap_or(0) as usize;
                            alerts += r["alerts"].as_array().map_or(0, Vec::len);
                        }
                        Err(e) => {
                            if errors == 0 {
                                eprintln!("first error: {e}");
                            }
                            errors += 1;
                        }
                    }
                }
                (lat, events, alerts, errors)
            })
        })
        .collect();
    let (mut lat, mut events, mut alerts, mut errors) = (Vec::new(), 0, 0, 0);
    for h in handles {
        let (l, e, a, x) = h
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        lat.extend(l);
        events += e;
        alerts += a;
        errors += x;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let rate = events as f64 / elapsed;
    let report = json!({
        "server": url,
        "clients": b.clients,
        "events_per_batch": b.batch,
        "applications": b.apps,
        "batches": lat.len(),
        "events": events,
        "errors": errors,
        "alerts_raised": alerts,
        "events_per_second": rate,
        "batch_latency_ms": { "p50": percentile(&lat, 0.50), "p90": percentile(&lat, 0.90), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0) },
        "bare_parse_and_digest_events_per_second_one_core": parse_rate,
        "ratio_to_bare": if parse_rate > 0.0 { rate / parse_rate } else { 0.0 },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
