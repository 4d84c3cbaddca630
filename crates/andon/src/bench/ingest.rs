//! `andon bench ingest`: signed evidence over HTTP with N concurrent clients, reported as
//! records per second and latency percentiles, beside this machine's raw verification rate
//! for the signing key's algorithm (Ed25519, or ECDSA P-256 as cosign signs) measured in the
//! same run.

use std::process::ExitCode;
use std::time::Instant;

use andon_client::Client;
use andon_domain::{PrivateKey, Sha256Digest, Signer as _, Statement};
use bytes::Bytes;

use crate::bench::http1::Conn;
use crate::bench::load::{BenchServer, cpu_time};
use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::fixtures::application::pipeline_with;
use crate::fixtures::embedded::embedded;

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
    /// The pipeline key's algorithm.
    #[arg(long, value_enum, default_value_t = crate::commands::identity::KeygenAlgorithm::Ed25519)]
    pub algorithm: crate::commands::identity::KeygenAlgorithm,
    /// Start a server in this process on this database (sqlite://... or postgres://...)
    /// instead of using --server/--token; `temp` means a fresh SQLite file.
    #[arg(long, conflicts_with = "spawn")]
    pub embedded: Option<String>,
    /// Start `andon serve` as a separate process on this database (`temp`: a fresh SQLite
    /// file; a PostgreSQL URL must name an empty database) and report its CPU time per
    /// record beside the raw verification.
    #[arg(long)]
    pub spawn: Option<String>,
}

/// Raw signature verifications per second on one core, for `key`'s algorithm (Ed25519
/// strictly).
fn raw_verify_rate(key: &PrivateKey) -> f64 {
    let public = key.public_key();
    let msg = vec![7u8; 600];
    let sig = key.sign_message(&msg);
    // For a second (about 20,000 in a release build), in rounds of a hundred.
    let (mut n, t) = (0u64, Instant::now());
    while n == 0 || t.elapsed() < std::time::Duration::from_secs(1) {
        for _ in 0..100 {
            assert!(public.verify(&msg, &sig));
        }
        n += 100;
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// Runs `andon bench ingest`.
pub fn run(ctx: &Context, b: &IngestArgs) -> anyhow::Result<ExitCode> {
    let server = b.embedded.as_deref().map(embedded).transpose()?;
    let spawned = b
        .spawn
        .as_deref()
        .map(|d| BenchServer::start("ingest", (d != "temp").then_some(d), &[]))
        .transpose()?;
    let (url, token) = match (&server, &spawned) {
        (Some(s), _) => (s.url.clone(), Some(s.admin_token.clone())),
        (None, Some(s)) => (s.served.url.clone(), s.token.clone()),
        (None, None) => (ctx.server.clone(), ctx.token.clone()),
    };
    let admin = Client::new(&url, token);
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = format!("bench-{}", hex::encode(rnd));
    let (pipeline, key) = pipeline_with(&admin, &app, "bench", b.algorithm.into())?;

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
    let verify_rate = raw_verify_rate(&key);

    eprintln!("sending with {} clients ...", b.clients);
    let per_request = b.per_request.max(1);
    let path = if per_request == 1 {
        format!("/v1/evidence?app={app}&run=bench")
    } else {
        format!("/v1/evidence/batch?app={app}&run=bench")
    };
    let requests = bodies(envelopes, per_request);
    let pid = spawned.as_ref().map(|s| s.served.child.id());
    let cpu_before = pid.map(cpu_time).transpose()?;
    let start = Instant::now();
    let sent = send(&url, pipeline.token(), &path, requests, b.clients.max(1))?;
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = pid
        .zip(cpu_before)
        .map(|(pid, before)| anyhow::Ok(cpu_time(pid)?.saturating_sub(before).as_secs_f64()))
        .transpose()?;
    let Sent {
        mut lat,
        errors,
        acked,
    } = sent;
    lat.sort();
    let rate = acked as f64 / elapsed;
    let mut report = serde_json::json!({
        "server": url,
        "clients": b.clients,
        "acknowledged": acked,
        "envelopes_per_request": b.per_request,
        "errors": errors,
        "seconds": elapsed,
        "records_per_second": rate,
        "request_latency_ms": { "p50": percentile(&lat, 0.50), "p90": percentile(&lat, 0.90), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0) },
        "algorithm": key.algorithm().as_str(),
        "raw_verifications_per_second_one_core": verify_rate,
        "ratio_to_raw_verification": rate / verify_rate,
    });
    if let Some(cpu) = server_cpu {
        let per_record_us = cpu * 1e6 / acked.max(1) as f64;
        report["server_cpu_us_per_record"] = per_record_us.into();
        report["server_cores_busy"] = (cpu / elapsed).into();
        // The share of one core's raw verification rate the server reaches per core of
        // its own CPU: 1.0 would mean a record costs the server no more than its signature.
        report["server_cpu_ratio_to_raw_verification"] =
            (1e6 / verify_rate / per_record_us.max(1e-9)).into();
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The request bodies: each envelope alone, or `per_request` of them in a JSON array.
fn bodies(envelopes: Vec<Vec<u8>>, per_request: usize) -> Vec<(usize, Bytes)> {
    if per_request == 1 {
        return envelopes.into_iter().map(|e| (1, Bytes::from(e))).collect();
    }
    envelopes
        .chunks(per_request)
        .map(|group| (group.len(), Bytes::from(andon_client::batch_body(group))))
        .collect()
}

/// What the clients sent: latency per acknowledged request, records refused or lost, and
/// records acknowledged.
#[derive(Default)]
struct Sent {
    lat: Vec<std::time::Duration>,
    errors: usize,
    acked: usize,
}

/// Sends `requests` to `path` from `clients` connections, each a task on one thread that
/// sends its share one request at a time, as fast as the server answers.
fn send(
    url: &str,
    token: Option<&str>,
    path: &str,
    requests: Vec<(usize, Bytes)>,
    clients: usize,
) -> anyhow::Result<Sent> {
    let mut shares: Vec<Vec<(usize, Bytes)>> = vec![Vec::new(); clients];
    for (i, r) in requests.into_iter().enumerate() {
        shares[i % clients].push(r);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for share in shares {
            let mut conn = Conn::open(url, token).await?;
            let path = path.to_owned();
            tasks.spawn(async move {
                let mut sent = Sent::default();
                for (records, body) in share {
                    let t = Instant::now();
                    match conn.post(&path, body).await {
                        Ok((200..=299, _)) => {
                            sent.lat.push(t.elapsed());
                            sent.acked += records;
                        }
                        outcome => {
                            if sent.errors == 0 {
                                eprintln!("first error: {}", describe(outcome));
                            }
                            sent.errors += records;
                        }
                    }
                }
                sent
            });
        }
        let mut all = Sent::default();
        while let Some(done) = tasks.join_next().await {
            let s = done?;
            all.lat.extend(s.lat);
            all.errors += s.errors;
            all.acked += s.acked;
        }
        Ok(all)
    })
}

/// A refused or failed request, for the first-error line.
fn describe(outcome: anyhow::Result<(u16, Bytes)>) -> String {
    match outcome {
        Ok((status, body)) => format!("HTTP {status}: {}", String::from_utf8_lossy(&body)),
        Err(e) => format!("{e:#}"),
    }
}
