//! The command line as clap reads it: the client flags and one variant per verb, each
//! carrying the flags its module in `commands` (or `demo`, `bench`) defines.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cli::context::Context;
use crate::cli::output::Output;

/// Andon: automated governance for software delivery.
#[derive(Parser, Debug)]
#[command(name = "andon", version, about)]
pub struct Args {
    /// How to reach the server and print its answers.
    #[command(flatten)]
    pub client: ClientFlags,
    /// The verb.
    #[command(subcommand)]
    pub command: Command,
}

/// The flags of a client verb: accepted before the verb (`andon --server URL app list`) and
/// after it, and only by the verbs they apply to, so `andon serve --help` lists serve's own.
#[derive(clap::Args, Debug, Clone)]
pub struct ClientFlags {
    /// The Andon server.
    #[arg(long, env = "ANDON_SERVER", default_value = "http://127.0.0.1:8420")]
    pub server: String,
    /// API token (admin, pipeline, approver or auditor).
    #[arg(long, env = "ANDON_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A file holding the CI job's OpenID Connect ID token, used when no token is given
    /// (else `ANDON_ID_TOKEN`, else GitHub Actions' ID token request): exchanged once for a
    /// session of the pipeline a workload rule maps the job to.
    #[arg(long, env = "ANDON_ID_TOKEN_FILE")]
    pub id_token_file: Option<PathBuf>,
    /// The audience to ask GitHub Actions' ID token for (what the issuer's registration
    /// accepts).
    #[arg(
        long = "id-token-audience",
        env = "ANDON_AUDIENCE",
        default_value = "andon"
    )]
    pub audience: String,
    /// Output format of read verbs.
    #[arg(long, value_enum, default_value = "text")]
    pub output: Output,
    /// The profile to take the server, token and output from when not given otherwise
    /// (a section of ~/.config/andon/config.toml, or of the file ANDON_CONFIG names).
    #[arg(long, env = "ANDON_PROFILE")]
    pub profile: Option<String>,
}

/// The verbs that talk to no server and print nothing a format applies to.
const OWN_FLAGS_ONLY: [&str; 2] = ["serve", "completions"];
/// The verbs that talk to no server but print an answer in text or JSON.
const OUTPUT_ONLY: [&str; 3] = ["keygen", "backup", "restore"];

/// The command line: the verbs, each given the client flags that apply to it.
pub fn command() -> clap::Command {
    use clap::{Args as _, CommandFactory as _};
    let top = Args::command();
    let flags: Vec<clap::Arg> = ClientFlags::augment_args(clap::Command::new("flags"))
        .get_arguments()
        .map(|a| a.clone().global(true))
        .collect();
    let names: Vec<String> = top
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    names.into_iter().fold(top, |top, name| {
        if OWN_FLAGS_ONLY.contains(&name.as_str()) {
            return top;
        }
        let wanted: Vec<clap::Arg> = flags
            .iter()
            .filter(|a| !OUTPUT_ONLY.contains(&name.as_str()) || a.get_id() == "output")
            .cloned()
            .collect();
        top.mut_subcommand(name, |c| c.args(wanted))
    })
}

/// Where a client flag's value came from, the strongest first: typed after the verb, typed
/// before it, the environment.
fn given<'m, T: Clone + Send + Sync + 'static>(
    levels: &[&'m clap::ArgMatches],
    id: &str,
) -> Option<(&'m T, clap::parser::ValueSource)> {
    use clap::parser::ValueSource;
    let at = |wanted: ValueSource| {
        levels.iter().rev().find_map(|m| {
            let value = m.try_get_one::<T>(id).ok().flatten()?;
            let source = m.value_source(id).filter(|s| *s == wanted)?;
            Some((value, source))
        })
    };
    at(ValueSource::CommandLine).or_else(|| at(ValueSource::EnvVariable))
}

impl Args {
    /// Reads the command line, then fills what it and the environment left to their
    /// defaults from the profile (see [`crate::cli::profile`]).
    pub fn read() -> anyhow::Result<Self> {
        use clap::FromArgMatches as _;
        let matches = command().get_matches();
        let mut args = Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        let mut levels = vec![&matches];
        while let Some((_, sub)) = levels[levels.len() - 1].subcommand() {
            levels.push(sub);
        }
        let server = given::<String>(&levels, "server");
        let token = given::<String>(&levels, "token");
        let output = given::<Output>(&levels, "output");
        let profile = given::<String>(&levels, "profile").map(|(p, _)| p.clone());
        let id_token_file = given::<PathBuf>(&levels, "id_token_file").map(|(p, _)| p.clone());
        let audience = given::<String>(&levels, "audience").map(|(a, _)| a.clone());
        let p = crate::cli::profile::load(profile.as_deref())?;
        let c = &mut args.client;
        c.profile = profile;
        c.id_token_file = id_token_file;
        if let Some(a) = audience {
            c.audience = a;
        }
        match (server, p.server) {
            (Some((s, _)), _) => c.server = s.clone(),
            (None, Some(s)) => c.server = s,
            (None, None) => {}
        }
        c.token = token.map(|(t, _)| t.clone()).or(p.token);
        match (output, p.output) {
            (Some((o, _)), _) => c.output = *o,
            (None, Some(o)) => {
                c.output = clap::ValueEnum::from_str(&o, true).map_err(|_| {
                    anyhow::anyhow!("the profile's output {o:?} is not text or json")
                })?
            }
            (None, None) => {}
        }
        Ok(args)
    }

    /// The client flags, for the verbs.
    pub fn context(&self) -> Context {
        Context {
            server: self.client.server.clone(),
            token: self.client.token.clone(),
            output: self.client.output,
            job_key: None,
        }
    }
}

/// The verbs.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (SQLite under --data-dir unless --database says otherwise).
    Serve(Box<crate::commands::serve::ServeArgs>),
    /// Create a key pair for a pipeline identity (OpenSSL, pyca/cryptography and cosign's
    /// `import-key-pair` read it).
    Keygen {
        /// Where to write the private key (unencrypted PKCS#8 PEM, mode 0600).
        #[arg(long, default_value = "andon.key")]
        out: PathBuf,
        /// The key's algorithm.
        #[arg(long, value_enum, default_value_t = crate::commands::identity::KeygenAlgorithm::Ed25519)]
        algorithm: crate::commands::identity::KeygenAlgorithm,
    },
    /// Applications.
    #[command(subcommand)]
    App(crate::commands::app::AppCmd),
    /// Sigstore trusted roots, for keyless bundles.
    #[command(subcommand)]
    Sigstore(crate::commands::sigstore::SigstoreCmd),
    /// OpenID Connect issuers and the workload rules mapping CI jobs to pipelines.
    #[command(subcommand)]
    Oidc(crate::commands::oidc::OidcCmd),
    /// Identities, tokens and keys.
    #[command(subcommand)]
    Identity(crate::commands::identity::IdentityCmd),
    /// Tokens: list and revoke.
    #[command(subcommand)]
    Token(crate::commands::token::TokenCmd),
    /// Sign in through your organisation's identity provider (a code to enter in any
    /// browser); the session is kept in the profile.
    Login(crate::commands::login::LoginArgs),
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
    /// Vulnerabilities: the blast radius of a package or a CVE, and the items tracking each
    /// to its fix.
    #[command(subcommand)]
    Vuln(crate::commands::vuln::VulnCmd),
    /// Kubernetes admission: the clusters that ask Andon before a workload starts.
    #[command(subcommand)]
    Admission(crate::commands::admission::AdmissionCmd),
    /// Game days: drills that rehearse a change through the real pipeline, their time to
    /// production and their signed retrospectives.
    #[command(subcommand)]
    Drill(crate::commands::drill::DrillCmd),
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
        #[arg(long, env = "ANDON_DATABASE_URL")]
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
        #[arg(long, env = "ANDON_DATABASE_URL")]
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
