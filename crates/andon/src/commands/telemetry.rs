//! `andon telemetry`: send security telemetry events, search them, show the rules.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit, plural, query};

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
                    "{} recorded at ledger index {} ({})",
                    plural(r["accepted"].as_u64().unwrap_or(0), "event", "events"),
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
                let mut t = Listing::new(
                    &[
                        "at", "kind", "source", "app", "env", "actor", "count", "4xx", "5xx",
                    ],
                    &["count", "4xx", "5xx"],
                );
                for e in l {
                    let s = |k: &str| e[k].as_str().unwrap_or("-").to_owned();
                    let n = |k: &str| e[k].as_u64().map_or("-".to_owned(), |n| n.to_string());
                    t.row([
                        s("at"),
                        s("kind"),
                        s("source"),
                        s("application"),
                        s("environment"),
                        s("actor"),
                        n("count"),
                        n("status_4xx"),
                        n("status_5xx"),
                    ]);
                }
                t.print("no events");
            })?;
        }
        TelemetryCmd::Rules => {
            let r = c.telemetry_rules()?;
            emit(out, &r, |r| rules(r).print("no rules"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The rules in force as a listing: each rule, whether it runs, its parameters.
fn rules(r: &serde_json::Value) -> Listing {
    let mut l = Listing::new(&["rule", "enabled", "parameters"], &[]);
    for (name, rule) in r.as_object().into_iter().flatten() {
        let parameters = rule
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "enabled")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let enabled = match rule["enabled"].as_bool() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "-",
        };
        l.row([name.clone(), enabled.to_owned(), parameters]);
    }
    l
}
