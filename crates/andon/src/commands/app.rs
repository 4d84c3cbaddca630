//! `andon app`: applications, each owned by a team.

use std::process::ExitCode;

use andon_domain::api::SchemaValidation;
use andon_domain::sigstore::{IdentityRule, KeylessPolicy};
use anyhow::Context as _;
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
    /// Set whether the application's SBOMs that break their format's official schema are
    /// refused (strict, the default) or recorded with their errors (lenient).
    EvidencePolicy {
        /// Application.
        name: String,
        /// strict or lenient.
        #[arg(long, value_parser = ["strict", "lenient"])]
        schema_validation: String,
    },
    /// Set which keyless signers (Sigstore bundles) may sign the application's evidence:
    /// one rule from the flags, or a whole policy from a file; replaces the policy.
    KeylessPolicy(KeylessArgs),
    /// Set the application's risk level (low, medium, high, critical): the drill-recent
    /// control holds high and critical applications to a recent drill.
    Risk {
        /// Application.
        name: String,
        /// low, medium, high or critical.
        #[arg(value_parser = ["low", "medium", "high", "critical"])]
        risk: String,
    },
}

/// Flags of `andon app keyless-policy`.
#[derive(clap::Args, Debug)]
pub struct KeylessArgs {
    /// Application.
    pub name: String,
    /// The OIDC issuer, e.g. https://token.actions.githubusercontent.com.
    #[arg(long, required_unless_present_any = ["file", "none"])]
    pub issuer: Option<String>,
    /// The certificate identity, exactly (for GitHub Actions, the workflow:
    /// https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main).
    #[arg(long, conflicts_with = "identity_regex")]
    pub identity: Option<String>,
    /// A regular expression the whole certificate identity must match.
    #[arg(long)]
    pub identity_regex: Option<String>,
    /// A certificate claim that must hold, NAME=VALUE (repeatable), e.g.
    /// runner_environment=github-hosted or source_repository_ref=refs/heads/main.
    #[arg(long = "claim")]
    pub claims: Vec<String>,
    /// A JSON policy file: {"identities": [{"issuer", "identity" | "identity_regex", "claims"}]}.
    #[arg(long, conflicts_with_all = ["issuer", "none"])]
    pub file: Option<std::path::PathBuf>,
    /// Accept no keyless signer any more.
    #[arg(long, conflicts_with = "issuer")]
    pub none: bool,
}

fn keyless_policy(a: &KeylessArgs) -> anyhow::Result<KeylessPolicy> {
    if let Some(f) = &a.file {
        let raw = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        return serde_json::from_slice(&raw)
            .with_context(|| format!("{} is not a keyless policy", f.display()));
    }
    let Some(issuer) = a.issuer.clone().filter(|_| !a.none) else {
        return Ok(KeylessPolicy::default());
    };
    let mut claims = std::collections::BTreeMap::new();
    for c in &a.claims {
        let (k, v) = c
            .split_once('=')
            .with_context(|| format!("--claim {c:?}: expected NAME=VALUE"))?;
        claims.insert(k.to_owned(), v.to_owned());
    }
    Ok(KeylessPolicy {
        identities: vec![IdentityRule {
            issuer,
            identity: a.identity.clone(),
            identity_regex: a.identity_regex.clone(),
            claims,
        }],
    })
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
        AppCmd::Risk { name, risk } => {
            let r = client(ctx).set_application_risk(name, risk)?;
            emit(out, &r, |r| match r["ledger_index"].as_u64() {
                Some(i) => println!("application {name}: risk {risk} (ledger entry {i})"),
                None => println!("application {name}: risk {risk} (unchanged)"),
            })?;
            Ok(ExitCode::SUCCESS)
        }
        AppCmd::EvidencePolicy {
            name,
            schema_validation,
        } => {
            let mode = if schema_validation == "lenient" {
                SchemaValidation::Lenient
            } else {
                SchemaValidation::Strict
            };
            let r = client(ctx).set_evidence_policy(name, mode)?;
            emit(out, &r, |r| {
                println!(
                    "application {name}: SBOMs that break their schema are {} (ledger entry {})",
                    if r.schema_validation == SchemaValidation::Lenient {
                        "recorded with their errors"
                    } else {
                        "refused"
                    },
                    r.receipt.ledger_index
                )
            })?;
            Ok(ExitCode::SUCCESS)
        }
        AppCmd::KeylessPolicy(a) => {
            let policy = keyless_policy(a)?;
            let r = client(ctx).set_keyless_policy(&a.name, &policy)?;
            emit(out, &r, |r| {
                println!(
                    "application {}: {} keyless signer rule(s) (ledger entry {})",
                    r.application,
                    r.policy.identities.len(),
                    r.receipt.ledger_index
                );
                for rule in &r.policy.identities {
                    let who = rule
                        .identity
                        .clone()
                        .or_else(|| rule.identity_regex.as_ref().map(|r| format!("/{r}/")))
                        .unwrap_or_default();
                    println!("  {} {}", rule.issuer, who);
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        AppCmd::List => {
            let apps = client(ctx).list_applications()?;
            emit(out, &apps, |apps| {
                let mut t = Listing::new(
                    &["name", "team", "signing keys", "keyless rules", "schemas"],
                    &["signing keys", "keyless rules"],
                );
                for a in apps {
                    let threshold = a["signing_threshold"].as_u64().unwrap_or(1).to_string();
                    let keyless = a["keyless_policy"]["identities"]
                        .as_array()
                        .map_or(0, Vec::len)
                        .to_string();
                    t.row([
                        a["name"].as_str().unwrap_or(""),
                        a["team"].as_str().unwrap_or(""),
                        threshold.as_str(),
                        keyless.as_str(),
                        a["schema_validation"].as_str().unwrap_or("strict"),
                    ]);
                }
                t.print("no applications");
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
