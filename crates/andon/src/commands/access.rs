//! `andon access` (break-glass requests and grants, the standing access register, access
//! debt) and `andon env report` (what runs in an environment), docs/access.md.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use andon_domain::access::Workload;
use andon_domain::api::{AccessRequestInput, AccountInput, AccountUseInput, SnapshotInput};
use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit, query};

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
    Account(AccountCmd),
}

/// `andon access account`.
#[derive(clap::Subcommand, Debug)]
pub enum AccountCmd {
    /// Register a persistent account and its owners (admin).
    Add {
        /// Its name.
        name: String,
        /// Environment.
        #[arg(long = "env")]
        environment: String,
        /// The application it reaches.
        #[arg(long)]
        app: Option<String>,
        /// A person who can use it (repeatable).
        #[arg(long = "owner", required = true)]
        owners: Vec<String>,
    },
    /// Record a use of it.
    Use {
        /// Its name.
        name: String,
        /// When (RFC 3339; default: now).
        #[arg(long)]
        at: Option<String>,
        /// Who used it.
        #[arg(long)]
        actor: Option<String>,
        /// Who reports it.
        #[arg(long)]
        source: Option<String>,
    },
    /// Retire it (admin).
    Retire {
        /// Its name.
        name: String,
    },
    /// The register.
    List,
}

fn print_request(r: &Value) {
    let s = |k: &str| r[k].as_str().unwrap_or("-").to_owned();
    println!(
        "{}\t{}\t{} {}/{}\t{} min\t{}\t{} ({})\t{}",
        s("id"),
        s("state"),
        s("level"),
        s("application"),
        s("environment"),
        r["minutes"],
        s("requested_by"),
        s("ticket"),
        s("reason"),
        r["expires_time"]
            .as_str()
            .map(|t| format!("until {t}"))
            .unwrap_or_default()
    );
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
            emit(out, &list, |l| l.iter().for_each(print_request))?;
        }
        AccessCmd::Grants { environment } => {
            let q: Vec<(&str, String)> = environment
                .iter()
                .map(|e| ("environment", e.clone()))
                .collect();
            let list = c.access_grants(&q)?;
            emit(out, &list, |l| {
                for g in l {
                    let s = |k: &str| g[k].as_str().unwrap_or("-").to_owned();
                    println!(
                        "{}\t{} {} {}/{}\tuntil {}\t{} (approved by {})",
                        s("request"),
                        s("holder"),
                        s("level"),
                        s("application"),
                        s("environment"),
                        s("expires_at"),
                        s("ticket"),
                        s("approved_by")
                    );
                }
            })?;
        }
        AccessCmd::Check => {
            let r = c.check_access()?;
            emit(out, &r, |r| println!("{} expiries recorded", r["expired"]))?;
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
                println!(
                    "{:<12} {:>7} {:>13} {:>13} {:>12}",
                    "from", "points", "account uses", "write grants", "read grants"
                );
                let rows = r["periods"].as_array().cloned().unwrap_or_default();
                for p in rows.iter().chain(std::iter::once(&r["total"])) {
                    println!(
                        "{:<12} {:>7} {:>13} {:>13} {:>12}",
                        if std::ptr::eq(p, &r["total"]) {
                            "all"
                        } else {
                            p["start"].as_str().unwrap_or("")
                        },
                        p["points"],
                        p["account_uses"],
                        p["write_grants"],
                        p["read_grants"]
                    );
                }
                if let Some(t) = r["trend"].as_str() {
                    println!("trend: {t} (zero is the elite score)");
                }
            })?;
        }
        AccessCmd::Standing => {
            let list = c.standing_access()?;
            emit(out, &list, |l| {
                if l.is_empty() {
                    println!("nobody has standing access to production");
                }
                for p in l {
                    println!(
                        "{}\t{}",
                        p["person"].as_str().unwrap_or(""),
                        p["accounts"]
                            .as_array()
                            .map(|a| a
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join(", "))
                            .unwrap_or_default()
                    );
                }
            })?;
        }
        AccessCmd::Account(a) => account(&c, a, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn account(c: &andon_client::Client, cmd: &AccountCmd, out: Output) -> anyhow::Result<()> {
    let show = |a: &andon_domain::access::StandingAccount| {
        println!(
            "{}\t{}{}\towners {}\t{} uses{}",
            a.name,
            a.environment,
            a.application
                .as_deref()
                .map(|x| format!(" ({x})"))
                .unwrap_or_default(),
            a.owners.join(", "),
            a.uses,
            if a.retired_at.is_some() {
                "\tretired"
            } else {
                ""
            }
        )
    };
    match cmd {
        AccountCmd::Add {
            name,
            environment,
            app,
            owners,
        } => {
            let a = c.register_account(&AccountInput {
                name: name.clone(),
                environment: environment.clone(),
                application: app.clone(),
                owners: owners.clone(),
            })?;
            emit(out, &a, show)?;
        }
        AccountCmd::Use {
            name,
            at,
            actor,
            source,
        } => {
            let a = c.account_used(
                name,
                &AccountUseInput {
                    at: at.clone(),
                    actor: actor.clone(),
                    source: source.clone(),
                },
            )?;
            emit(out, &a, show)?;
        }
        AccountCmd::Retire { name } => {
            let a = c.retire_account(name)?;
            emit(out, &a, show)?;
        }
        AccountCmd::List => {
            let list = c.accounts()?;
            emit(out, &list, |l| l.iter().for_each(show))?;
        }
    }
    Ok(())
}

/// `andon env`.
#[derive(clap::Subcommand, Debug)]
pub enum EnvCmd {
    /// Report what runs in an environment; Andon compares it with what it deployed.
    Report {
        /// Environment.
        #[arg(long = "env")]
        environment: String,
        /// Only this application's workloads are reported.
        #[arg(long, env = "ANDON_APP")]
        app: Option<String>,
        /// A plain list: one workload per line, `name image@sha256:...` (`-`: stdin).
        #[arg(long, group = "source")]
        list: Option<PathBuf>,
        /// The JSON of `kubectl get pods -o json` (`-`: stdin).
        #[arg(long, group = "source")]
        kubernetes: Option<PathBuf>,
        /// A directory of deployed files (a host's binaries): each regular file, by its
        /// path under the directory and the SHA-256 of its bytes.
        #[arg(long, group = "source")]
        dir: Option<PathBuf>,
        /// Read the pods of this namespace from the Kubernetes API with a service
        /// account's token (inside a cluster nothing else is needed).
        #[arg(long, group = "source")]
        kubernetes_namespace: Option<String>,
        /// The API server; default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
        #[arg(long, requires = "kubernetes_namespace")]
        kubernetes_server: Option<String>,
        /// The bearer token's file; default the service account's token.
        #[arg(long, requires = "kubernetes_namespace")]
        kubernetes_token_file: Option<PathBuf>,
        /// The cluster's CA (PEM); default the service account's ca.crt when present.
        #[arg(long, requires = "kubernetes_namespace")]
        kubernetes_ca_file: Option<PathBuf>,
        /// Only pods matching this label selector (`app=pay`).
        #[arg(long, requires = "kubernetes_namespace")]
        selector: Option<String>,
        /// Report again every this many seconds until stopped (the source is read afresh
        /// each time).
        #[arg(long)]
        watch: Option<u64>,
    },
}

/// Workloads from a directory of deployed files: `<relative path>` running
/// `<name>@sha256:<digest of the bytes>`, named by `prefix/<relative path>`.
pub fn workloads_from_dir(dir: &Path, prefix: &str) -> anyhow::Result<Vec<Workload>> {
    use sha2::Digest as _;
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                files.push(e.path());
            }
        }
    }
    files.sort();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
        let rel = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        out.push(Workload {
            name: rel.clone(),
            image: format!(
                "{prefix}/{rel}@sha256:{}",
                hex::encode(sha2::Sha256::digest(&bytes))
            ),
        });
    }
    Ok(out)
}

fn read(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Workloads from a plain list: `name image` per line, `#` comments.
pub fn workloads_from_list(text: &str) -> anyhow::Result<Vec<Workload>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some(name), Some(image), None) => out.push(Workload {
                name: name.to_owned(),
                image: image.to_owned(),
            }),
            _ => bail!("line {}: expected `name image@sha256:<hex>`", i + 1),
        }
    }
    Ok(out)
}

/// Workloads from `kubectl get pods -o json`: each running container, by its image
/// repository and the digest of `imageID` (what actually runs, whatever tag was asked for).
pub fn workloads_from_pods(json: &str) -> anyhow::Result<Vec<Workload>> {
    let v: Value = serde_json::from_str(json).context("not JSON from kubectl get pods -o json")?;
    workloads_from_pod_list(&v)
}

/// Workloads from a `PodList` (the API's answer, or kubectl's).
pub fn workloads_from_pod_list(v: &Value) -> anyhow::Result<Vec<Workload>> {
    let items = v["items"]
        .as_array()
        .context("no `items`: expected a kubectl PodList")?;
    let mut out = Vec::new();
    for pod in items {
        let pod_name = pod["metadata"]["name"].as_str().unwrap_or("pod");
        for status in pod["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let image_id = status["imageID"].as_str().unwrap_or("");
            let Some((_, digest)) = image_id.rsplit_once("@sha256:") else {
                continue;
            };
            let image = status["image"].as_str().unwrap_or("unknown");
            let repository = image.split('@').next().unwrap_or(image);
            let repository = match repository.rsplit_once(':') {
                Some((r, tag)) if !tag.contains('/') => r,
                _ => repository,
            };
            out.push(Workload {
                name: format!(
                    "{pod_name}/{}",
                    status["name"].as_str().unwrap_or("container")
                ),
                image: format!("{repository}@sha256:{digest}"),
            });
        }
    }
    Ok(out)
}

/// Runs an env verb.
pub fn env(ctx: &Context, cmd: &EnvCmd, out: Output) -> anyhow::Result<ExitCode> {
    let EnvCmd::Report {
        environment,
        app,
        list,
        kubernetes,
        dir,
        kubernetes_namespace,
        kubernetes_server,
        kubernetes_token_file,
        kubernetes_ca_file,
        selector,
        watch,
    } = cmd;
    let api = kubernetes_namespace
        .as_ref()
        .map(|ns| {
            crate::commands::kube::ApiSource::in_cluster(
                ns.clone(),
                kubernetes_server.clone(),
                kubernetes_token_file.clone(),
                kubernetes_ca_file.clone(),
                selector.clone(),
            )
        })
        .transpose()?;
    let source = Source {
        list,
        kubernetes,
        dir,
        api: api.as_ref(),
    };
    loop {
        let code = report_once(ctx, environment, app, &source, out)?;
        match watch {
            Some(s) => std::thread::sleep(std::time::Duration::from_secs((*s).max(1))),
            None => return Ok(code),
        }
    }
}

/// Where `env report` reads what runs (exactly one is given).
struct Source<'a> {
    list: &'a Option<PathBuf>,
    kubernetes: &'a Option<PathBuf>,
    dir: &'a Option<PathBuf>,
    api: Option<&'a crate::commands::kube::ApiSource>,
}

fn report_once(
    ctx: &Context,
    environment: &str,
    app: &Option<String>,
    from: &Source<'_>,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let (source, workloads) = match (from.list, from.kubernetes, from.dir, from.api) {
        (Some(p), ..) => ("list", workloads_from_list(&read(p)?)?),
        (None, Some(p), ..) => ("kubernetes", workloads_from_pods(&read(p)?)?),
        (None, None, Some(d), _) => (
            "hosts",
            workloads_from_dir(d, app.as_deref().unwrap_or("files"))?,
        ),
        (None, None, None, Some(api)) => ("kubernetes", api.workloads()?),
        (None, None, None, None) => {
            bail!("give --list, --kubernetes, --kubernetes-namespace or --dir")
        }
    };
    let r = client(ctx).report_snapshot(
        environment,
        &SnapshotInput {
            application: app.clone(),
            taken_at: None,
            source: source.into(),
            workloads,
        },
    )?;
    emit(out, &r, |r| {
        println!(
            "{} workloads in {environment} recorded at ledger index {}",
            r["workloads"], r["ledger_index"]
        );
        for u in r["unauthorized"].as_array().into_iter().flatten() {
            println!(
                "UNAUTHORIZED {} ({})",
                u["digest"].as_str().unwrap_or(""),
                u["workloads"]
            );
        }
        for m in r["missing"].as_array().into_iter().flatten() {
            println!(
                "MISSING {} {}",
                m["deployment"].as_str().unwrap_or(""),
                m["artifact"].as_str().unwrap_or("")
            );
        }
        crate::cli::output::print_alerts(r, "");
    })?;
    let drift = r["unauthorized"].as_array().is_some_and(|a| !a.is_empty())
        || r["missing"].as_array().is_some_and(|a| !a.is_empty());
    Ok(if drift {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_give_what_actually_runs() {
        let pods = r#"{"apiVersion":"v1","kind":"List","items":[
          {"metadata":{"name":"pay-7d9f-abc"},"status":{"containerStatuses":[
            {"name":"pay","image":"registry.example.com/pay:1.4.2",
             "imageID":"registry.example.com/pay@sha256:1111111111111111111111111111111111111111111111111111111111111111"},
            {"name":"proxy","image":"docker.io/envoyproxy/envoy:v1.30.1",
             "imageID":"docker-pullable://envoyproxy/envoy@sha256:2222222222222222222222222222222222222222222222222222222222222222"},
            {"name":"starting","image":"busybox","imageID":""}]}}]}"#;
        let w = workloads_from_pods(pods).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].name, "pay-7d9f-abc/pay");
        assert_eq!(
            w[0].image,
            "registry.example.com/pay@sha256:1111111111111111111111111111111111111111111111111111111111111111"
        );
        assert_eq!(
            w[1].image,
            "docker.io/envoyproxy/envoy@sha256:2222222222222222222222222222222222222222222222222222222222222222"
        );
    }

    #[test]
    fn a_directory_reports_each_file_by_its_digest() {
        let dir = std::env::temp_dir().join(format!("andon-dir-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::write(dir.join("bin/pay"), b"binary").unwrap();
        std::fs::write(dir.join("pay.conf"), b"conf").unwrap();
        let w = workloads_from_dir(&dir, "pay").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].name, "bin/pay");
        assert_eq!(
            w[0].image,
            "pay/bin/pay@sha256:9a3a45d01531a20e89ac6ae10b0b0beb0492acd7216a368aa062d1a5fecaf9cd"
        );
    }

    #[test]
    fn a_plain_list_reads_name_and_image() {
        let w =
            workloads_from_list("# host a\nweb registry.example.com/pay@sha256:ab\n\n").unwrap();
        assert_eq!(w.len(), 1);
        assert!(workloads_from_list("web").is_err());
    }
}
