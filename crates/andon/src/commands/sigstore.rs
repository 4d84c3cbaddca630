//! `andon sigstore`: the Sigstore trusted roots keyless bundles are verified against.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// `andon sigstore`.
#[derive(Subcommand, Debug)]
pub enum SigstoreCmd {
    /// Sigstore trusted roots: add (or replace) and list.
    #[command(subcommand)]
    TrustedRoot(TrustedRootCmd),
}

/// `andon sigstore trusted-root`.
#[derive(Subcommand, Debug)]
pub enum TrustedRootCmd {
    /// Register a trusted root (`trusted_root.json` from Sigstore's TUF repository, or your
    /// private instance's) under a name; the same name replaces it.
    Add {
        /// Its name, e.g. public-good.
        name: String,
        /// The trusted_root.json file.
        #[arg(long)]
        file: PathBuf,
    },
    /// The registered trusted roots.
    List,
}

/// Runs a sigstore verb.
pub fn run(ctx: &Context, cmd: &SigstoreCmd, out: Output) -> anyhow::Result<ExitCode> {
    let SigstoreCmd::TrustedRoot(cmd) = cmd;
    match cmd {
        TrustedRootCmd::Add { name, file } => {
            let doc = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
            let r = client(ctx).set_trusted_root(name, &doc)?;
            emit(out, &r, |r| {
                println!(
                    "trusted root {} registered (sha256 {}; {} certificate authorities, {} transparency logs, {} CT logs, {} timestamp authorities; ledger entry {})",
                    r.name,
                    r.sha256,
                    r.certificate_authorities,
                    r.tlogs,
                    r.ctlogs,
                    r.timestamp_authorities,
                    r.ledger_index
                )
            })?;
        }
        TrustedRootCmd::List => {
            let roots = client(ctx).trusted_roots()?;
            emit(out, &roots, |roots| {
                let mut t = Listing::new(&["name", "sha256", "entry", "by"], &["entry"]);
                for r in roots {
                    let index = r.ledger_index.to_string();
                    t.row([r.name.as_str(), &r.sha256[..16], &index, &r.registered_by]);
                }
                t.print("no trusted roots");
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
