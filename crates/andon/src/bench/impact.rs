//! `andon bench impact`: the blast-radius query over a large history. An `andon serve` child
//! process on a fresh database records `--artifacts` SBOMs of `--components` components each
//! (CycloneDX, attested the way cosign does), spread over `--apps` applications, with
//! production and staging each running the newest artifact of every application; an OSV
//! advisory about the most common package is imported. Then each query is asked `--queries`
//! times over HTTP: by package URL with any version, with one version, and by advisory id.
//!
//! The limit, measured in the same run on the same database in this process: the bare read
//! of the package's components from the package index (`Store::package_components`).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::access::Workload;
use andon_domain::api::SnapshotInput;
use andon_domain::{Sha256Digest, Statement};
use serde::Serialize;
use serde_json::json;

use crate::bench::load::BenchServer;
use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::cli::output::emit;

/// Flags of `andon bench impact`.
#[derive(clap::Args, Debug)]
pub struct ImpactBenchArgs {
    /// SBOMs (artifacts) recorded.
    #[arg(long, default_value_t = 5_000)]
    pub artifacts: u64,
    /// Components per SBOM.
    #[arg(long, default_value_t = 200)]
    pub components: u64,
    /// Applications the artifacts belong to.
    #[arg(long, default_value_t = 50)]
    pub apps: u64,
    /// Times each query is asked.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// The database (a fresh SQLite file by default; a PostgreSQL URL must name an empty
    /// database).
    #[arg(long)]
    pub database: Option<String>,
}

/// Distinct packages the components are drawn from.
const PACKAGES: u64 = 20_000;
/// Versions per package.
const VERSIONS: u64 = 10;

#[derive(Serialize)]
struct Query {
    what: String,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    affected: usize,
    built: usize,
    /// The bare index read of the same package, p50, ms.
    bare_p50_ms: f64,
    /// p50 over the bare read's p50.
    ratio: f64,
}

#[derive(Serialize)]
struct Figures {
    artifacts: u64,
    components: u64,
    applications: u64,
    /// Seconds to record the SBOMs.
    record_seconds: f64,
    /// SBOM components recorded per second.
    components_per_s: f64,
    queries: Vec<Query>,
}

/// Package `p`'s purl name (npm and PyPI alternate).
fn package(p: u64) -> (&'static str, String) {
    if p.is_multiple_of(2) {
        ("npm", format!("pkg-{p}"))
    } else {
        ("pypi", format!("pkg-{p}"))
    }
}

/// The component `j` of artifact `i`: package 0 is in every SBOM (the common library), the
/// others spread over the pool; versions move on with the artifact's age.
fn component(i: u64, j: u64) -> serde_json::Value {
    // 4729 is prime to PACKAGES - 1: the packages of one SBOM are distinct (CycloneDX
    // requires its components to be), and none is package 0.
    let p = if j == 0 {
        0
    } else {
        1 + (i.wrapping_mul(7919) + j.wrapping_mul(4729)) % (PACKAGES - 1)
    };
    let v = (i / 500 + j) % VERSIONS;
    let (ty, name) = package(p);
    json!({"type": "library", "name": name, "version": format!("1.{v}.0"),
           "purl": format!("pkg:{ty}/{name}@1.{v}.0")})
}

fn sbom(i: u64, n: u64) -> serde_json::Value {
    json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "components": (0..n).map(|j| component(i, j)).collect::<Vec<_>>()})
}

fn artifact(i: u64) -> Sha256Digest {
    Sha256Digest::of(format!("impact-artifact-{i}").as_bytes())
}

fn timed(n: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        out.push(t.elapsed());
    }
    out.sort();
    Ok(out)
}

/// Runs the benchmark.
pub fn run(ctx: &Context, b: &ImpactBenchArgs) -> anyhow::Result<ExitCode> {
    let server = BenchServer::start("impact", b.database.as_deref(), &[])?;
    let (served, database) = (&server.served, &server.database);
    let admin = Client::new(&served.url, server.token.clone());
    let apps = b.apps.clamp(1, b.artifacts.max(1));
    let mut pipelines = Vec::new();
    for a in 0..apps {
        pipelines.push(crate::fixtures::application::pipeline(
            &admin,
            &format!("app-{a}"),
            &format!("team-{}", a % 10),
        )?);
    }
    let started = Instant::now();
    // Application `a` owns artifacts a, a + apps, a + 2 apps, ...; a run's SBOMs go 20 to a
    // request, as a CI job sends its attestations.
    for (a, (ci, key)) in pipelines.iter().enumerate() {
        let mine: Vec<u64> = (a as u64..b.artifacts).step_by(apps as usize).collect();
        for chunk in mine.chunks(20) {
            let envelopes: Vec<Vec<u8>> = chunk
                .iter()
                .map(|&k| {
                    Statement::new(
                        vec![(format!("registry.example.com/app-{a}"), artifact(k))],
                        "https://cyclonedx.org/bom".into(),
                        sbom(k, b.components),
                    )
                    .sign(key)
                })
                .collect();
            ci.submit_evidence_batch(&format!("app-{a}"), None, &envelopes)?;
        }
    }
    let record_seconds = started.elapsed().as_secs_f64();
    // Production and staging run each application's newest artifact and the one before.
    let running = |env: &str, back: u64| -> anyhow::Result<()> {
        let workloads = (0..apps)
            .filter_map(|a| {
                let newest = (0..b.artifacts).rev().find(|k| k % apps == a)?;
                let k = newest.checked_sub(back * apps)?;
                Some(Workload {
                    name: format!("app-{a}-0"),
                    image: format!("registry.example.com/app-{a}@{}", artifact(k)),
                })
            })
            .collect();
        admin.report_snapshot(
            env,
            &SnapshotInput {
                whole_environment: true,
                source: "kubernetes".into(),
                workloads,
                ..SnapshotInput::default()
            },
        )?;
        Ok(())
    };
    running("production", 0)?;
    running("staging", 1)?;
    let advisory = json!({
        "schema_version": "1.6.0", "id": "OSV-2026-0001", "modified": "2026-12-01T00:00:00Z",
        "aliases": ["CVE-2026-0001"], "summary": "the common library",
        "affected": [{"package": {"ecosystem": "npm", "name": "pkg-0"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.5.0"}]}]}],
    });
    admin.import_advisories(&serde_json::to_vec(&advisory)?)?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = rt.block_on(andon_store::Store::connect(database))?;
    let bare = |ty: &str, name: &str| -> anyhow::Result<f64> {
        let t = timed(b.queries, || {
            rt.block_on(store.package_components(ty, "", name))?;
            Ok(())
        })?;
        Ok(percentile(&t, 0.5))
    };
    let common = bare("npm", "pkg-0")?;
    let rare = bare("pypi", "pkg-1")?;
    let mut queries = Vec::new();
    for (what, purl, id, bare_p50) in [
        (
            "purl, any version, in every SBOM",
            Some("pkg:npm/pkg-0"),
            None,
            common,
        ),
        (
            "purl, one version",
            Some("pkg:npm/pkg-0@1.3.0"),
            None,
            common,
        ),
        (
            "advisory id (SEMVER range)",
            None,
            Some("CVE-2026-0001"),
            common,
        ),
        (
            "purl, a package in few SBOMs",
            Some("pkg:pypi/pkg-1"),
            None,
            rare,
        ),
    ] {
        let mut last = None;
        let t = timed(b.queries, || {
            last = Some(match (purl, id) {
                (Some(p), _) => admin.impact(p, None)?,
                (_, Some(i)) => admin.impact_of(i, None)?,
                _ => unreachable!("a purl or an id"),
            });
            Ok(())
        })?;
        let last = last.unwrap_or_default();
        let p50 = percentile(&t, 0.5);
        queries.push(Query {
            what: what.into(),
            p50_ms: p50,
            p99_ms: percentile(&t, 0.99),
            max_ms: percentile(&t, 1.0),
            affected: last.affected.len(),
            built: last.built.len(),
            bare_p50_ms: bare_p50,
            ratio: if bare_p50 > 0.0 { p50 / bare_p50 } else { 0.0 },
        });
    }
    drop(server);
    let figures = Figures {
        artifacts: b.artifacts,
        components: b.artifacts * b.components,
        applications: apps,
        record_seconds,
        components_per_s: (b.artifacts * b.components) as f64 / record_seconds.max(1e-9),
        queries,
    };
    emit(ctx.output, &figures, |f| {
        println!(
            "{} SBOMs x {} components = {} components over {} applications, recorded in {:.1} s ({:.0} components/s)",
            f.artifacts,
            b.components,
            f.components,
            f.applications,
            f.record_seconds,
            f.components_per_s
        );
        for q in &f.queries {
            println!(
                "  {:<34} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} running affected, {} built)  bare index read p50 {:.2} ms: {:.1}x",
                q.what, q.p50_ms, q.p99_ms, q.max_ms, q.affected, q.built, q.bare_p50_ms, q.ratio
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
