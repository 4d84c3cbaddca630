//! `andon access`: break-glass requests and grants, the standing access register, access
//! debt (docs/access.md). The register's verbs are in `account`.

pub mod account;

use std::process::ExitCode;

use andon_domain::api::AccessRequestInput;
use serde_json::Value;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit, plural, query};

/// `andon access`.
#[derive(clap::Subcommand, Debug)]
pub enum AccessCmd {
    /// Ask for break-glass access; someone else approves it.
    Request {
        /// Application.
        #[arg(long, env = "ANDON_APP")]
        app: String,
        /// Environment.
        #[arg(long = "env")]
        environment: String,
        /// read or write.
        #[arg(long, default_value = "read")]
        level: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// The ticket it is for.
        #[arg(long)]
        ticket: String,
        /// How long, once approved.
        #[arg(long, default_value_t = 60)]
        minutes: u32,
    },
    /// Approve someone else's request: the grant starts now.
    Approve {
        /// The request (AR-...).
        id: String,
        /// A comment.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a request.
    Reject {
        /// The request (AR-...).
        id: String,
        /// Why.
        #[arg(long)]
        comment: Option<String>,
    },
    /// End a grant now.
    Revoke {
        /// The request (AR-...).
        id: String,
    },
    /// Requests, newest first, with their state now.
    List {
        /// Only this application.
        #[arg(long)]
        app: Option<String>,
        /// Only this environment.
        #[arg(long = "env")]
        environment: Option<String>,
        /// pending, rejected, active, expired or revoked.
        #[arg(long)]
        state: Option<String>,
    },
    /// The grants valid now.
    Grants {
        /// Only this environment.
        #[arg(long = "env")]
        environment: Option<String>,
    },
    /// Record due expiries now (admin).
    Check,
    /// Production Access Debt per period.
    Debt {
        /// An application.
        #[arg(long, conflicts_with = "team")]
        app: Option<String>,
        /// A team.
        #[arg(long)]
        team: Option<String>,
        /// day, week, month or quarter.
        #[arg(long, default_value = "week")]
        period: String,
        /// From (RFC 3339 or YYYY-MM-DD; default: 90 days before --until).
        #[arg(long)]
        since: Option<String>,
        /// Until, exclusive (default: now).
        #[arg(long)]
        until: Option<String>,
    },
    /// The people with standing access to production (empty is the goal).
    Standing,
    /// The register of persistent production accounts.
    #[command(subcommand)]
    Account(crate::commands::access::account::AccountCmd),
}

/// Access requests as a listing.
fn requests(list: &[Value]) -> Listing {
    let mut l = Listing::new(
        &[
            "id", "state", "level", "app", "env", "minutes", "by", "ticket", "until", "reason",
        ],
        &["minutes"],
    );
    for r in list {
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_owned();
        l.row([
            s("id"),
            s("state"),
            s("level"),
            s("application"),
            s("environment"),
            r["minutes"].to_string(),
            s("requested_by"),
            s("ticket"),
            s("expires_time"),
            s("reason"),
        ]);
    }
    l
}

fn print_request(r: &Value) {
    requests(std::slice::from_ref(r)).print("");
}

/// Runs an access verb.
pub fn run(ctx: &Context, cmd: &AccessCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        AccessCmd::Request {
            app,
            environment,
            level,
            reason,
            ticket,
            minutes,
        } => {
            let r = c.request_access(&AccessRequestInput {
                application: app.clone(),
                environment: environment.clone(),
                level: level.clone(),
                reason: reason.clone(),
                ticket: ticket.clone(),
                minutes: *minutes,
            })?;
            emit(out, &r, |r| {
                println!(
                    "{} requested: {} access to {app} in {environment} for {minutes} minutes, once someone else approves (andon access approve {})",
                    r["id"].as_str().unwrap_or(""),
                    level,
                    r["id"].as_str().unwrap_or("")
                )
            })?;
        }
        AccessCmd::Approve { id, comment } | AccessCmd::Reject { id, comment } => {
            let verb = if matches!(cmd, AccessCmd::Approve { .. }) {
                "approve"
            } else {
                "reject"
            };
            let r = c.decide_access(id, verb, comment.as_deref())?;
            emit(out, &r, print_request)?;
        }
        AccessCmd::Revoke { id } => {
            let r = c.decide_access(id, "revoke", None)?;
            emit(out, &r, print_request)?;
        }
        AccessCmd::List {
            app,
            environment,
            state,
        } => {
            let q = query(&[
                ("application", app),
                ("environment", environment),
                ("state", state),
            ]);
            let list = c.access_requests(&q)?;
            emit(out, &list, |l| requests(l).print("no access requests"))?;
        }
        AccessCmd::Grants { environment } => {
            let q: Vec<(&str, String)> = environment
                .iter()
                .map(|e| ("environment", e.clone()))
                .collect();
            let list = c.access_grants(&q)?;
            emit(out, &list, |l| {
                let mut t = Listing::new(
                    &[
                        "request",
                        "holder",
                        "level",
                        "app",
                        "env",
                        "until",
                        "ticket",
                        "approved by",
                    ],
                    &[],
                );
                for g in l {
                    let s = |k: &str| g[k].as_str().unwrap_or("-").to_owned();
                    t.row([
                        s("request"),
                        s("holder"),
                        s("level"),
                        s("application"),
                        s("environment"),
                        s("expires_at"),
                        s("ticket"),
                        s("approved_by"),
                    ]);
                }
                t.print("no access granted now");
            })?;
        }
        AccessCmd::Check => {
            let r = c.check_access()?;
            emit(out, &r, |r| {
                let n = r["expired"].as_u64().unwrap_or(0);
                println!("{} recorded", plural(n, "expiry", "expiries"))
            })?;
        }
        AccessCmd::Debt {
            app,
            team,
            period,
            since,
            until,
        } => {
            let mut q = vec![("period", period.clone())];
            q.extend(query(&[
                ("application", app),
                ("team", team),
                ("since", since),
                ("until", until),
            ]));
            let r = c.access_debt(&q)?;
            emit(out, &r, |r| {
                let numbers = ["points", "account uses", "write grants", "read grants"];
                let mut t = Listing::new(
                    &[
                        "from",
                        "points",
                        "account uses",
                        "write grants",
                        "read grants",
                    ],
                    &numbers,
                );
                let rows = r["periods"].as_array().cloned().unwrap_or_default();
                for p in rows.iter().chain(std::iter::once(&r["total"])) {
                    t.row([
                        if std::ptr::eq(p, &r["total"]) {
                            "all".to_owned()
                        } else {
                            p["start"].as_str().unwrap_or("").to_owned()
                        },
                        p["points"].to_string(),
                        p["account_uses"].to_string(),
                        p["write_grants"].to_string(),
                        p["read_grants"].to_string(),
                    ]);
                }
                t.print("");
                if let Some(t) = r["trend"].as_str() {
                    println!("trend: {t} (zero is the elite score)");
                }
            })?;
        }
        AccessCmd::Standing => {
            let list = c.standing_access()?;
            emit(out, &list, |l| {
                let mut t = Listing::new(&["person", "accounts"], &[]);
                for p in l {
                    t.row([
                        p["person"].as_str().unwrap_or("").to_owned(),
                        p["accounts"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(Value::as_str)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            })
                            .unwrap_or_default(),
                    ]);
                }
                t.print("nobody has standing access to production");
            })?;
        }
        AccessCmd::Account(a) => crate::commands::access::account::run(&c, a, out)?,
    }
    Ok(ExitCode::SUCCESS)
}
