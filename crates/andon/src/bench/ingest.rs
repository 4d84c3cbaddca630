//! `andon bench ingest`: signed evidence over HTTP with N concurrent clients, reported as
//! records per second and latency percentiles, beside this machine's raw verification rate
//! for the signing key's algorithm (Ed25519, or ECDSA P-256 as cosign signs) measured in the
//! same run.

use std::process::ExitCode;
use std::time::Instant;

use andon_client::Client;
use andon_domain::{PrivateKey, Sha256Digest, Signer as _, Statement};

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
    #[arg(long)]
    pub embedded: Option<String>,
}

/// Raw signature verifications per second on one core, for `key`'s algorithm (Ed25519
/// strictly).
fn raw_verify_rate(key: &PrivateKey) -> f64 {
    let public = key.public_key();
    let msg = vec![7u8; 600];
    let sig = key.sign_message(&msg);
    let n = 20_000;
    let t = Instant::now();
    for _ in 0..n {
        assert!(public.verify(&msg, &sig));
    }
    n as f64 / t.elapsed().as_secs_f64()
}

/// Runs `andon bench ingest`.
pub fn run(ctx: &Context, b: &IngestArgs) -> anyhow::Result<ExitCode> {
    let server = b.embedded.as_deref().map(embedded).transpose()?;
    let (url, token) = match &server {
        Some(s) => (s.url.clone(), Some(s.admin_token.clone())),
        None => (ctx.server.clone(), ctx.token.clone()),
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
        "algorithm": key.algorithm().as_str(),
        "raw_verifications_per_second_one_core": verify_rate,
        "ratio_to_raw_verification": rate / verify_rate,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
