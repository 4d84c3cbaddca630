//! `andon token` (list and revoke tokens) and `andon enroll` (redeem an enrollment code).

use std::process::ExitCode;

use andon_domain::identity::TokenView;
use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

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

/// Tokens as a listing: id, identity, issuer, the entry that issued it, state.
pub fn listing(tokens: &[TokenView]) -> Listing {
    let mut l = Listing::new(
        &["id", "identity", "issued by", "entry", "state"],
        &["entry"],
    );
    for t in tokens {
        let issuer = if t.self_issued {
            "(self-issued)".to_owned()
        } else {
            t.issued_by.clone()
        };
        let state = match (&t.revoked, &t.expires_at) {
            (Some(r), _) => format!("revoked at entry {}: {}", r.ledger_index, r.reason),
            (None, Some(e)) => format!("expires {e}"),
            (None, None) => "no expiry".into(),
        };
        l.row([
            t.id.clone(),
            t.identity.clone(),
            issuer,
            t.ledger_index.to_string(),
            state,
        ]);
    }
    l
}

/// Runs a token verb.
pub fn run(ctx: &Context, cmd: &TokenCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        TokenCmd::List { identity } => {
            let list = c.list_tokens(identity.as_deref())?;
            emit(out, &list, |l| listing(l).print("no tokens"))?;
        }
        TokenCmd::Revoke { id, reason } => {
            let t = c.revoke_token(id, reason)?;
            emit(out, &t, |t| listing(std::slice::from_ref(t)).print(""))?;
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
