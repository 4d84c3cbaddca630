//! `andon vuln`: OSV advisories imported, and the blast radius of a vulnerable package or
//! of a vulnerability (docs/vulnerabilities.md).

use std::process::ExitCode;

use andon_domain::vulns::{Affected, Impact};

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit, plural};

/// `andon vuln …`.
#[derive(clap::Subcommand, Debug)]
pub enum VulnCmd {
    /// Import OSV advisories: JSON files (one record, an array, or {"advisories": [...]})
    /// or directories of them, as the OSV database and osv-scanner write them (admins).
    Import {
        /// Files or directories (their `*.json` files, not recursing).
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
    /// Which artifacts contain a package or a vulnerability, where each runs now, and who
    /// owns it. Exit 0 when nothing running is affected, 1 when something is.
    Impact {
        /// A package URL: `pkg:pypi/requests@2.30.0` (that version), `pkg:pypi/requests`
        /// (any version); or the id of an imported advisory or one of its aliases
        /// (`CVE-2023-32681`, `GHSA-…`, `PYSEC-…`): the versions its ranges name.
        target: String,
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
    },
    /// The imported advisories, newest import first.
    Advisories,
    /// Vulnerability items: one per application and vulnerability running in production,
    /// with priority, deadline and where the fix stands, newest first.
    Items {
        /// Only this application's.
        #[arg(long)]
        app: Option<String>,
        /// Only items in this state: open, detected, fix_built, fix_deployed, closed.
        #[arg(long)]
        state: Option<String>,
        /// Only this vulnerability (any of its ids).
        #[arg(long)]
        vulnerability: Option<String>,
    },
    /// One vulnerability item with every transition and its ledger entry.
    Item {
        /// `V-…`.
        id: String,
    },
    /// Advance every item and raise the overdue alerts now, rather than at the server's
    /// next interval (admins).
    Check,
}

/// Runs `andon vuln`.
pub fn run(ctx: &Context, cmd: &VulnCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        VulnCmd::Import { paths } => import(ctx, paths, out),
        VulnCmd::Advisories => {
            let list = client(ctx).advisories()?;
            emit(out, &list, |l| {
                if l.is_empty() {
                    println!("no advisories imported (andon vuln import)");
                }
                for a in l {
                    println!(
                        "{} {} {}{}{}",
                        a.id,
                        a.severity,
                        a.aliases.join(", "),
                        a.withdrawn
                            .as_ref()
                            .map(|w| format!(", WITHDRAWN {w}"))
                            .unwrap_or_default(),
                        a.summary
                            .as_ref()
                            .map(|s| format!(": {s}"))
                            .unwrap_or_default()
                    );
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        VulnCmd::Items {
            app,
            state,
            vulnerability,
        } => {
            let q: Vec<(&str, String)> = [
                ("application", app),
                ("state", state),
                ("vulnerability", vulnerability),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect();
            let items = client(ctx).vuln_items(&q)?;
            emit(out, &items, |i| crate::commands::vuln_items::print_list(i))?;
            Ok(ExitCode::SUCCESS)
        }
        VulnCmd::Item { id } => {
            let item = client(ctx).vuln_item(id)?;
            emit(out, &item, crate::commands::vuln_items::print_one)?;
            Ok(ExitCode::SUCCESS)
        }
        VulnCmd::Check => {
            let answer = client(ctx).check_vulnerabilities()?;
            emit(out, &answer, |a| {
                for (item, state) in &a.transitions {
                    println!("{item} -> {state}");
                }
                println!(
                    "{}, {}",
                    plural(a.transitions.len() as u64, "transition", "transitions"),
                    plural(a.overdue_alerts as u64, "overdue alert", "overdue alerts")
                );
            })?;
            Ok(ExitCode::SUCCESS)
        }
        VulnCmd::Impact { target, env } => {
            let c = client(ctx);
            let impact = if target.starts_with("pkg:") {
                c.impact(target, env.as_deref())?
            } else {
                c.impact_of(target, env.as_deref())?
            };
            emit(out, &impact, print)?;
            Ok(if impact.affected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// The JSON files named: each file, and each `*.json` of each directory, sorted.
fn files(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<_> = std::fs::read_dir(p)
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json"))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Sends the records, at most 1,000 per request.
fn import(ctx: &Context, paths: &[std::path::PathBuf], out: Output) -> anyhow::Result<ExitCode> {
    let mut records = Vec::new();
    for f in files(paths)? {
        let text = std::fs::read(&f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let v: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| anyhow::anyhow!("{}: not JSON: {e}", f.display()))?;
        match v {
            serde_json::Value::Array(a) => records.extend(a),
            serde_json::Value::Object(mut o) if o.contains_key("advisories") => {
                if let Some(serde_json::Value::Array(a)) = o.remove("advisories") {
                    records.extend(a);
                }
            }
            v => records.push(v),
        }
    }
    let c = client(ctx);
    let mut total = andon_domain::vulns::ImportAnswer::default();
    for chunk in records.chunks(1000) {
        let answer = c.import_advisories(&serde_json::to_vec(chunk)?)?;
        total.imported.extend(answer.imported);
        total.unchanged.extend(answer.unchanged);
    }
    emit(out, &total, |t| {
        for i in &t.imported {
            println!(
                "imported {} (modified {}) at entry {}",
                i.id, i.modified, i.ledger_index
            );
        }
        if !t.unchanged.is_empty() {
            println!(
                "unchanged (this version or a newer one recorded): {}",
                t.unchanged.join(", ")
            );
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

fn line(a: &Affected) -> String {
    let components: Vec<String> = a
        .components
        .iter()
        .map(|c| {
            let fixed = c
                .fixed
                .as_ref()
                .map(|f| format!(", fixed in {f}"))
                .unwrap_or_default();
            format!(
                "{} {}{fixed}",
                c.component.name,
                c.component.version.as_deref().unwrap_or("(no version)")
            )
        })
        .collect();
    let workloads = if a.workloads.is_empty() {
        String::new()
    } else {
        format!(" as {}", a.workloads.join(", "))
    };
    format!(
        "{} (team {}) {}{workloads}: {}",
        a.application,
        a.team,
        a.artifact,
        components.join(", ")
    )
}

/// Prints an impact answer as `andon vuln impact` does.
pub fn print(i: &Impact) {
    println!("{}: {}", i.query, i.packages.join(", "));
    for a in &i.advisories {
        let withdrawn = a
            .withdrawn
            .as_ref()
            .map(|w| format!(", WITHDRAWN {w}"))
            .unwrap_or_default();
        println!(
            "  advisory {} ({}{}){}{withdrawn}",
            a.id,
            a.severity,
            if a.aliases.is_empty() {
                String::new()
            } else {
                format!("; {}", a.aliases.join(", "))
            },
            a.summary
                .as_ref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        );
    }
    if i.affected.is_empty() && i.reported.is_empty() {
        println!("  running nowhere Andon knows of");
    }
    let mut env = None;
    for a in &i.affected {
        if env != a.environment.as_ref() {
            env = a.environment.as_ref();
            println!("  {}:", env.map_or("-", String::as_str));
        }
        println!("    {}", line(a));
    }
    if !i.built.is_empty() {
        println!(
            "  built into {} running nowhere:",
            plural(i.built.len() as u64, "artifact", "artifacts")
        );
        for a in &i.built {
            println!("    {}", line(a));
        }
    }
    if !i.reported.is_empty() {
        println!("  reported by the newest scan of what runs:");
    }
    for r in &i.reported {
        println!(
            "    {}: {} (team {}) {}: {} {}{} ({}, scan {})",
            r.environment,
            r.application,
            r.team,
            r.artifact,
            r.component.as_deref().unwrap_or("-"),
            r.version.as_deref().unwrap_or(""),
            r.fixed_version
                .as_deref()
                .map(|f| format!(", fixed in {f}"))
                .unwrap_or_default(),
            r.severity,
            r.evidence
        );
    }
    for u in &i.unevaluated {
        println!(
            "  cannot tell for {} {} ({}): {}",
            u.application, u.artifact, u.component.name, u.reason
        );
    }
    for r in &i.running_without_sbom {
        println!(
            "  {} runs {} with no SBOM recorded: Andon cannot tell",
            r.environment, r.artifact
        );
    }
    let sources: Vec<String> = i
        .environments
        .iter()
        .map(|e| format!("{} ({})", e.environment, e.source))
        .collect();
    println!("  environments checked: {}", sources.join(", "));
}
