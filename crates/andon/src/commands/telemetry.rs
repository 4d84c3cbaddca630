//! `andon telemetry`: send security telemetry events, search them, show the rules.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit, query};

/// `andon telemetry`.
#[derive(clap::Subcommand, Debug)]
pub enum TelemetryCmd {
    /// Send a batch of events: a JSON array, or one JSON event per line (docs/telemetry.md).
    Send {
        /// The file (`-` for standard input).
        file: PathBuf,
    },
    /// Search stored events, newest first.
    List {
        /// Application.
        #[arg(long)]
        app: Option<String>,
        /// Event kind (login.failure, config.change, http.requests, ...).
        #[arg(long)]
        kind: Option<String>,
        /// Reporting source.
        #[arg(long)]
        source: Option<String>,
        /// One batch, by its ledger index (in batch order).
        #[arg(long)]
        batch: Option<u64>,
        /// From (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Until, exclusive.
        #[arg(long)]
        until: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// The rules in force, with their parameters.
    Rules,
}

/// Runs a telemetry verb.
pub fn run(ctx: &Context, cmd: &TelemetryCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        TelemetryCmd::Send { file } => {
            let body = if file.as_os_str() == "-" {
                let mut b = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut b)
                    .context("reading standard input")?;
                b
            } else {
                std::fs::read(file).with_context(|| format!("reading {}", file.display()))?
            };
            let r = c.send_telemetry(&body)?;
            emit(out, &r, |r| {
                println!(
                    "{} events recorded at ledger index {} ({})",
                    r["accepted"],
                    r["ledger_index"],
                    r["digest"].as_str().unwrap_or("")
                );
                crate::cli::output::print_alerts(r, "");
            })?;
        }
        TelemetryCmd::List {
            app,
            kind,
            source,
            batch,
            since,
            until,
            limit,
        } => {
            let mut q = vec![("limit", limit.to_string())];
            q.extend(query(&[
                ("application", app),
                ("kind", kind),
                ("source", source),
                ("since", since),
                ("until", until),
            ]));
            if let Some(b) = batch {
                q.push(("batch", b.to_string()));
            }
            let events = c.telemetry(&q)?;
            emit(out, &events, |l| {
                for e in l {
                    let s = |k: &str| e[k].as_str().unwrap_or("-").to_owned();
                    println!(
                        "{}\t{}\t{}\t{}/{}\t{}\tcount={}{}",
                        s("at"),
                        s("kind"),
                        s("source"),
                        s("application"),
                        s("environment"),
                        s("actor"),
                        e["count"],
                        if e["kind"] == "http.requests" {
                            format!(" 4xx={} 5xx={}", e["status_4xx"], e["status_5xx"])
                        } else {
                            String::new()
                        }
                    );
                }
            })?;
        }
        TelemetryCmd::Rules => {
            let r = c.telemetry_rules()?;
            emit(out, &r, |r| {
                println!("{}", serde_json::to_string_pretty(r).unwrap_or_default())
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
