//! `andon bench ingest`: signed evidence over HTTP with N concurrent clients, reported as
//! records per second and latency percentiles, beside this machine's raw Ed25519
//! verification rate measured in the same run.

pub mod gate;
pub mod load;
pub mod pages;
pub mod pipeline;
pub mod telemetry;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::{Sha256Digest, Statement};

use crate::cli::context::Context;

/// Benchmarks.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCmd {
    /// Evidence intake throughput and latency.
    Ingest(IngestArgs),
    /// Release-gate decisions per second and latency, beside the bare Rego engine.
    Gate(crate::bench::gate::GateBenchArgs),
    /// Security telemetry ingestion (events per second), beside bare parsing.
    Telemetry(crate::bench::telemetry::TelemetryBenchArgs),
    /// What Andon adds to a CI job: six attestations, a gate, a deployment record, each a
    /// cold `andon` process, beside bare processes.
    Pipeline(crate::bench::pipeline::PipelineBenchArgs),
    /// A realistic mix (attestations, gates, webhooks, deployments, searches) against one or
    /// more servers started for the run: throughput, latency, errors, server memory.
    Load(crate::bench::load::LoadArgs),
    /// Every page of the web interface, timed server-side over a year of demo history.
    Pages(crate::bench::pages::PagesBenchArgs),
}

/// Flags of `andon bench ingest`.
#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Records to send in all.
    #[arg(long, default_value_t = 20_000)]
    pub records: usize,
    /// Envelopes per request: 1 uses POST /v1/evidence, more use POST /v1/evidence/batch (as
    /// a CI job sending its run's attestations together).
    #[arg(long, default_value_t = 1)]
    pub per_request: usize,
    /// Start a server in this process on this database (sqlite://... or postgres://...)
    /// instead of using --server/--token; `temp` means a fresh SQLite file.
    #[arg(long)]
    pub embedded: Option<String>,
}

/// A server started inside this process on a free loopback port.
pub struct Embedded {
    /// Its URL.
    pub url: String,
    /// The admin token of its fresh database.
    pub admin_token: String,
    /// The GitHub webhook secret it was configured with (random).
    pub github_webhook_secret: String,
    _rt: tokio::runtime::Runtime,
    _dir: Option<tempfile_dir::Dir>,
}

mod tempfile_dir {
    /// A directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Starts a server on `database` (`temp` = fresh SQLite in a temporary directory).
pub fn embedded(database: &str) -> anyhow::Result<Embedded> {
    let (url, dir) = if database == "temp" {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dir = std::env::temp_dir().join(format!("andon-{}", hex::encode(rnd)));
        std::fs::create_dir_all(&dir)?;
        (
            format!("sqlite://{}", dir.join("andon.db").display()),
            Some(tempfile_dir::Dir(dir)),
        )
    } else {
        (database.to_owned(), None)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let seed = crate::cli::keys::generate()?.seed();
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("{e}"))?;
    let secret = hex::encode(secret);
    let mut config = andon_server::Config::new(url, seed);
    config.github_webhook_secret = Some(secret.clone());
    let (addr, token) = rt.block_on(async {
        let started = andon_server::App::open(config)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        let token = started
            .admin_token
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the database is not empty"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(andon_server::serve(
            listener,
            started.app,
            std::future::pending(),
        ));
        Ok::<_, anyhow::Error>((addr, token))
    })?;
    Ok(Embedded {
        url: format!("http://{addr}"),
        admin_token: token,
        github_webhook_secret: secret,
        _rt: rt,
        _dir: dir,
    })
}

/// Sets up an application, a pipeline identity and its key; returns the pipeline's client.
pub fn pipeline(
    admin: &Client,
    app: &str,
    team: &str,
) -> anyhow::Result<(Client, andon_domain::SigningKey)> {
    admin.create_application(app, team)?;
    let issued = admin.create_identity(&format!("ci-{app}"), "pipeline", &[app.to_owned()])?;
    let key = crate::cli::keys::generate()?;
    admin.register_key(&issued.identity, &key.verifying_key().to_pem())?;
    Ok((Client::new(admin.base(), Some(issued.token)), key))
}

pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Raw Ed25519 strict verifications per second on one core.
fn raw_verify_rate() -> f64 {
    let key = andon_domain::SigningKey::from_seed([42; 32]);
    let public = key.verifying_key();
    let msg = vec![7u8; 600];
    let sig = key.sign_raw(&msg);
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        assert!(public.verify_raw(&msg, &sig));
    }
    n as f64 / t.elapsed().as_secs_f64()
}

pub fn run(ctx: &Context, cmd: &BenchCmd) -> anyhow::Result<ExitCode> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let b = match cmd {
        BenchCmd::Ingest(b) => b,
        BenchCmd::Gate(g) => return crate::bench::gate::run(ctx, g),
        BenchCmd::Telemetry(t) => return crate::bench::telemetry::run(ctx, t),
        BenchCmd::Pipeline(p) => return crate::bench::pipeline::run(ctx, p),
        BenchCmd::Load(l) => return crate::bench::load::run(ctx, l),
        BenchCmd::Pages(p) => return crate::bench::pages::run(ctx, p),
    };
    let server = b.embedded.as_deref().map(embedded).transpose()?;
    let (url, token) = match &server {
        Some(s) => (s.url.clone(), Some(s.admin_token.clone())),
        None => (ctx.server.clone(), ctx.token.clone()),
    };
    let admin = Client::new(&url, token);
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = format!("bench-{}", hex::encode(rnd));
    let (pipeline, key) = pipeline(&admin, &app, "bench")?;

    eprintln!("signing {} envelopes ...", b.records);
    let envelopes: Vec<Vec<u8>> = (0..b.records)
        .map(|i| {
            let digest = Sha256Digest::of(format!("{app}-artifact-{i}").as_bytes());
            let st = Statement::new(
                vec![(format!("registry.example/{app}"), digest)],
                "https://andon.dev/bench/v1".into(),
                serde_json::json!({ "build": i, "status": "passed", "tests": 412, "failures": 0 }),
            );
            st.sign(&key)
        })
        .collect();
    let verify_rate = raw_verify_rate();

    eprintln!("sending with {} clients ...", b.clients);
    let chunks: Vec<Vec<Vec<u8>>> = {
        let mut c: Vec<Vec<Vec<u8>>> = vec![Vec::new(); b.clients.max(1)];
        for (i, e) in envelopes.into_iter().enumerate() {
            c[i % b.clients.max(1)].push(e);
        }
        c
    };
    let start = Instant::now();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let c = pipeline.clone();
            let app = app.clone();
            let per_request = b.per_request.max(1);
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(chunk.len());
                let mut errors = 0usize;
                let mut acked = 0usize;
                for group in chunk.chunks(per_request) {
                    let t = Instant::now();
                    let result = if per_request == 1 {
                        c.submit_evidence(&app, Some("bench"), None, &group[0])
                            .map(|_| 1)
                    } else {
                        c.submit_evidence_batch(&app, Some("bench"), group)
                            .map(|r| r.len())
                    };
                    match result {
                        Ok(n) => {
                            lat.push(t.elapsed());
                            acked += n;
                        }
                        Err(e) => {
                            if errors == 0 {
                                eprintln!("first error: {e}");
                            }
                            errors += group.len();
                        }
                    }
                }
                (lat, errors, acked)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut acked = 0;
    for h in handles {
        let (l, e, a) = h
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        lat.extend(l);
        errors += e;
        acked += a;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let rate = acked as f64 / elapsed;
    let report = serde_json::json!({
        "server": url,
        "clients": b.clients,
        "acknowledged": acked,
        "envelopes_per_request": b.per_request,
        "errors": errors,
        "seconds": elapsed,
        "records_per_second": rate,
        "request_latency_ms": { "p50": percentile(&lat, 0.50), "p90": percentile(&lat, 0.90), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0) },
        "raw_ed25519_verifications_per_second_one_core": verify_rate,
        "ratio_to_raw_verification": rate / verify_rate,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
