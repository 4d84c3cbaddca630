//! `andon bench report`: a large SBOM (CycloneDX 1.5 JSON or XML, made for the run in the shape
//! an image scanner writes: components with purls, CPEs, hashes, licenses and properties)
//! attested to an `andon serve` child process, two ways: uploaded once and named by digest
//! (what `andon attest` does over 1 MiB), and inline, base64 inside base64, on a server whose
//! body limit is raised for it. For each: the time, and the server's peak resident memory
//! above its resident memory before the request (`VmHWM` against `VmRSS`, Linux).
//!
//! The limits, measured in the same run in this process: SHA-256 over the document, and the
//! bare parser (`andon_evidence::summarize`, schema validation included) with its own peak
//! memory above what the process held before (the peak reset through `/proc/self/clear_refs`).

use std::process::ExitCode;
use std::time::Instant;

use andon_client::Client;
use andon_domain::{ReportPredicate, SBOM_PREDICATE_V1, Sha256Digest, Statement, StoredReport};
use anyhow::Context as _;
use serde::Serialize;

use crate::bench::load::{Cleanup, spawn_with, status_bytes};
use crate::cli::context::Context;
use crate::cli::output::emit;

/// Flags of `andon bench report`.
#[derive(clap::Args, Debug)]
pub struct ReportBenchArgs {
    /// The SBOM's size, in MB (10^6 bytes).
    #[arg(long, default_value_t = 100)]
    pub size_mb: u64,
    /// Also attest it inline (base64 inside base64), on a server whose body limit is raised.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub inline: bool,
    /// The SBOM's serialization: CycloneDX JSON (validated against its JSON schema) or XML
    /// (against its XSD).
    #[arg(long, value_parser = ["json", "xml"], default_value = "json")]
    pub format: String,
}

/// The figures of one way of attesting.
#[derive(Serialize)]
struct Way {
    /// Seconds from the first byte sent to the receipt.
    seconds: f64,
    /// Of which the upload (the uploaded way only).
    upload_seconds: Option<f64>,
    /// The bytes sent over HTTP.
    sent_bytes: u64,
    /// The server's resident memory before, MiB.
    rss_before_mib: f64,
    /// Its peak during the request, MiB.
    peak_mib: f64,
    /// The peak above before, in multiples of the report's size.
    peak_over_report: f64,
}

#[derive(Serialize)]
struct Figures {
    format: String,
    report_bytes: u64,
    components: u64,
    /// SHA-256 over the document, MB/s.
    sha256_mb_per_s: f64,
    /// The bare parser, schema validation included, seconds.
    parse_seconds: f64,
    /// Its peak memory above what the process held before, in multiples of the report.
    parse_peak_over_report: f64,
    uploaded: Way,
    inline: Option<Way>,
}

const MIB: f64 = 1024.0 * 1024.0;

/// Resets this process's peak resident memory to its current one (Linux).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn self_bytes(field: &str) -> u64 {
    status_bytes(std::process::id(), field).unwrap_or(0)
}

fn statement(predicate: ReportPredicate) -> anyhow::Result<Statement> {
    Ok(Statement::new(
        vec![(
            "registry.example.com/shop/checkout".into(),
            Sha256Digest::of(b"checkout image"),
        )],
        SBOM_PREDICATE_V1.into(),
        serde_json::to_value(predicate)?,
    ))
}

/// A server on a fresh SQLite file with an application and its pipeline, its process id.
fn server(
    dir: &std::path::Path,
    extra: &[&str],
) -> anyhow::Result<(crate::bench::load::Served, Client, andon_domain::SigningKey)> {
    std::fs::create_dir_all(dir)?;
    let database = format!("sqlite://{}", dir.join("andon.db").display());
    let (served, token) = spawn_with(&database, dir, "bench-secret", true, extra)?;
    let admin = Client::new(&served.url, token);
    let (ci, key) = crate::fixtures::application::pipeline(&admin, "checkout", "shop")?;
    Ok((served, ci, key))
}

fn way(
    pid: u32,
    report: u64,
    send: impl FnOnce() -> anyhow::Result<(u64, Option<f64>)>,
) -> anyhow::Result<Way> {
    // The server's peak so far is its start; reset it to what it holds now.
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let before = status_bytes(pid, "VmRSS:").unwrap_or(0);
    let t = Instant::now();
    let (sent_bytes, upload_seconds) = send()?;
    let seconds = t.elapsed().as_secs_f64();
    let peak = status_bytes(pid, "VmHWM:").unwrap_or(0);
    Ok(Way {
        seconds,
        upload_seconds,
        sent_bytes,
        rss_before_mib: before as f64 / MIB,
        peak_mib: peak as f64 / MIB,
        peak_over_report: peak.saturating_sub(before) as f64 / report as f64,
    })
}

/// Runs `andon bench report`.
pub fn run(ctx: &Context, b: &ReportBenchArgs) -> anyhow::Result<ExitCode> {
    let (doc, components, media_type) = if b.format == "xml" {
        let (doc, n) = crate::fixtures::large_sbom::cyclonedx_xml(b.size_mb * 1_000_000);
        (doc, n, "application/xml")
    } else {
        let (doc, n) = crate::fixtures::large_sbom::cyclonedx(b.size_mb * 1_000_000);
        (doc, n, "application/json")
    };
    let size = doc.len() as u64;
    eprintln!(
        "a CycloneDX {} BOM of {size} bytes, {components} components ...",
        b.format
    );

    let t = Instant::now();
    let digest = Sha256Digest::of(&doc);
    let sha256_mb_per_s = size as f64 / 1e6 / t.elapsed().as_secs_f64();

    reset_peak();
    let held = self_bytes("VmRSS:");
    let t = Instant::now();
    let summary = andon_evidence::summarize("sbom", &doc)
        .context("a report kind")?
        .context("the bench's BOM parses")?;
    let parse_seconds = t.elapsed().as_secs_f64();
    let parse_peak = self_bytes("VmHWM:").saturating_sub(held);
    anyhow::ensure!(
        summary["schema"]["valid"] == true,
        "the bench's BOM breaks its schema: {}",
        summary["schema"]
    );
    drop(summary);

    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = std::env::temp_dir().join(format!("andon-bench-report-{}", hex::encode(rnd)));
    let _cleanup = Cleanup(dir.clone());

    let uploaded = {
        let (served, ci, key) = server(&dir.join("uploaded"), &[])?;
        let stored = StoredReport { digest, size };
        way(served.child.id(), size, || {
            let t = Instant::now();
            ci.upload_report(&digest, size, &mut &doc[..])?;
            let upload = t.elapsed().as_secs_f64();
            let envelope =
                statement(ReportPredicate::reference(media_type, None, stored))?.sign(&key);
            let r = ci.submit_evidence("checkout", None, Some("sbom"), &envelope)?;
            anyhow::ensure!(!r.existing, "recorded");
            Ok((size + envelope.len() as u64, Some(upload)))
        })?
    };
    let inline = if b.inline {
        let limit = (size * 2 + (64 << 20)).to_string();
        let (served, ci, key) = server(&dir.join("inline"), &["--max-body-bytes", limit.as_str()])?;
        Some(way(served.child.id(), size, || {
            let envelope = statement(ReportPredicate::new(media_type, None, &doc))?.sign(&key);
            ci.submit_evidence("checkout", None, Some("sbom"), &envelope)?;
            Ok((envelope.len() as u64, None))
        })?)
    } else {
        None
    };
    let figures = Figures {
        format: b.format.clone(),
        report_bytes: size,
        components,
        sha256_mb_per_s,
        parse_seconds,
        parse_peak_over_report: parse_peak as f64 / size as f64,
        uploaded,
        inline,
    };
    emit(ctx.output, &figures, |f| {
        println!(
            "report: CycloneDX {}, {:.1} MB, {} components",
            f.format,
            f.report_bytes as f64 / 1e6,
            f.components
        );
        println!(
            "limits: sha256 {:.0} MB/s; bare parse {:.2} s, peak {:.2}x the report",
            f.sha256_mb_per_s, f.parse_seconds, f.parse_peak_over_report
        );
        let show = |name: &str, w: &Way| {
            println!(
                "{name}: {:.2} s{}, {:.1} MB sent; server {:.0} MiB before, peak {:.0} MiB: {:.2}x the report above before",
                w.seconds,
                w.upload_seconds
                    .map(|u| format!(" (upload {u:.2} s)"))
                    .unwrap_or_default(),
                w.sent_bytes as f64 / 1e6,
                w.rss_before_mib,
                w.peak_mib,
                w.peak_over_report
            );
        };
        show("uploaded", &f.uploaded);
        if let Some(w) = &f.inline {
            show("inline", w);
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
