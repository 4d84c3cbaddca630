//! `andon env report`: what runs in an environment, read from a plain list, `kubectl get
//! pods -o json`, a directory of deployed files or the Kubernetes API, sent to Andon, which
//! compares it with what it deployed (docs/access.md).

pub mod kube;
pub mod workloads;

use std::path::PathBuf;
use std::process::ExitCode;

use andon_domain::api::SnapshotInput;
use anyhow::{Context as _, bail};

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit, plural};
use crate::commands::env::workloads::{
    workloads_from_dir, workloads_from_list, workloads_from_pods,
};

/// `andon env`.
#[derive(clap::Subcommand, Debug)]
pub enum EnvCmd {
    /// Report what runs in an environment; Andon compares it with what it deployed.
    #[command(group = clap::ArgGroup::new("scope").required(true).args(["app", "whole_environment"]))]
    Report {
        /// Environment.
        #[arg(long = "env")]
        environment: String,
        /// The application whose workloads these are (or --whole-environment).
        #[arg(long, env = "ANDON_APP")]
        app: Option<String>,
        /// These are all the workloads of the environment: every application's deployment
        /// not among them is reported missing (admins).
        #[arg(long)]
        whole_environment: bool,
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

fn read(path: &PathBuf) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading stdin")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Runs an env verb.
pub fn run(ctx: &Context, cmd: &EnvCmd, out: Output) -> anyhow::Result<ExitCode> {
    let EnvCmd::Report {
        environment,
        app,
        whole_environment,
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
            crate::commands::env::kube::ApiSource::in_cluster(
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
        let code = report_once(ctx, environment, app, *whole_environment, &source, out)?;
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
    api: Option<&'a crate::commands::env::kube::ApiSource>,
}

fn report_once(
    ctx: &Context,
    environment: &str,
    app: &Option<String>,
    whole_environment: bool,
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
            whole_environment,
            taken_at: None,
            source: source.into(),
            workloads,
            late: None,
        },
    )?;
    emit(out, &r, |r| {
        println!(
            "{} in {environment} recorded at ledger index {}",
            plural(
                r["workloads"].as_u64().unwrap_or(0),
                "workload",
                "workloads"
            ),
            r["ledger_index"]
        );
        for u in r["unauthorized"].as_array().into_iter().flatten() {
            let names: Vec<&str> = u["workloads"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|w| w.as_str())
                .collect();
            println!(
                "UNAUTHORIZED {} ({})",
                u["digest"].as_str().unwrap_or(""),
                names.join(", ")
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
