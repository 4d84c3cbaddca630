//! `andon attest`: build an in-toto statement, sign it into a DSSE envelope, send it.

use std::path::PathBuf;
use std::process::ExitCode;

use andon_domain::{ArtifactRef, Statement};
use anyhow::Context as _;

use crate::cli::{Args, client};
use crate::output::{Output, emit};

/// Evidence types.
#[derive(clap::Subcommand, Debug)]
pub enum AttestCmd {
    /// Any predicate type, sent as-is.
    Generic(GenericArgs),
}

/// Flags of `andon attest generic`.
#[derive(clap::Args, Debug)]
pub struct GenericArgs {
    /// Application the evidence belongs to.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// Subject, <name>@sha256:<hex> (repeatable).
    #[arg(long = "subject", required = true)]
    pub subjects: Vec<String>,
    /// Predicate type URI.
    #[arg(long)]
    pub predicate_type: String,
    /// Predicate JSON file ('-' for standard input).
    #[arg(long)]
    pub predicate: PathBuf,
    /// Pipeline run id.
    #[arg(long, env = "ANDON_RUN")]
    pub run: Option<String>,
    /// Signing key (PKCS#8 PEM).
    #[arg(long, env = "ANDON_KEY_FILE")]
    pub key: PathBuf,
}

pub fn run(args: &Args, cmd: &AttestCmd, out: Output) -> anyhow::Result<ExitCode> {
    let AttestCmd::Generic(g) = cmd;
    let key = crate::keys::load(&g.key)?;
    let mut subjects = Vec::new();
    for s in &g.subjects {
        let a: ArtifactRef = s.parse()?;
        subjects.push((a.name, a.digest));
    }
    let raw = if g.predicate.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(&g.predicate)
            .with_context(|| format!("reading {}", g.predicate.display()))?
    };
    let predicate: serde_json::Value = serde_json::from_str(&raw)
        .with_context(|| format!("{} is not JSON", g.predicate.display()))?;
    let statement = Statement::new(subjects, g.predicate_type.clone(), predicate);

    let receipt = client(args).submit_evidence(
        &g.app,
        g.run.as_deref(),
        Some("generic"),
        &statement.sign(&key),
    )?;
    emit(out, &receipt, |r| {
        println!(
            "{} evidence {} at ledger index {} (tree size {})",
            if r.existing {
                "already had"
            } else {
                "recorded"
            },
            r.id.as_deref().unwrap_or("-"),
            r.ledger_index,
            r.tree_size
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
