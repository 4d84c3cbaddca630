//! `andon identity` (identities, their tokens and keys) and `andon keygen` (a pipeline
//! identity's key pair).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};

/// `andon identity`.
#[derive(Subcommand, Debug)]
pub enum IdentityCmd {
    /// Create an identity and print its first token (shown once).
    Create {
        /// Name.
        name: String,
        /// admin, pipeline, approver or auditor.
        #[arg(long)]
        role: String,
        /// Applications a pipeline may submit evidence for (repeatable).
        #[arg(long = "app")]
        apps: Vec<String>,
        /// Approver groups an approver belongs to, e.g. dba (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// Register a public key (PEM file or base64) to an identity.
    AddKey {
        /// Identity.
        name: String,
        /// A private key file (its public half is sent) or a public key PEM file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Revoke a key by id.
    RevokeKey {
        /// Key id.
        keyid: String,
    },
    /// Who am I.
    Whoami,
}

/// `andon keygen`: writes a fresh private key to `path` and prints its public half.
pub fn keygen(path: &Path, out: Output) -> anyhow::Result<ExitCode> {
    let key = crate::cli::keys::generate()?;
    crate::cli::keys::save(path, &key)?;
    let public = key.verifying_key();
    let value = serde_json::json!({
        "private_key_file": path, "keyid": public.key_id(), "public_key": public.to_base64()
    });
    emit(out, &value, |_| {
        println!("wrote {}", path.display());
        println!("key id:     {}", public.key_id());
        println!("public key: {}", public.to_base64());
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an identity verb.
pub fn run(ctx: &Context, cmd: &IdentityCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        IdentityCmd::Create {
            name,
            role,
            apps,
            groups,
        } => {
            let issued = c.create_identity_in(name, role, apps, groups)?;
            emit(out, &issued, |i| {
                println!("created {} ({role}); its token, shown once:", i.identity);
                println!("{}", i.token);
            })?;
        }
        IdentityCmd::AddKey { name, key } => {
            let text = std::fs::read_to_string(key)?;
            let public = if text.contains("PRIVATE KEY") {
                andon_domain::SigningKey::from_pem(&text)?
                    .verifying_key()
                    .to_pem()
            } else {
                text
            };
            let k = c.register_key(name, &public)?;
            emit(out, &k, |k| {
                println!("registered key {} to {}", k.keyid, k.identity)
            })?;
        }
        IdentityCmd::RevokeKey { keyid } => {
            let r = c.revoke_key(keyid)?;
            emit(out, &r, |r| {
                println!("revoked key {keyid} (ledger entry {})", r.ledger_index)
            })?;
        }
        IdentityCmd::Whoami => {
            let w = c.whoami()?;
            emit(out, &w, |w| {
                println!("{} ({}) {}", w.name, w.role, w.applications.join(","))
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
