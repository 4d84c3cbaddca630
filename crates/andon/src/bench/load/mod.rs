//! `andon bench load`: a realistic mix of what a CI fleet and its people do, against one or
//! more `andon serve` processes started for the run on one database, for a bounded time:
//! throughput, latency percentiles per kind of call, errors by status (429s are the
//! server's backpressure), and each server's resident memory sampled through the run.
//!
//! Each client loops over a release's worth of calls: ten attestations of an artifact, two
//! gates, two GitHub pushes (signed webhook deliveries), a deployment record and five
//! searches (evidence, ledger head, trace, deployments). The baseline, measured in the same
//! run with the same clients, is `GET /livez`: what HTTP alone costs on this machine.

mod mix;
mod report;
mod servers;
mod soak;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use andon_client::Client;
use anyhow::{Context as _, bail};

use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::cli::output::emit;
use mix::{Kind, Log, Shared, client_loop, open_policy};
use report::{KindReport, Report, ServerMemory};
pub(crate) use servers::{
    BENCH_SECRET, BenchServer, Cleanup, Served, cpu_time, rss, spawn, spawn_with, status_bytes,
};
use soak::{MIB, Probe, Sample};

/// Flags of `andon bench load`.
#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The database the servers share: `temp` (a fresh SQLite file), `sqlite://...`, or an
    /// empty `postgres://...` database.
    #[arg(long, default_value = "temp")]
    pub database: String,
    /// Servers to start on it (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    pub servers: usize,
    /// Concurrent clients, spread over the servers.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// How long to drive the load, in seconds.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Seconds between samples of throughput, storage and memory (a soak: `--seconds 600`).
    #[arg(long, default_value_t = 60)]
    pub interval: u64,
}

/// The same clients against `GET /livez` for two seconds: calls per second.
fn livez_rate(urls: &[String], clients: usize) -> f64 {
    let stop = AtomicBool::new(false);
    let count = std::sync::atomic::AtomicU64::new(0);
    let began = Instant::now();
    std::thread::scope(|s| {
        for i in 0..clients {
            let (url, stop, count) = (&urls[i % urls.len()], &stop, &count);
            s.spawn(move || {
                let c = Client::new(url, None);
                while !stop.load(Ordering::Relaxed) {
                    if c.live().is_ok() {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
    });
    count.into_inner() as f64 / began.elapsed().as_secs_f64()
}

/// Runs `andon bench load`.
pub fn run(ctx: &Context, l: &LoadArgs) -> anyhow::Result<ExitCode> {
    if l.servers == 0 || l.clients == 0 {
        bail!("at least one server and one client");
    }
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = std::env::temp_dir().join(format!("andon-load-{}", hex::encode(rnd)));
    std::fs::create_dir_all(&dir)?;
    let _cleanup = Cleanup(dir.clone());
    let database = if l.database == "temp" {
        format!("sqlite://{}", dir.join("andon.db").display())
    } else {
        l.database.clone()
    };
    if l.servers > 1 && !database.starts_with("postgres") {
        bail!("several servers need PostgreSQL: SQLite is one process's database");
    }
    let secret = hex::encode(rnd);
    let (first, token) = spawn(&database, &dir, &secret, true)?;
    let admin_token = token.context("the database is not empty: give an empty one")?;
    let mut servers = vec![first];
    for _ in 1..l.servers {
        servers.push(spawn(&database, &dir, &secret, false)?.0);
    }
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let admin = Client::new(&urls[0], Some(admin_token.clone())).retrying(5);
    let (pipeline, key) = crate::fixtures::application::pipeline(&admin, "load", "team-load")?;
    admin.publish_policy(&open_policy())?;
    let pipeline_token = pipeline.token().unwrap_or_default().to_owned();
    let livez = livez_rate(&urls, l.clients);
    eprintln!(
        "{} servers on {}, {} clients, {} s ...",
        l.servers,
        if database.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        l.clients,
        l.seconds
    );

    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let start_rss: Vec<u64> = pids.iter().map(|p| rss(*p).unwrap_or(0)).collect();
    let peaks = Mutex::new(start_rss.clone());
    let probe = Probe::open(&database)?;
    let tables_before = probe.tables();
    let entries_before = admin.ledger_info().map(|i| i.size).unwrap_or(0);
    let stop = AtomicBool::new(false);
    let done = Arc::new(AtomicU64::new(0));
    let shared = Shared {
        token: &pipeline_token,
        admin_token: &admin_token,
        key: &key,
        secret: &secret,
        stop: &stop,
        done: &done,
    };
    let interval = Duration::from_secs(l.interval.max(1));
    let mut samples: Vec<Sample> = Vec::new();
    let began = Instant::now();
    let logs: Vec<Log> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..l.clients)
            .map(|i| {
                let (url, shared) = (&urls[i % urls.len()], &shared);
                s.spawn(move || client_loop(i, url, shared))
            })
            .collect();
        let deadline = began + Duration::from_secs(l.seconds);
        let (mut next_sample, mut last_calls, mut last_at) = (began + interval, 0u64, began);
        loop {
            let now = Instant::now();
            if now >= next_sample || now >= deadline {
                let calls = done.load(Ordering::Relaxed);
                let (database_mib, wal_mib) = probe.storage();
                samples.push(Sample {
                    at_s: now.duration_since(began).as_secs_f64(),
                    calls_per_second: (calls - last_calls) as f64
                        / now.duration_since(last_at).as_secs_f64().max(1e-9),
                    ledger_entries: admin.ledger_info().map(|i| i.size).unwrap_or(0),
                    database_mib,
                    wal_mib,
                    rss_mib: pids
                        .iter()
                        .map(|p| rss(*p).unwrap_or(0) as f64 / MIB)
                        .collect(),
                });
                (last_calls, last_at, next_sample) = (calls, now, next_sample + interval);
            }
            if now >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
            if let Ok(mut p) = peaks.lock() {
                for (i, pid) in pids.iter().enumerate() {
                    p[i] = p[i].max(rss(*pid).unwrap_or(0));
                }
            }
        }
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let seconds = began.elapsed().as_secs_f64();
    let end_rss: Vec<u64> = pids.iter().map(|p| rss(*p).unwrap_or(0)).collect();
    let ledger_entries = admin.ledger_info().map(|i| i.size).unwrap_or(0);
    let growth = soak::growth(
        &tables_before,
        &probe.tables(),
        ledger_entries.saturating_sub(entries_before),
    );

    let mut all: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for log in logs {
        for (k, v) in log.latencies {
            all.entry(k).or_default().extend(v);
        }
        for (e, n) in log.errors {
            *errors.entry(e).or_default() += n;
        }
    }
    let calls: usize = all.values().map(Vec::len).sum();
    let kinds = all
        .into_iter()
        .map(|(kind, mut v)| {
            v.sort();
            KindReport {
                kind,
                calls: v.len(),
                per_second: v.len() as f64 / seconds,
                p50_ms: percentile(&v, 0.50),
                p95_ms: percentile(&v, 0.95),
                p99_ms: percentile(&v, 0.99),
                max_ms: percentile(&v, 1.0),
            }
        })
        .collect();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let peaks = peaks.into_inner().unwrap_or_default();
    let report = Report {
        database: if database.starts_with("postgres") {
            "postgresql"
        } else {
            "sqlite"
        }
        .into(),
        servers: l.servers,
        clients: l.clients,
        seconds,
        calls,
        calls_per_second: calls as f64 / seconds,
        livez_per_second: livez,
        kinds,
        errors,
        memory: urls
            .iter()
            .enumerate()
            .map(|(i, url)| ServerMemory {
                url: url.clone(),
                rss_start_mib: mib(start_rss[i]),
                rss_peak_mib: mib(peaks[i]),
                rss_end_mib: mib(end_rss[i]),
            })
            .collect(),
        ledger_entries,
        steadiness: soak::steadiness(&samples, interval.as_secs_f64()),
        samples,
        growth,
    };
    emit(ctx.output, &report, Report::print)?;
    Ok(ExitCode::SUCCESS)
}
