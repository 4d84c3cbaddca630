//! `andon ledger`: the latest signed checkpoint, and an entry's inclusion proof.

use std::process::ExitCode;

use andon_ledger::NoteVerifier;
use anyhow::bail;
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
        LedgerCmd::Proof { index, size } => proof(ctx, *index, *size, out),
    }
}

/// `andon ledger proof`: fetch an inclusion proof and check it against the signed checkpoint.
fn proof(ctx: &Context, index: u64, size: Option<u64>, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    let info = c.ledger_info()?;
    let verifier = NoteVerifier::parse(&info.verifier_key)?;
    let cp = verifier.verify(&info.checkpoint)?;
    let p = c.inclusion_proof(index, size.or(Some(cp.size)))?;
    if p.tree_size != cp.size {
        bail!("proofs against older sizes need that size's checkpoint");
    }
    let ok = andon_client::check_inclusion(&p, &cp).is_ok();
    emit(out, &p, |p| {
        println!(
            "entry {} in tree of size {}: {}",
            p.index,
            p.tree_size,
            if ok {
                "included (proof verifies)"
            } else {
                "PROOF FAILS"
            }
        );
        println!("leaf hash {}", p.leaf_hash);
        for h in &p.proof {
            println!("  {h}");
        }
    })?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
