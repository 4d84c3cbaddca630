//! `andon deploy`, `andon change` and `andon alerts`: deployments, change records and
//! their approvals, requests for change (docs/changes.md).

use std::process::ExitCode;

use andon_domain::api::{DeploymentRequest, DeploymentStateRequest, LateRequest};
use andon_domain::change::{Change, Deployment};

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// `andon deploy`.
#[derive(clap::Subcommand, Debug)]
pub enum DeployCmd {
    /// Record that an artifact was deployed to an environment (always recorded; without an
    /// allowing decision it is flagged as a gate bypass and alerted).
    Record {
        /// Application.
        #[arg(long, env = "ANDON_APP")]
        app: String,
        /// The artifact, <name>@sha256:<hex>.
        #[arg(long)]
        artifact: String,
        /// The environment.
        #[arg(long = "env")]
        environment: String,
        /// The allowing decision (default: the latest allowing one for the artifact and
        /// environment).
        #[arg(long)]
        decision: Option<String>,
        /// The pipeline run.
        #[arg(long, env = "ANDON_RUN")]
        run: Option<String>,
        /// When it was deployed, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<String>,
        /// Record it although --at is older than the server's late window (admins only):
        /// why it arrives late. It is marked late, with the reason, in the ledger, the
        /// listings and the metrics.
        #[arg(long, value_name = "REASON")]
        late: Option<String>,
    },
    /// Report what happened to a deployment later: failed, rolled_back or restored.
    Mark {
        /// The deployment id (D-...).
        id: String,
        /// failed, rolled_back or restored.
        state: String,
        /// When, RFC 3339 (default: now).
        #[arg(long)]
        at: Option<String>,
        /// A note: the incident, what failed.
        #[arg(long)]
        note: Option<String>,
        /// Record it although --at is older than the server's late window (admins only):
        /// why it arrives late. It is marked late, with the reason, in the ledger, the
        /// listings and the metrics.
        #[arg(long, value_name = "REASON")]
        late: Option<String>,
    },
    /// Deployments, newest first.
    List {
        /// Only this application.
        #[arg(long)]
        app: Option<String>,
        /// Only this environment.
        #[arg(long = "env")]
        environment: Option<String>,
    },
}

/// `andon change`.
#[derive(clap::Subcommand, Debug)]
pub enum ChangeCmd {
    /// Change records, newest first.
    List {
        /// Only this application.
        #[arg(long)]
        app: Option<String>,
    },
    /// One change record and its request for change (Markdown; --output json for JSON).
    Show {
        /// The change id (CHG-...).
        id: String,
    },
    /// Approve a change (not your own request, nor one with your commits).
    Approve {
        /// The change id.
        id: String,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Reject a change, saying why.
    Reject {
        /// The change id.
        id: String,
        /// Why (required).
        #[arg(long)]
        comment: String,
    },
}

/// A Unix-ms time as RFC 3339, `-` when there is none.
pub(crate) fn time(ms: Option<i64>) -> String {
    ms.and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
        .map_or_else(|| "-".into(), |t| t.to_string())
}

/// The late flag of a request, from `--late`.
pub(crate) fn late_flag(reason: &Option<String>) -> Option<LateRequest> {
    reason.as_ref().map(|r| LateRequest { reason: r.clone() })
}

/// What to note about a deployment in a listing: a gate bypass, and what of it arrived
/// late (`LATE: <reason> (allowed by ...)`).
fn deployment_notes(d: &Deployment) -> String {
    let mut notes = Vec::new();
    if d.bypass {
        notes.push("GATE BYPASS".to_owned());
    }
    for (what, l) in [("LATE", &d.late), ("STATE LATE", &d.state_late)] {
        if let Some(l) = l {
            notes.push(format!(
                "{what}: {} (allowed by {})",
                l.reason, l.allowed_by
            ));
        }
    }
    notes.join("; ")
}

fn deployments_listing(list: &[Deployment]) {
    let mut t = Listing::new(
        &[
            "id",
            "application",
            "environment",
            "artifact",
            "state",
            "deployed at",
            "notes",
        ],
        &[],
    );
    for d in list {
        t.row([
            d.id.clone(),
            d.application.clone(),
            d.environment.clone(),
            format!("{}@{}", d.artifact_name, short_digest(&d.artifact_digest)),
            d.state.as_str().to_owned(),
            time(Some(d.deployed_at)),
            deployment_notes(d),
        ]);
    }
    t.print("no deployments");
}

/// `sha256:` and the first 12 hex digits: enough to tell artifacts apart in a listing.
fn short_digest(d: &str) -> String {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    format!("sha256:{}", &hex[..12.min(hex.len())])
}

fn changes_listing(list: &[Change]) {
    let mut t = Listing::new(
        &[
            "id",
            "application",
            "environment",
            "class",
            "status",
            "artifact",
            "requested by",
        ],
        &[],
    );
    for c in list {
        t.row([
            c.id.clone(),
            c.application.clone(),
            c.environment.clone(),
            c.class.as_str().to_owned(),
            c.status.as_str().to_owned(),
            format!("{}@{}", c.artifact_name, short_digest(&c.artifact_digest)),
            c.requested_by.clone(),
        ]);
    }
    t.print("no changes");
}

/// Runs `andon deploy`.
pub fn deploy(ctx: &Context, cmd: &DeployCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        DeployCmd::Record {
            app,
            artifact,
            environment,
            decision,
            run,
            at,
            late,
        } => {
            let r = c.record_deployment(&DeploymentRequest {
                application: app.clone(),
                artifact: artifact.clone(),
                environment: environment.clone(),
                decision: decision.clone(),
                run: run.clone(),
                deployed_at: at.clone(),
                production: None,
                late: late_flag(late),
            })?;
            emit(out, &r, |r| {
                let d = &r["deployment"];
                println!(
                    "recorded deployment {} of {artifact} to {environment} (ledger entry {})",
                    d["id"].as_str().unwrap_or(""),
                    d["ledger_index"]
                );
                if let Some(reason) = d["late"]["reason"].as_str() {
                    println!(
                        "recorded late (older than the late window), allowed by {}: {reason}",
                        d["late"]["allowed_by"].as_str().unwrap_or("")
                    );
                }
                if let Some(ch) = d["change"].as_str() {
                    println!("change record {ch}");
                }
                if let Some(m) = r["alert"]["message"].as_str() {
                    println!("GATE BYPASS, alert raised: {m}");
                }
            })?;
        }
        DeployCmd::Mark {
            id,
            state,
            at,
            note,
            late,
        } => {
            let d = c.deployment_state(
                id,
                &DeploymentStateRequest {
                    state: state.clone(),
                    at: at.clone(),
                    note: note.clone(),
                    late: late_flag(late),
                },
            )?;
            emit(out, &d, |d| {
                let notes = deployment_notes(d);
                println!(
                    "{} is {} (failed {}, restored {}){}",
                    d.id,
                    d.state.as_str(),
                    time(d.failed_at),
                    time(d.restored_at),
                    if notes.is_empty() {
                        String::new()
                    } else {
                        format!("; {notes}")
                    }
                )
            })?;
        }
        DeployCmd::List { app, environment } => {
            let list = c.deployments(app.as_deref(), environment.as_deref())?;
            emit(out, &list, |l| deployments_listing(l))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `andon change`.
pub fn change(ctx: &Context, cmd: &ChangeCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        ChangeCmd::List { app } => {
            let list = c.changes(app.as_deref())?;
            emit(out, &list, |l| changes_listing(l))?;
        }
        ChangeCmd::Show { id } => match out {
            Output::Json => emit(out, &c.rfc_json(id)?, |_| {})?,
            Output::Text => print!("{}", c.rfc_markdown(id)?),
        },
        ChangeCmd::Approve { id, comment } | ChangeCmd::Reject { id, comment } => {
            let approve = matches!(cmd, ChangeCmd::Approve { .. });
            let ch = c.decide_change(id, approve, comment)?;
            emit(out, &ch, |ch| {
                println!(
                    "{} {}: now {} ({} of {} approvals)",
                    if approve { "approved" } else { "rejected" },
                    ch.id,
                    ch.status.as_str(),
                    ch.approved_by().len(),
                    ch.classification.approvals
                )
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `andon alerts`.
/// `andon alert`.
#[derive(clap::Subcommand, Debug)]
pub enum AlertCmd {
    /// Someone is on it.
    Ack {
        /// The alert (A-...).
        id: String,
        /// A note.
        #[arg(long)]
        note: Option<String>,
    },
    /// Dealt with.
    Resolve {
        /// The alert (A-...).
        id: String,
        /// A note: what was done.
        #[arg(long)]
        note: Option<String>,
    },
    /// One alert, with its evidence links and what happened to it.
    Show {
        /// The alert (A-...).
        id: String,
    },
}

/// `andon alert`.
pub fn alert(ctx: &Context, cmd: &AlertCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    let a = match cmd {
        AlertCmd::Ack { id, note } => c.alert_action(id, "acknowledge", note.as_deref())?,
        AlertCmd::Resolve { id, note } => c.alert_action(id, "resolve", note.as_deref())?,
        AlertCmd::Show { id } => c.alert(id)?,
    };
    emit(out, &a, |a| {
        println!(
            "{} {} {} {} ({})",
            a.id, a.severity, a.kind, a.subject, a.state
        );
        println!("  {}", a.message);
        println!("  raised {}", time(Some(a.created_at)));
        if let Some(t) = a.last_seen_at {
            println!("  last seen {}", time(Some(t)));
        }
        if let Some(by) = &a.acknowledged_by {
            println!("  acknowledged by {by} at {}", time(a.acknowledged_at));
        }
        if let Some(by) = &a.resolved_by {
            println!("  resolved by {by} at {}", time(a.resolved_at));
        }
        for l in &a.links {
            println!("  see {l}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `andon alerts`: the alerts matching `query`, newest first; with `check`, first looks for
/// overdue emergency reviews.
pub fn alerts(
    ctx: &Context,
    check: bool,
    query: &[(&str, String)],
    out: Output,
) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    if check {
        let raised = c.check_alerts()?;
        if out == Output::Text {
            println!("{raised} overdue emergency reviews alerted");
        }
    }
    let list = c.alerts_where(query)?;
    emit(out, &list, |l| {
        let mut t = Listing::new(
            &[
                "raised at",
                "id",
                "state",
                "severity",
                "kind",
                "subject",
                "message",
            ],
            &[],
        );
        for a in l {
            t.row([
                time(Some(a.created_at)),
                a.id.clone(),
                a.state.clone(),
                a.severity.clone(),
                a.kind.clone(),
                a.subject.clone(),
                a.message.clone(),
            ]);
        }
        t.print("no alerts");
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `andon metrics`.
#[derive(clap::Args, Debug)]
pub struct MetricsArgs {
    /// An application.
    #[arg(long, conflicts_with = "team", required_unless_present = "team")]
    pub app: Option<String>,
    /// A team (all its applications).
    #[arg(long)]
    pub team: Option<String>,
    /// day, week, month or quarter.
    #[arg(long, default_value = "week")]
    pub period: String,
    /// From (RFC 3339 or YYYY-MM-DD; default: 90 days before --until).
    #[arg(long)]
    pub since: Option<String>,
    /// Until, exclusive (default: now).
    #[arg(long)]
    pub until: Option<String>,
}

fn opt(v: &serde_json::Value, scale: f64, unit: &str) -> String {
    v.as_f64()
        .map_or_else(|| "-".into(), |x| format!("{:.1}{unit}", x * scale))
}

fn band(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(String::new, |b| format!(" ({b})"))
}

/// Runs `andon metrics`.
pub fn metrics(ctx: &Context, m: &MetricsArgs, out: Output) -> anyhow::Result<ExitCode> {
    let mut q = vec![("period", m.period.clone())];
    if let Some(a) = &m.app {
        q.push(("application", a.clone()));
    }
    if let Some(t) = &m.team {
        q.push(("team", t.clone()));
    }
    if let Some(s) = &m.since {
        q.push(("since", s.clone()));
    }
    if let Some(u) = &m.until {
        q.push(("until", u.clone()));
    }
    let r = client(ctx).metrics(&q)?;
    emit(out, &r, |r| {
        let mut t = Listing::new(
            &[
                "from",
                "deploys",
                "days",
                "lead time p50 (h)",
                "p90 (h)",
                "change failure rate",
                "restore p50 (min)",
                "rework",
            ],
            &[
                "deploys",
                "days",
                "lead time p50 (h)",
                "p90 (h)",
                "change failure rate",
                "restore p50 (min)",
                "rework",
            ],
        );
        let rows = r["periods"].as_array().cloned().unwrap_or_default();
        for k in rows.iter().chain(std::iter::once(&r["total"])) {
            let b = &k["bands"];
            t.row([
                if std::ptr::eq(k, &r["total"]) {
                    "all".to_owned()
                } else {
                    k["start"].as_str().unwrap_or("").to_owned()
                },
                format!("{}{}", k["deployments"], band(&b["deployment_frequency"])),
                k["deployment_days"].to_string(),
                format!(
                    "{}{}",
                    opt(&k["lead_time_median_hours"], 1.0, ""),
                    band(&b["lead_time"])
                ),
                opt(&k["lead_time_p90_hours"], 1.0, ""),
                format!(
                    "{}{}",
                    opt(&k["change_failure_rate"], 100.0, "%"),
                    band(&b["change_failure_rate"])
                ),
                format!(
                    "{}{}{}",
                    opt(&k["time_to_restore_median_minutes"], 1.0, ""),
                    band(&b["time_to_restore"]),
                    if k["unrestored"].as_u64() > Some(0) {
                        format!(" +{} open", k["unrestored"])
                    } else {
                        String::new()
                    }
                ),
                opt(&k["deployment_rework_rate"], 100.0, "%"),
            ]);
        }
        t.print("no periods");
        for line in arrivals(&rows) {
            println!("{line}");
        }
        if let Some(line) = security_line(&r["security"]) {
            println!("{line}");
        }
        if let Some(line) = drills_line(&r["security"]["drills"]) {
            println!("{line}");
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Security lead time in one line: fixes, their median and 90th percentile, and what is
/// open; nothing when there is nothing to say.
fn security_line(s: &serde_json::Value) -> Option<String> {
    let total = &s["total"];
    let fixed = total["fixed"].as_u64().unwrap_or(0);
    let open = s["open"].as_u64().unwrap_or(0);
    if fixed == 0 && open == 0 {
        return None;
    }
    Some(format!(
        "security lead time: {fixed} fixed ({} within the deadline), p50 {} h, p90 {} h; {open} open, {} overdue",
        total["within_deadline"],
        opt(&total["lead_time_median_hours"], 1.0, ""),
        opt(&total["lead_time_p90_hours"], 1.0, ""),
        s["overdue"]
    ))
}

/// Drills beside the real fixes, in one line; nothing when none finished.
fn drills_line(d: &serde_json::Value) -> Option<String> {
    let finished = d["finished"].as_u64().filter(|n| *n > 0)?;
    let time =
        |k: &str| crate::cli::output::duration(d[k].as_f64().map(|h| (h * 3_600_000.0) as i64));
    Some(format!(
        "drills: {finished} finished, {} reached production, time to production p50 {}, p90 {}",
        d["reached_production"],
        time("time_to_production_median_hours"),
        time("time_to_production_p90_hours"),
    ))
}

/// What arrived late, one line per period that says so: its facts admitted after the late
/// window, and, once it has ended, those recorded after it closed (docs/changes.md, "Time").
fn arrivals(periods: &[serde_json::Value]) -> Vec<String> {
    periods
        .iter()
        .filter_map(|k| {
            let late = k["late"].as_u64().unwrap_or(0);
            let after = k["recorded_after_close"].as_u64().unwrap_or(0);
            (late > 0 || after > 0).then(|| {
                format!(
                    "{}: {} recorded after the period closed; {late} recorded late with an admin's reason",
                    k["start"].as_str().unwrap_or(""),
                    crate::cli::output::plural(after, "fact", "facts"),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_that_learnt_of_facts_late_say_so() {
        let periods = vec![
            serde_json::json!({"start": "2026-07-01", "late": 1, "recorded_after_close": 3}),
            serde_json::json!({"start": "2026-10-01", "late": 0, "recorded_after_close": null}),
        ];
        assert_eq!(
            arrivals(&periods),
            [
                "2026-07-01: 3 facts recorded after the period closed; 1 recorded late with an admin's reason"
            ]
        );
    }
}
