//! `andon bench`: the benchmarks, one module each, against a server given by --server and
//! --token or one started in this process. `BENCHMARKS.md` holds their figures.

pub mod admission;
pub mod bundles;
pub mod gate;
mod http1;
pub mod impact;
pub mod ingest;
pub mod load;
pub mod pages;
pub mod pipeline;
pub mod report;
pub mod stats;
pub mod telemetry;

use std::process::ExitCode;

use crate::cli::context::Context;

/// Benchmarks.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCmd {
    /// Evidence intake throughput and latency.
    Ingest(crate::bench::ingest::IngestArgs),
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
    /// A large SBOM attested uploaded once and inline: time and the server's peak memory,
    /// beside SHA-256 and the bare parser.
    Report(crate::bench::report::ReportBenchArgs),
    /// Keyless Sigstore bundles verified per second on one core, beside raw ECDSA
    /// verification.
    Bundles(crate::bench::bundles::BundlesBenchArgs),
    /// The blast-radius query over thousands of SBOMs (a million components), beside the
    /// bare read of the package index.
    Impact(crate::bench::impact::ImpactBenchArgs),
    /// Kubernetes admission reviews of a five-container pod under load (allowed, refused,
    /// audited), beside the bare store reads they make.
    Admission(crate::bench::admission::AdmissionBenchArgs),
}

/// Runs a benchmark.
pub fn run(ctx: &Context, cmd: &BenchCmd) -> anyhow::Result<ExitCode> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    match cmd {
        BenchCmd::Ingest(b) => crate::bench::ingest::run(ctx, b),
        BenchCmd::Gate(g) => crate::bench::gate::run(ctx, g),
        BenchCmd::Telemetry(t) => crate::bench::telemetry::run(ctx, t),
        BenchCmd::Pipeline(p) => crate::bench::pipeline::run(ctx, p),
        BenchCmd::Load(l) => crate::bench::load::run(ctx, l),
        BenchCmd::Pages(p) => crate::bench::pages::run(ctx, p),
        BenchCmd::Report(r) => crate::bench::report::run(ctx, r),
        BenchCmd::Bundles(b) => crate::bench::bundles::run(b, ctx.output),
        BenchCmd::Impact(b) => crate::bench::impact::run(ctx, b),
        BenchCmd::Admission(b) => crate::bench::admission::run(ctx, b),
    }
}
