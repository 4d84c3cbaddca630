//! `andon token` (list and revoke tokens) and `andon enroll` (redeem an enrollment code).

use std::process::ExitCode;

use andon_domain::identity::TokenView;
use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};

/// `andon token`.
#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Tokens (never the secrets): admins and auditors see all, others their own.
    List {
        /// Only this identity's.
        #[arg(long)]
        identity: Option<String>,
    },
    /// Revoke a token by id: it is refused from now on, on every server.
    Revoke {
        /// The token's id (`tok_...`).
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// One token as a line: id, identity, issuer, state.
pub fn line(t: &TokenView) -> String {
    let issuer = if t.self_issued {
        "self-issued".to_owned()
    } else {
        format!("issued by {}", t.issued_by)
    };
    let state = match (&t.revoked, &t.expires_at) {
        (Some(r), _) => format!("revoked at entry {}: {}", r.ledger_index, r.reason),
        (None, Some(e)) => format!("expires {e}"),
        (None, None) => "no expiry".into(),
    };
    format!(
        "{} {:<16} {issuer:<20} entry {:<6} {state}",
        t.id, t.identity, t.ledger_index
    )
}

/// Runs a token verb.
pub fn run(ctx: &Context, cmd: &TokenCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        TokenCmd::List { identity } => {
            let list = c.list_tokens(identity.as_deref())?;
            emit(out, &list, |l| {
                for t in l {
                    println!("{}", line(t));
                }
            })?;
        }
        TokenCmd::Revoke { id, reason } => {
            let t = c.revoke_token(id, reason)?;
            emit(out, &t, |t| println!("{}", line(t)))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `andon enroll CODE`: redeems a one-time enrollment code for a token of one's own, shown
/// once (no token needed).
pub fn enroll(ctx: &Context, code: &str, out: Output) -> anyhow::Result<ExitCode> {
    let issued = client(ctx).enroll(code)?;
    emit(out, &issued, |i| {
        println!(
            "enrolled as {}; your token (shown once, expires {}):",
            i.identity,
            i.expires_at.as_deref().unwrap_or("never")
        );
        println!("{}", i.token);
    })?;
    Ok(ExitCode::SUCCESS)
}
