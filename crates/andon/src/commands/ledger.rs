//! `andon ledger`: the latest signed checkpoint, and an entry's inclusion proof.

use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};

/// `andon ledger`.
#[derive(Subcommand, Debug)]
pub enum LedgerCmd {
    /// Print the latest signed checkpoint.
    Checkpoint,
    /// Print and check the inclusion proof of an entry.
    Proof {
        /// Ledger index.
        #[arg(long)]
        index: u64,
        /// Tree size (default: latest).
        #[arg(long)]
        size: Option<u64>,
    },
}

/// Runs a ledger verb.
pub fn run(ctx: &Context, cmd: &LedgerCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        LedgerCmd::Checkpoint => {
            let info = client(ctx).ledger_info()?;
            emit(out, &info, |i| print!("{}", i.checkpoint))?;
            Ok(ExitCode::SUCCESS)
        }
        LedgerCmd::Proof { index, size } => crate::commands::verify::proof(ctx, *index, *size, out),
    }
}
