//! `andon identity` (identities, their tokens and keys) and `andon keygen` (a pipeline
//! identity's key pair).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// `andon identity`.
#[derive(Subcommand, Debug)]
pub enum IdentityCmd {
    /// Create an identity: a pipeline's first token, or a person's one-time enrollment
    /// code (`andon enroll CODE` issues their own token), shown once.
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
    /// Every identity, as the ledger made them.
    List,
    /// One identity with its tokens and keys.
    Show {
        /// Identity.
        name: String,
    },
    /// Disable an identity: its tokens and keys are refused from now on.
    Disable {
        /// Identity.
        name: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// A token for an identity, issued by you, the admin (shown once). It reads and acts,
    /// but approves nothing: only a token the identity issued itself approves.
    Token {
        /// Identity.
        name: String,
    },
    /// A new one-time enrollment code for a person (shown once).
    Enrollment {
        /// Identity.
        name: String,
    },
}

/// The algorithms `andon keygen` makes keys for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum KeygenAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA on P-256 with SHA-256, as cosign makes.
    EcdsaP256,
}

impl From<KeygenAlgorithm> for andon_domain::KeyAlgorithm {
    fn from(a: KeygenAlgorithm) -> Self {
        match a {
            KeygenAlgorithm::Ed25519 => andon_domain::KeyAlgorithm::Ed25519,
            KeygenAlgorithm::EcdsaP256 => andon_domain::KeyAlgorithm::EcdsaP256,
        }
    }
}

/// `andon keygen`: writes a fresh private key to `path` and prints its public half.
pub fn keygen(path: &Path, algorithm: KeygenAlgorithm, out: Output) -> anyhow::Result<ExitCode> {
    let key = andon_domain::PrivateKey::generate(algorithm.into())?;
    crate::cli::keys::save_pem(path, &key.to_pem())?;
    let public = key.public_key();
    let value = serde_json::json!({
        "private_key_file": path,
        "algorithm": public.algorithm().as_str(),
        "keyid": public.key_id(),
        "public_key": public.to_ledger_text(),
    });
    emit(out, &value, |_| {
        println!("wrote {}", path.display());
        println!("algorithm:  {}", public.algorithm());
        println!("key id:     {}", public.key_id());
        println!("public key: {}", public.to_ledger_text().trim_end());
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a new identity's token or enrollment code, shown once.
fn print_issued(i: &andon_domain::api::IssuedToken) {
    match &i.enrollment {
        Some(e) => {
            println!(
                "hand this one-time code to {}; they run `andon enroll <code>` for a token of their own (valid until {}, shown once):",
                i.identity, e.expires_at
            );
            println!("{}", e.code);
        }
        None => {
            println!("{}'s token, shown once:", i.identity);
            println!("{}", i.token);
        }
    }
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
            let issued = c.create_identity_only(name, role, apps, groups)?;
            emit(out, &issued, print_issued)?;
        }
        IdentityCmd::AddKey { name, key } => {
            let text = std::fs::read_to_string(key)?;
            let public = if text.contains("PRIVATE KEY") {
                andon_domain::PrivateKey::from_pem(&text)?
                    .public_key()
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
        IdentityCmd::List => {
            let list = c.list_identities()?;
            emit(out, &list, |l| {
                let mut t = Listing::new(
                    &["name", "role", "created by", "entry", "state"],
                    &["entry"],
                );
                for i in l {
                    let state = match &i.disabled {
                        Some(d) => format!("disabled at entry {}: {}", d.ledger_index, d.reason),
                        None => "enabled".into(),
                    };
                    t.row([
                        i.name.clone(),
                        i.role.clone(),
                        i.created_by.clone(),
                        i.ledger_index.to_string(),
                        state,
                    ]);
                }
                t.print("no identities");
            })?;
        }
        IdentityCmd::Show { name } => {
            let d = c.show_identity(name)?;
            emit(out, &d, |d| {
                let i = &d.identity;
                println!(
                    "{} ({}), created by {} at entry {}",
                    i.name, i.role, i.created_by, i.ledger_index
                );
                if let Some(x) = &i.disabled {
                    println!(
                        "disabled by {} at entry {}: {}",
                        x.by, x.ledger_index, x.reason
                    );
                }
                if !d.tokens.is_empty() {
                    println!();
                    crate::commands::token::listing(&d.tokens).print("");
                }
                if !d.keys.is_empty() {
                    println!();
                    let mut keys = Listing::new(&["key", "entry", "state"], &["entry"]);
                    for k in &d.keys {
                        let state = k
                            .revoked_index
                            .map_or("active".to_owned(), |r| format!("revoked at entry {r}"));
                        keys.row([k.keyid.clone(), k.ledger_index.to_string(), state]);
                    }
                    keys.print("");
                }
            })?;
        }
        IdentityCmd::Disable { name, reason } => {
            let i = c.disable_identity(name, reason)?;
            emit(out, &i, |i| {
                let at = i.disabled.as_ref().map_or(0, |d| d.ledger_index);
                println!("disabled {} (ledger entry {at})", i.name)
            })?;
        }
        IdentityCmd::Token { name } => {
            let issued = c.issue_token(name)?;
            emit(out, &issued, print_issued)?;
        }
        IdentityCmd::Enrollment { name } => {
            let issued = c.create_enrollment(name)?;
            emit(out, &issued, print_issued)?;
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
