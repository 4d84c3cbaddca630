//! `andon bench load`: a realistic mix of what a CI fleet and its people do, against one or
//! more `andon serve` processes started for the run on one database, for a bounded time:
//! throughput, latency percentiles per kind of call, errors by status (429s are the
//! server's backpressure), and each server's resident memory sampled through the run.
//!
//! Each client loops over a release's worth of calls: ten attestations of an artifact, two
//! gates, two GitHub pushes (signed webhook deliveries), a deployment record and five
//! searches (evidence, ledger head, trace, deployments). The baseline, measured in the same
//! run with the same clients, is `GET /livez`: what HTTP alone costs on this machine.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use andon_client::{Client, ClientError, EvidenceQuery};
use andon_domain::api::{DeploymentRequest, GateRequest};
use andon_domain::{Sha256Digest, SigningKey, Statement};
use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::cli::output::emit;

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
}

/// One `andon serve` child process.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server; the first on an empty database also reads the admin token it prints.
pub(crate) fn spawn(
    database: &str,
    dir: &std::path::Path,
    secret: &str,
    first: bool,
) -> anyhow::Result<(Served, Option<String>)> {
    spawn_with(database, dir, secret, first, &[])
}

/// [`spawn`], with more `andon serve` flags.
pub(crate) fn spawn_with(
    database: &str,
    dir: &std::path::Path,
    secret: &str,
    first: bool,
    extra: &[&str],
) -> anyhow::Result<(Served, Option<String>)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database,
            "--data-dir",
        ])
        .arg(dir)
        .args(["--github-webhook-secret", secret])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting andon serve")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = lines.next().context("the server printed nothing")??;
    let url = line
        .strip_prefix("andon listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let mut token = None;
    if first
        && let Some(Ok(l)) = lines.next()
        && l.starts_with("first start")
    {
        token = lines
            .next()
            .and_then(|l| l.ok())
            .and_then(|l| l.strip_prefix("ANDON_TOKEN=").map(str::to_owned));
    }
    std::thread::spawn(move || for _ in lines {});
    Ok((Served { child, url }, token))
}

/// Resident memory of a process, in bytes (Linux).
pub(crate) fn rss(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmRSS:")
}

/// A size field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`, the peak), in bytes.
pub(crate) fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// What a call was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Attest,
    Gate,
    Webhook,
    Deploy,
    /// `GET /v1/evidence?app=...&limit=20`.
    SearchEvidence,
    /// `GET /v1/evidence?subject=...`.
    SearchSubject,
    /// `GET /v1/ledger`.
    LedgerHead,
    /// `GET /v1/trace?q=<digest>`.
    Trace,
    /// `GET /v1/deployments?application=...&environment=...`.
    ListDeployments,
}

/// The calls of one client.
#[derive(Default)]
struct Log {
    latencies: BTreeMap<Kind, Vec<Duration>>,
    errors: BTreeMap<String, u64>,
}

impl Log {
    fn record<T>(&mut self, kind: Kind, began: Instant, r: Result<T, ClientError>) {
        let took = began.elapsed();
        match r {
            Ok(_) => self.latencies.entry(kind).or_default().push(took),
            Err(ClientError::Api { status, code, .. }) => {
                *self.errors.entry(format!("{status} {code}")).or_default() += 1;
            }
            Err(e) => *self.errors.entry(format!("transport: {e}")).or_default() += 1,
        }
    }
}

#[derive(Serialize)]
struct KindReport {
    kind: Kind,
    calls: usize,
    per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Serialize)]
struct ServerMemory {
    url: String,
    rss_start_mib: f64,
    rss_peak_mib: f64,
    rss_end_mib: f64,
}

#[derive(Serialize)]
struct Report {
    database: String,
    servers: usize,
    clients: usize,
    seconds: f64,
    calls: usize,
    calls_per_second: f64,
    livez_per_second: f64,
    kinds: Vec<KindReport>,
    errors: BTreeMap<String, u64>,
    memory: Vec<ServerMemory>,
    ledger_entries: u64,
}

/// A staging policy of one trivial control, so gates allow and deployments are allowed.
fn open_policy() -> serde_json::Value {
    serde_json::json!({
        "name": "load-staging", "applications": ["load"], "environments": ["staging"],
        "builtin": false,
        "modules": {"open.rego": "package andon.controls.open\n\nimport rego.v1\n\nmetadata := {\"id\": \"open\", \"title\": \"Nothing required\", \"risk\": \"none\", \"stage\": \"release\", \"evidence\": [], \"frameworks\": []}\n\ndeny contains \"never\" if false\n"}
    })
}

fn client_loop(
    id: usize,
    url: &str,
    token: &str,
    admin_token: &str,
    key: &SigningKey,
    secret: &str,
    stop: &AtomicBool,
) -> Log {
    let ci = Client::new(url, Some(token.to_owned()));
    let reader = Client::new(url, Some(admin_token.to_owned()));
    let mut hook = crate::fixtures::github_history::Hook {
        client: &reader,
        secret,
        repository: "example/load".into(),
        sent: 0,
        run_id: format!("load-{id}-{}", std::process::id()),
    };
    let mut log = Log::default();
    let mut release = 0u64;
    while !stop.load(Ordering::Relaxed) {
        release += 1;
        let digest = Sha256Digest::of(format!("load {id} {release}").as_bytes());
        let artifact = format!("registry.example.com/load@{digest}");
        for n in 0..10u32 {
            let st = Statement::new(
                vec![("registry.example.com/load".into(), digest)],
                "https://andon.dev/bench/v1".into(),
                serde_json::json!({"step": n, "status": "passed", "tests": 412, "failures": 0,
                    "runner": "ubuntu-24.04", "duration_s": 93.4}),
            );
            let t = Instant::now();
            log.record(
                Kind::Attest,
                t,
                ci.submit_evidence(
                    "load",
                    Some(&format!("{id}-{release}")),
                    None,
                    &st.sign(key),
                ),
            );
        }
        for _ in 0..2 {
            let t = Instant::now();
            let r = ci.gate(&GateRequest {
                application: "load".into(),
                artifact: artifact.clone(),
                environment: "staging".into(),
                production: Some(false),
                emergency: None,
                change: None,
            });
            log.record(Kind::Gate, t, r);
        }
        for p in 0..2u64 {
            let sha = hex::encode(
                &Sha256Digest::of(format!("{id} {release} {p}").as_bytes()).hex()[..20],
            );
            let t = Instant::now();
            let r = hook
                .push(
                    "main",
                    &[(&sha, "Fix the rounding of refunds (PAY-42)", "dana")],
                )
                .map_err(|e| ClientError::Unverified(e.to_string()));
            log.record(Kind::Webhook, t, r);
        }
        let t = Instant::now();
        let r = ci.record_deployment(&DeploymentRequest {
            application: "load".into(),
            artifact: artifact.clone(),
            environment: "staging".into(),
            production: Some(false),
            decision: None,
            run: Some(format!("{id}-{release}")),
            deployed_at: None,
            late: None,
        });
        log.record(Kind::Deploy, t, r);
        let t = Instant::now();
        let r = reader.list_evidence(&EvidenceQuery {
            app: Some("load".into()),
            limit: Some(20),
            ..Default::default()
        });
        log.record(Kind::SearchEvidence, t, r);
        let t = Instant::now();
        log.record(Kind::LedgerHead, t, reader.ledger_info());
        let t = Instant::now();
        log.record(Kind::Trace, t, reader.trace_artifact(&digest.to_string()));
        let t = Instant::now();
        log.record(
            Kind::ListDeployments,
            t,
            reader.deployments(Some("load"), Some("staging")),
        );
        let t = Instant::now();
        let r = reader.list_evidence(&EvidenceQuery {
            subject: Some(digest.to_string()),
            ..Default::default()
        });
        log.record(Kind::SearchSubject, t, r);
    }
    log
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
    let stop = AtomicBool::new(false);
    let began = Instant::now();
    let logs: Vec<Log> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..l.clients)
            .map(|i| {
                let (url, tok, adm, key, secret, stop) = (
                    &urls[i % urls.len()],
                    &pipeline_token,
                    &admin_token,
                    &key,
                    &secret,
                    &stop,
                );
                s.spawn(move || client_loop(i, url, tok, adm, key, secret, stop))
            })
            .collect();
        let deadline = began + Duration::from_secs(l.seconds);
        while Instant::now() < deadline {
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
        ledger_entries: admin.ledger_info().map(|i| i.size).unwrap_or(0),
    };
    emit(ctx.output, &report, |r| {
        println!(
            "{} server(s) on {}, {} clients, {:.0} s: {} calls, {:.0} calls/s (GET /livez alone: {:.0}/s, {:.1}x)",
            r.servers,
            r.database,
            r.clients,
            r.seconds,
            r.calls,
            r.calls_per_second,
            r.livez_per_second,
            r.livez_per_second / r.calls_per_second.max(1e-9)
        );
        println!(
            "{:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "kind", "calls", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"
        );
        for k in &r.kinds {
            println!(
                "{:<16} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
                serde_json::to_value(k.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                k.calls,
                k.per_second,
                k.p50_ms,
                k.p95_ms,
                k.p99_ms,
                k.max_ms
            );
        }
        if r.errors.is_empty() {
            println!("errors: none");
        }
        for (e, n) in &r.errors {
            println!("error {e}: {n}");
        }
        for m in &r.memory {
            println!(
                "server {}: resident {:.0} MiB at start, {:.0} MiB peak, {:.0} MiB at the end",
                m.url, m.rss_start_mib, m.rss_peak_mib, m.rss_end_mib
            );
        }
        println!("ledger: {} entries", r.ledger_entries);
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Removes the run's directory (a temporary SQLite database and the log key).
pub(crate) struct Cleanup(pub(crate) std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
