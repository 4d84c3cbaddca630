//! `andon admission`: the clusters whose Kubernetes API servers ask Andon before a workload
//! starts, and what was refused (docs/admission.md).

use std::process::ExitCode;

use andon_domain::admission::{AdmissionEvent, Cluster, ClusterInput};

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};
use crate::commands::change::time;

/// `andon admission …`.
#[derive(clap::Subcommand, Debug)]
pub enum AdmissionCmd {
    /// Register a cluster, or change its environment or mode (admins). The first
    /// registration prints the token its API server must send, once.
    Cluster {
        /// The cluster's name: the webhook is `/k8s/admission/v1/NAME`.
        name: String,
        /// The environment it runs.
        #[arg(long)]
        env: String,
        /// `audit` (admit and record what would be refused) or `enforce` (refuse).
        #[arg(long, default_value = "audit")]
        mode: String,
        /// How old an allowing gate decision may be, in days.
        #[arg(long)]
        max_decision_age_days: Option<u32>,
        /// Issue a new token (the old one stops working).
        #[arg(long)]
        new_token: bool,
    },
    /// The registered clusters.
    Clusters,
    /// Workloads refused, or admitted in audit mode though enforce would refuse them.
    Events {
        /// Only this cluster's.
        #[arg(long)]
        cluster: Option<String>,
    },
}

/// Runs `andon admission`.
pub fn run(ctx: &Context, cmd: &AdmissionCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        AdmissionCmd::Cluster {
            name,
            env,
            mode,
            max_decision_age_days,
            new_token,
        } => {
            let cluster = c.set_admission_cluster(
                name,
                &ClusterInput {
                    environment: env.clone(),
                    mode: mode.clone(),
                    max_decision_age_days: *max_decision_age_days,
                    new_token: *new_token,
                },
            )?;
            emit(out, &cluster, |cl| {
                print_cluster(cl);
                if let Some(t) = &cl.token {
                    println!("token (shown once; the API server sends it as a bearer token): {t}");
                }
            })?;
        }
        AdmissionCmd::Clusters => {
            let list = c.admission_clusters()?;
            emit(out, &list, |l| {
                if l.is_empty() {
                    println!("no clusters registered");
                }
                l.iter().for_each(print_cluster);
            })?;
        }
        AdmissionCmd::Events { cluster } => {
            let list = c.admission_events(cluster.as_deref())?;
            emit(out, &list, |l| {
                if l.is_empty() {
                    println!("nothing refused");
                }
                l.iter().for_each(print_event);
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_cluster(c: &Cluster) {
    println!(
        "{}: {} in {}, decisions up to {} days old (entry {})",
        c.name, c.mode, c.environment, c.max_decision_age_days, c.ledger_index
    );
}

fn print_event(e: &AdmissionEvent) {
    println!(
        "#{} {} {} {} {} {}/{} by {}",
        e.ledger_index,
        time(Some(e.at)),
        e.cluster,
        if e.enforced {
            "REFUSED"
        } else {
            "would refuse"
        },
        e.kind,
        e.namespace,
        e.name,
        e.user
    );
    for i in &e.images {
        println!(
            "    {} {}: {} (control {})",
            i.container, i.image, i.reason, i.control
        );
    }
}
