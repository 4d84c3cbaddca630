//! `andon bench admission`: the Kubernetes admission webhook under load. An `andon serve`
//! child process on a fresh database records five realistic releases (webhook history and
//! about fifty evidence records each, as `andon bench gate` does) and gates each for
//! production; two clusters are registered, one enforcing and one auditing. Then
//! `--clients` threads send `AdmissionReview`s of a five-container pod for `--seconds`
//! each case, back to back:
//!
//! - five allowed images (every image's latest decision read and checked);
//! - five images by tag, refused in enforce mode (a ledger entry per review);
//! - the same in audit mode (admitted with warnings, a ledger entry per review).
//!
//! The limit, measured in the same run on the same database in this process: the bare store
//! reads the webhook makes for the five images (`latest_decision` and `decision` each).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::admission::ClusterInput;
use andon_domain::api::GateRequest;
use serde::Serialize;
use serde_json::{Value, json};

use crate::bench::load::{BENCH_SECRET, BenchServer};
use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::cli::output::emit;

/// Flags of `andon bench admission`.
#[derive(clap::Args, Debug)]
pub struct AdmissionBenchArgs {
    /// Concurrent API-server connections.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds of load per case.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// The database (a fresh SQLite file by default; a PostgreSQL URL must name an empty
    /// database).
    #[arg(long)]
    pub database: Option<String>,
}

/// Containers per pod.
const CONTAINERS: usize = 5;

#[derive(Serialize)]
struct Case {
    what: String,
    reviews: usize,
    per_second: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Serialize)]
struct Figures {
    clients: usize,
    containers: usize,
    cases: Vec<Case>,
    /// The bare store reads for the five images, p50, ms.
    bare_p50_ms: f64,
    /// The allowed case's p50 over the bare reads' p50.
    ratio: f64,
}

/// A review of a pod running `images`, as an API server sends it.
fn review(uid: usize, images: &[String]) -> Vec<u8> {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": format!("bench-{uid}"), "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "CREATE", "namespace": "shop", "name": format!("web-{uid}"),
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("web-{uid}"), "namespace": "shop"},
                "spec": {"containers": containers}},
            "dryRun": false}
    }))
    .unwrap_or_default()
}

/// `clients` threads sending reviews of `images` for `seconds`; the sorted latencies.
fn load(
    url: &str,
    token: &str,
    cluster: &str,
    images: &[String],
    allowed: bool,
    clients: usize,
    seconds: u64,
) -> anyhow::Result<(Vec<Duration>, f64)> {
    let images = Arc::new(images.to_vec());
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let api = Client::new(url, Some(token.to_owned()));
            let (images, cluster) = (images.clone(), cluster.to_owned());
            std::thread::spawn(move || -> anyhow::Result<Vec<Duration>> {
                let mut out = Vec::new();
                let mut n = c * 1_000_000;
                while Instant::now() < until {
                    n += 1;
                    let body = review(n, &images);
                    let t = Instant::now();
                    let answer = api.admission_review(&cluster, &body)?;
                    out.push(t.elapsed());
                    anyhow::ensure!(
                        answer["response"]["allowed"] == allowed,
                        "unexpected answer: {answer}"
                    );
                }
                Ok(out)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        all.extend(
            t.join()
                .map_err(|_| anyhow::anyhow!("a client thread panicked"))??,
        );
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let rate = all.len() as f64 / elapsed.max(1e-9);
    Ok((all, rate))
}

/// Runs the benchmark.
pub fn run(ctx: &Context, b: &AdmissionBenchArgs) -> anyhow::Result<ExitCode> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let server = BenchServer::start("admission", b.database.as_deref(), &[])?;
    let (served, database) = (&server.served, &server.database);
    let secret = BENCH_SECRET;
    let admin = Client::new(&served.url, server.token.clone());
    eprintln!("recording and gating {CONTAINERS} releases ...");
    let mut allowed = Vec::new();
    for i in 0..CONTAINERS {
        let (ci, app, artifact) = crate::bench::gate::release(
            &admin,
            secret,
            &format!("adm{i}-{}", hex::encode(rnd)),
            1,
        )?;
        let d = ci.gate(&GateRequest {
            application: app,
            artifact: artifact.clone(),
            environment: "production".into(),
            ..Default::default()
        })?;
        anyhow::ensure!(d.decision.allow, "release {i} should be allowed");
        allowed.push(artifact);
    }
    let by_tag: Vec<String> = (0..CONTAINERS)
        .map(|i| format!("registry.example.com/svc-{i}:latest"))
        .collect();
    let mut tokens = Vec::new();
    for (name, mode) in [("bench-enforce", "enforce"), ("bench-audit", "audit")] {
        let c = admin.set_admission_cluster(
            name,
            &ClusterInput {
                environment: "production".into(),
                mode: mode.into(),
                ..ClusterInput::default()
            },
        )?;
        tokens.push(c.token.unwrap_or_default());
    }
    let mut cases = Vec::new();
    for (what, cluster, token, images, ok) in [
        (
            "5 allowed images, enforce",
            "bench-enforce",
            &tokens[0],
            &allowed,
            true,
        ),
        (
            "5 images by tag refused, enforce",
            "bench-enforce",
            &tokens[0],
            &by_tag,
            false,
        ),
        (
            "5 images by tag, audit (admitted, recorded)",
            "bench-audit",
            &tokens[1],
            &by_tag,
            true,
        ),
    ] {
        let (t, rate) = load(
            &served.url,
            token,
            cluster,
            images,
            ok,
            b.clients,
            b.seconds,
        )?;
        cases.push(Case {
            what: what.into(),
            reviews: t.len(),
            per_second: rate,
            p50_ms: percentile(&t, 0.5),
            p90_ms: percentile(&t, 0.9),
            p99_ms: percentile(&t, 0.99),
            max_ms: percentile(&t, 1.0),
        });
    }
    // The bare reads, on the same database, with the server idle.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(andon_store::Store::connect(database))?;
    let digests: Vec<String> = allowed
        .iter()
        .filter_map(|a| a.rsplit_once('@').map(|(_, d)| d.to_owned()))
        .collect();
    let mut bare = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        for d in &digests {
            let id = rt
                .block_on(store.latest_decision(d, "production"))?
                .ok_or_else(|| anyhow::anyhow!("no decision for {d}"))?;
            rt.block_on(store.decision(&id))?;
        }
        bare.push(t.elapsed());
    }
    bare.sort();
    drop(server);
    let bare_p50 = percentile(&bare, 0.5);
    let figures = Figures {
        clients: b.clients,
        containers: CONTAINERS,
        ratio: if bare_p50 > 0.0 {
            cases[0].p50_ms / bare_p50
        } else {
            0.0
        },
        bare_p50_ms: bare_p50,
        cases,
    };
    emit(ctx.output, &figures, |f| {
        println!(
            "admission reviews of a {}-container pod, {} clients, {} s per case",
            f.containers, f.clients, b.seconds
        );
        for c in &f.cases {
            println!(
                "  {:<44} {:>6} reviews {:>7.0}/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms",
                c.what, c.reviews, c.per_second, c.p50_ms, c.p90_ms, c.p99_ms, c.max_ms
            );
        }
        println!(
            "  bare store reads for the 5 images p50 {:.2} ms: the allowed case's p50 is {:.1}x",
            f.bare_p50_ms, f.ratio
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
