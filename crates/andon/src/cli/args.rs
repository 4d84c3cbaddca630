//! The command line as clap reads it: the global flags and one variant per verb, each
//! carrying the flags its module in `commands` (or `demo`, `bench`) defines.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cli::context::Context;
use crate::cli::output::Output;

/// Andon: automated governance for software delivery.
#[derive(Parser, Debug)]
#[command(name = "andon", version, about)]
pub struct Args {
    /// The Andon server.
    #[arg(
        long,
        global = true,
        env = "ANDON_SERVER",
        default_value = "http://127.0.0.1:8420"
    )]
    pub server: String,
    /// API token (admin, pipeline, approver or auditor).
    #[arg(long, global = true, env = "ANDON_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Output format of read verbs.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: Output,
    /// The profile to take the server, token and output from when not given otherwise
    /// (a section of ~/.config/andon/config.toml, or of the file ANDON_CONFIG names).
    #[arg(long, global = true, env = "ANDON_PROFILE")]
    pub profile: Option<String>,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

impl Args {
    /// Reads the command line, then fills what it and the environment left to their
    /// defaults from the profile (see [`crate::cli::profile`]).
    pub fn read() -> anyhow::Result<Self> {
        use clap::parser::ValueSource;
        use clap::{CommandFactory as _, FromArgMatches as _};
        let matches = Self::command().get_matches();
        let mut args = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let defaulted = |id: &str| {
            !matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        };
        let p = crate::cli::profile::load(args.profile.as_deref())?;
        if let Some(server) = p.server.filter(|_| defaulted("server")) {
            args.server = server;
        }
        if args.token.is_none() {
            args.token = p.token;
        }
        if let Some(o) = p.output.filter(|_| defaulted("output")) {
            args.output = clap::ValueEnum::from_str(&o, true)
                .map_err(|_| anyhow::anyhow!("the profile's output {o:?} is not text or json"))?;
        }
        Ok(args)
    }

    /// The global flags, for the verbs.
    pub fn context(&self) -> Context {
        Context {
            server: self.server.clone(),
            token: self.token.clone(),
            output: self.output,
        }
    }
}

/// The verbs.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (SQLite under --data-dir unless --database says otherwise).
    Serve(crate::commands::serve::ServeArgs),
    /// Create an Ed25519 key pair for a pipeline identity.
    Keygen {
        /// Where to write the private key (PKCS#8 PEM, mode 0600).
        #[arg(long, default_value = "andon.key")]
        out: PathBuf,
    },
    /// Applications.
    #[command(subcommand)]
    App(crate::commands::app::AppCmd),
    /// Identities, tokens and keys.
    #[command(subcommand)]
    Identity(crate::commands::identity::IdentityCmd),
    /// Tokens: list and revoke.
    #[command(subcommand)]
    Token(crate::commands::token::TokenCmd),
    /// Redeem a one-time enrollment code for a token of your own.
    Enroll {
        /// The code an admin handed you.
        code: String,
    },
    /// Sign and send evidence.
    #[command(subcommand)]
    Attest(crate::commands::attest::AttestCmd),
    /// Search and read evidence.
    #[command(subcommand)]
    Evidence(crate::commands::evidence::EvidenceCmd),
    /// The ledger: checkpoints and proofs.
    #[command(subcommand)]
    Ledger(crate::commands::ledger::LedgerCmd),
    /// Ask the release gate: may this artifact go to this environment? Exit 0 allow, 1 deny.
    Gate(crate::commands::gate::GateArgs),
    /// Recorded gate decisions: show, replay.
    #[command(subcommand)]
    Decision(crate::commands::gate::DecisionCmd),
    /// Policies: publish, list, test, evaluate locally.
    #[command(subcommand)]
    Policy(crate::commands::policy::PolicyCmd),
    /// Waivers: request, approve, list.
    #[command(subcommand)]
    Waiver(crate::commands::gate::WaiverCmd),
    /// Deployments: record one, mark it failed, rolled back or restored, list them.
    #[command(subcommand)]
    Deploy(crate::commands::change::DeployCmd),
    /// Change records: list, show the request for change, approve, reject.
    #[command(subcommand)]
    Change(crate::commands::change::ChangeCmd),
    /// DORA's four keys per period, with their bands, for an application or a team.
    Metrics(crate::commands::change::MetricsArgs),
    /// Production access: break-glass requests and grants, standing accounts, access debt.
    #[command(subcommand)]
    Access(crate::commands::access::AccessCmd),
    /// Environments: report what runs (drift against what was deployed).
    #[command(subcommand)]
    Env(crate::commands::env::EnvCmd),
    /// Security telemetry: send events, search them, show the rules.
    #[command(subcommand)]
    Telemetry(crate::commands::telemetry::TelemetryCmd),
    /// Alerts (gate bypasses, overdue reviews, telemetry rules), newest first.
    Alerts {
        /// First look for overdue emergency reviews now (admin).
        #[arg(long)]
        check: bool,
        /// Only open, acknowledged or resolved ones.
        #[arg(long)]
        state: Option<String>,
        /// Only this kind (gate_bypass, unauthorized_change, error_spike, ...).
        #[arg(long)]
        kind: Option<String>,
        /// Only this application's.
        #[arg(long)]
        app: Option<String>,
    },
    /// Acknowledge or resolve an alert.
    #[command(subcommand)]
    Alert(crate::commands::change::AlertCmd),
    /// Follow a commit or an artifact back to its pull requests, reviews, tickets and
    /// deployments.
    Trace(crate::commands::trace::TraceArgs),
    /// Recompute and check the whole ledger (an auditor's command).
    Verify(crate::commands::verify::VerifyArgs),
    /// Exports for auditors: an audit package of an application and period, verifiable
    /// offline with `andon verify --package`.
    #[command(subcommand)]
    Export(crate::commands::export::ExportCmd),
    /// Write a consistent snapshot of the database (while the server runs) to a file.
    Backup {
        /// The database (sqlite://... or postgres://...).
        #[arg(long, env = "ANDON_DATABASE")]
        database: String,
        /// The backup file (JSON lines; `-`: standard output).
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild an empty database (either backend) from a backup file; then start the
    /// server on it with the same log key.
    Restore {
        /// The backup file.
        file: PathBuf,
        /// The empty database to restore into.
        #[arg(long, env = "ANDON_DATABASE")]
        database: String,
    },
    /// Print a shell completion script: `andon completions bash > /etc/bash_completion.d/andon`,
    /// `andon completions zsh > "${fpath[1]}/_andon"`, `andon completions fish >
    /// ~/.config/fish/completions/andon.fish`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Drive a realistic history against a live server.
    Demo(crate::demo::DemoArgs),
    /// Load benchmarks.
    #[command(subcommand)]
    Bench(crate::bench::BenchCmd),
}
