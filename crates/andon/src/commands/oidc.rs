//! `andon oidc`: the OpenID Connect issuers whose ID tokens are accepted, and the workload
//! rules that map CI jobs (by their token's claims) to pipeline identities.

use std::path::PathBuf;
use std::process::ExitCode;

use andon_domain::oidc::{OidcIssuer, WorkloadRule};
use anyhow::Context as _;
use clap::Subcommand;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// `andon oidc`.
#[derive(Subcommand, Debug)]
pub enum OidcCmd {
    /// Issuers: add (or replace) and list.
    #[command(subcommand)]
    Issuer(IssuerCmd),
    /// Workload rules: set, list, remove.
    #[command(subcommand)]
    Rule(RuleCmd),
}

/// `andon oidc issuer`.
#[derive(Subcommand, Debug)]
pub enum IssuerCmd {
    /// Trust an issuer's ID tokens (the same name replaces it). Its keys are read through
    /// OpenID discovery unless --jwks-file gives them.
    Add {
        /// Its name, e.g. github.
        name: String,
        /// The issuer exactly as its tokens say (https://token.actions.githubusercontent.com,
        /// https://gitlab.com).
        #[arg(long)]
        issuer: String,
        /// An audience accepted (repeat for more).
        #[arg(long = "audience", required = true)]
        audiences: Vec<String>,
        /// An algorithm accepted (RS256, ES256, EdDSA; all three unless given).
        #[arg(long = "algorithm")]
        algorithms: Vec<String>,
        /// The issuer's JWK set, for an install that cannot reach it.
        #[arg(long)]
        jwks_file: Option<PathBuf>,
        /// Clock skew tolerated, in seconds (60 unless given).
        #[arg(long)]
        clock_skew: Option<u32>,
    },
    /// The registered issuers.
    List,
}

/// `andon oidc rule`.
#[derive(Subcommand, Debug)]
pub enum RuleCmd {
    /// Map jobs of an issuer whose claims match to a pipeline identity (the same name
    /// replaces the rule).
    Set {
        /// The rule's name.
        name: String,
        /// The registered issuer's name.
        #[arg(long)]
        issuer: String,
        /// A claim the token must carry, `name=pattern` (`*` matches any run of characters;
        /// repeat for more, all must hold): repository=acme/shop, ref=refs/heads/*.
        #[arg(long = "claim", required = true)]
        claims: Vec<String>,
        /// The pipeline identity the job acts as.
        #[arg(long)]
        identity: String,
    },
    /// The rules.
    List,
    /// Remove a rule.
    Remove {
        /// The rule's name.
        name: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
}

/// Runs an oidc verb.
pub fn run(ctx: &Context, cmd: &OidcCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        OidcCmd::Issuer(IssuerCmd::Add {
            name,
            issuer,
            audiences,
            algorithms,
            jwks_file,
            clock_skew,
        }) => {
            let jwks = match jwks_file {
                Some(f) => Some(
                    serde_json::from_slice(
                        &std::fs::read(f).with_context(|| format!("reading {}", f.display()))?,
                    )
                    .with_context(|| format!("{} is not JSON", f.display()))?,
                ),
                None => None,
            };
            let config = OidcIssuer {
                issuer: issuer.clone(),
                audiences: audiences.clone(),
                algorithms: algorithms.clone(),
                jwks,
                clock_skew_seconds: *clock_skew,
            };
            let r = client(ctx).set_oidc_issuer(name, &config)?;
            emit(out, &r, |r| {
                println!(
                    "issuer {} registered: {} for audience {} (ledger entry {})",
                    r.name,
                    r.config.issuer,
                    r.config.audiences.join(", "),
                    r.ledger_index
                )
            })?;
        }
        OidcCmd::Issuer(IssuerCmd::List) => {
            let issuers = client(ctx).oidc_issuers()?;
            emit(out, &issuers, |issuers| {
                let mut t = Listing::new(&["name", "issuer", "audiences", "entry"], &["entry"]);
                for i in issuers {
                    let index = i.ledger_index.to_string();
                    t.row([
                        i.name.as_str(),
                        &i.config.issuer,
                        &i.config.audiences.join(","),
                        &index,
                    ]);
                }
                t.print("no issuers");
            })?;
        }
        OidcCmd::Rule(RuleCmd::Set {
            name,
            issuer,
            claims,
            identity,
        }) => {
            let claims = claims
                .iter()
                .map(|c| {
                    c.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                        .with_context(|| format!("--claim {c:?}: expected name=pattern"))
                })
                .collect::<anyhow::Result<_>>()?;
            let rule = WorkloadRule {
                issuer: issuer.clone(),
                claims,
                identity: identity.clone(),
            };
            let r = client(ctx).set_workload_rule(name, &rule)?;
            emit(out, &r, |r| {
                println!(
                    "rule {}: jobs of {} with {} act as {} (ledger entry {})",
                    r.name,
                    r.rule.issuer,
                    conditions(&r.rule),
                    r.rule.identity,
                    r.ledger_index
                )
            })?;
        }
        OidcCmd::Rule(RuleCmd::List) => {
            let rules = client(ctx).workload_rules()?;
            emit(out, &rules, |rules| {
                let mut t = Listing::new(
                    &["name", "issuer", "claims", "identity", "entry"],
                    &["entry"],
                );
                for r in rules {
                    let index = r.ledger_index.to_string();
                    t.row([
                        r.name.as_str(),
                        &r.rule.issuer,
                        &conditions(&r.rule),
                        &r.rule.identity,
                        &index,
                    ]);
                }
                t.print("no workload rules");
            })?;
        }
        OidcCmd::Rule(RuleCmd::Remove { name, reason }) => {
            let r = client(ctx).remove_workload_rule(name, reason)?;
            emit(out, &r, |r| {
                println!("rule {name} removed (ledger entry {})", r["ledger_index"])
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn conditions(rule: &WorkloadRule) -> String {
    rule.claims
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
