//! `andon app`: applications, each owned by a team.

use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// `andon app`.
#[derive(Subcommand, Debug)]
pub enum AppCmd {
    /// Create an application.
    Create {
        /// Name.
        name: String,
        /// Owning team.
        #[arg(long)]
        team: String,
    },
    /// List applications.
    List,
    /// Set how many of the application's registered keys must sign each envelope.
    SigningPolicy {
        /// Application.
        name: String,
        /// Distinct registered keys whose signatures must verify (1 to 16).
        #[arg(long)]
        threshold: u32,
    },
}

/// Runs an app verb.
pub fn run(ctx: &Context, cmd: &AppCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        AppCmd::Create { name, team } => {
            let r = client(ctx).create_application(name, team)?;
            emit(out, &r, |r| {
                println!(
                    "created application {name} (ledger entry {})",
                    r.ledger_index
                )
            })?;
            Ok(ExitCode::SUCCESS)
        }
        AppCmd::SigningPolicy { name, threshold } => {
            let r = client(ctx).set_signing_policy(name, *threshold)?;
            emit(out, &r, |r| {
                println!(
                    "application {name}: {} registered key(s) must sign each envelope (ledger entry {})",
                    r.threshold, r.receipt.ledger_index
                )
            })?;
            Ok(ExitCode::SUCCESS)
        }
        AppCmd::List => {
            let apps = client(ctx).list_applications()?;
            emit(out, &apps, |apps| {
                let mut t = Listing::new(&["name", "team", "signing keys"], &["signing keys"]);
                for a in apps {
                    let threshold = a["signing_threshold"].as_u64().unwrap_or(1).to_string();
                    t.row([
                        a["name"].as_str().unwrap_or(""),
                        a["team"].as_str().unwrap_or(""),
                        threshold.as_str(),
                    ]);
                }
                t.print("no applications");
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
