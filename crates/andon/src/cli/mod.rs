//! The command line: verbs, flags, and dispatch.

pub mod keys;
pub mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use andon_client::{Client, EvidenceQuery};
use clap::{Parser, Subcommand};

use crate::cli::output::{Output, emit};

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
    #[command(subcommand)]
    pub command: Command,
}

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
    App(AppCmd),
    /// Identities, tokens and keys.
    #[command(subcommand)]
    Identity(IdentityCmd),
    /// Sign and send evidence.
    #[command(subcommand)]
    Attest(crate::commands::attest::AttestCmd),
    /// Search and read evidence.
    #[command(subcommand)]
    Evidence(EvidenceCmd),
    /// The ledger: checkpoints and proofs.
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Ask the release gate: may this artifact go to this environment? Exit 0 allow, 1 deny.
    Gate(crate::commands::gate::GateArgs),
    /// Recorded gate decisions: show, replay.
    #[command(subcommand)]
    Decision(crate::commands::gate::DecisionCmd),
    /// Policies: publish, list, test, evaluate locally.
    #[command(subcommand)]
    Policy(crate::commands::gate::PolicyCmd),
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
    Env(crate::commands::access::EnvCmd),
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
    Export(ExportCmd),
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
    /// Drive a realistic history against a live server.
    Demo(crate::demo::DemoArgs),
    /// Load benchmarks.
    #[command(subcommand)]
    Bench(crate::bench::BenchCmd),
}

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
}

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

#[derive(Subcommand, Debug)]
pub enum EvidenceCmd {
    /// List evidence, newest first.
    List {
        /// Application.
        #[arg(long)]
        app: Option<String>,
        /// Subject digest, sha256:<hex>.
        #[arg(long)]
        subject: Option<String>,
        /// Predicate type.
        #[arg(long)]
        predicate_type: Option<String>,
        /// Pipeline run.
        #[arg(long)]
        run: Option<String>,
        /// Signing identity.
        #[arg(long)]
        signer: Option<String>,
        /// Accepted at or after (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Accepted before (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Page cursor (from the previous page).
        #[arg(long)]
        before: Option<u64>,
        /// Page size.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one evidence record with its statement.
    Show {
        /// Evidence id (sha256 of the envelope).
        id: String,
    },
}

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

fn backup(database: &str, file: &PathBuf, out: Output) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let store = andon_store::Store::connect(database).await?;
        let mut w: Box<dyn std::io::Write> = if file.as_os_str() == "-" {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(file)
                    .with_context(|| format!("creating {}", file.display()))?,
            ))
        };
        let s = store.backup(&mut w).await?;
        w.flush()?;
        anyhow::Ok(s)
    })?;
    if file.as_os_str() != "-" {
        emit(out, &summary, |s| {
            println!(
                "backed up {} rows of {} tables ({} ledger entries, schema {}) to {}",
                s.rows,
                s.tables,
                s.ledger_entries,
                s.schema,
                file.display()
            )
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

fn restore(database: &str, file: &PathBuf, out: Output) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let store = andon_store::Store::connect(database).await?;
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        anyhow::Ok(store.restore(std::io::BufReader::new(f)).await?)
    })?;
    emit(out, &summary, |s| {
        println!(
            "restored {} rows of {} tables ({} ledger entries); start andon serve on it with the same log key, then run andon verify",
            s.rows, s.tables, s.ledger_entries
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn client(args: &Args) -> Client {
    // A busy server answers 429 with Retry-After: a pipeline step waits and tries again.
    Client::new(&args.server, args.token.clone()).retrying(5)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let out = args.output;
    match &args.command {
        Command::Serve(s) => crate::commands::serve::run(s),
        Command::Keygen { out: path } => {
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
        Command::App(AppCmd::Create { name, team }) => {
            let r = client(&args).create_application(name, team)?;
            emit(out, &r, |r| {
                println!(
                    "created application {name} (ledger entry {})",
                    r.ledger_index
                )
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::App(AppCmd::List) => {
            let apps = client(&args).list_applications()?;
            emit(out, &apps, |apps| {
                for a in apps {
                    println!(
                        "{}\tteam {}",
                        a["name"].as_str().unwrap_or(""),
                        a["team"].as_str().unwrap_or("")
                    );
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Identity(cmd) => identity(&args, cmd, out),
        Command::Attest(cmd) => crate::commands::attest::run(&args, cmd, out),
        Command::Evidence(EvidenceCmd::List {
            app,
            subject,
            predicate_type,
            run,
            signer,
            since,
            until,
            before,
            limit,
        }) => {
            let page = client(&args).list_evidence(&EvidenceQuery {
                app: app.clone(),
                subject: subject.clone(),
                predicate_type: predicate_type.clone(),
                run: run.clone(),
                signer: signer.clone(),
                since: since.clone(),
                until: until.clone(),
                before: *before,
                limit: Some(*limit),
            })?;
            emit(out, &page, |p| {
                for e in &p.evidence {
                    println!(
                        "#{}\t{}\t{}\t{}\t{}\t{}",
                        e.ledger_index,
                        e.accepted_at,
                        e.application,
                        e.predicate_type,
                        e.subjects.join(","),
                        e.id
                    );
                }
                if let Some(b) = p.next_before {
                    println!("(more: --before {b})");
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Evidence(EvidenceCmd::Show { id }) => {
            let e = client(&args).show_evidence(id)?;
            emit(out, &e, |e| {
                println!("evidence     {}", e.id);
                println!("ledger index {}", e.ledger_index);
                println!("application  {}", e.application);
                println!("run          {}", e.run.as_deref().unwrap_or("-"));
                println!("predicate    {}", e.predicate_type);
                println!("signer       {} (key {})", e.signer, e.keyid);
                println!("accepted     {}", e.accepted_at);
                for s in &e.subjects {
                    println!("subject      {s}");
                }
                if let Some(summary) = &e.summary {
                    println!("summary (derived by Andon from the report):");
                    println!(
                        "{}",
                        serde_json::to_string_pretty(summary).unwrap_or_default()
                    );
                }
                if let Some(st) = &e.statement {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&st["predicate"]).unwrap_or_default()
                    );
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger(LedgerCmd::Checkpoint) => {
            let info = client(&args).ledger_info()?;
            emit(out, &info, |i| print!("{}", i.checkpoint))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ledger(LedgerCmd::Proof { index, size }) => {
            crate::commands::verify::proof(&args, *index, *size, out)
        }
        Command::Trace(t) => crate::commands::trace::run(&args, t, out),
        Command::Gate(g) => crate::commands::gate::gate(&args, g, out),
        Command::Decision(d) => crate::commands::gate::decision(&args, d, out),
        Command::Policy(p) => crate::commands::gate::policy(&args, p, out),
        Command::Waiver(w) => crate::commands::gate::waiver(&args, w, out),
        Command::Deploy(d) => crate::commands::change::deploy(&args, d, out),
        Command::Change(c) => crate::commands::change::change(&args, c, out),
        Command::Metrics(m) => crate::commands::change::metrics(&args, m, out),
        Command::Telemetry(t) => crate::commands::telemetry::run(&args, t, out),
        Command::Backup {
            database,
            out: file,
        } => backup(database, file, out),
        Command::Restore { file, database } => restore(database, file, out),
        Command::Access(a) => crate::commands::access::run(&args, a, out),
        Command::Env(e) => crate::commands::access::env(&args, e, out),
        Command::Alerts {
            check,
            state,
            kind,
            app,
        } => {
            let q = crate::cli::output::query(&[
                ("state", state),
                ("kind", kind),
                ("application", app),
            ]);
            crate::commands::change::alerts(&args, *check, &q, out)
        }
        Command::Alert(a) => crate::commands::change::alert(&args, a, out),
        Command::Verify(v) => crate::commands::verify::run(&args, v, out),
        Command::Export(ExportCmd::Package(p)) => crate::commands::package::export(&args, p, out),
        Command::Export(ExportCmd::Controls(e)) => export_controls(&args, e),
        Command::Demo(d) => crate::demo::run(&args, d),
        Command::Bench(b) => crate::bench::run(&args, b),
    }
}

fn identity(args: &Args, cmd: &IdentityCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(args);
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

/// `andon export`.
#[derive(clap::Subcommand, Debug)]
pub enum ExportCmd {
    /// One archive with an application's ledger entries of a period, their documents,
    /// inclusion proofs, a signed checkpoint, each control's effectiveness and an offline
    /// report.
    Package(crate::commands::package::PackageArgs),
    /// The Risk Control Matrix of an application: each control, its risk, frameworks and
    /// effectiveness over a period, as CSV, JSON or OSCAL 1.2.3.
    Controls(ControlsExport),
}

/// `andon export controls`.
#[derive(clap::Args, Debug)]
pub struct ControlsExport {
    /// The application.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// The environment whose policy applies.
    #[arg(long, default_value = "production")]
    pub env: String,
    /// From this time (RFC 3339), inclusive; default 90 days ago.
    #[arg(long)]
    pub since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    #[arg(long)]
    pub until: Option<String>,
    /// What to write.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ControlsFormat,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The forms of the Risk Control Matrix.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ControlsFormat {
    /// CSV, a row per control.
    Csv,
    /// JSON, as `GET /v1/controls` answers.
    Json,
    /// OSCAL assessment results: each control's effectiveness over the period.
    OscalAssessmentResults,
    /// OSCAL component definition: the controls and the framework requirements they meet.
    OscalComponentDefinition,
}

fn export_controls(args: &Args, e: &ControlsExport) -> anyhow::Result<ExitCode> {
    let mut query = vec![
        ("application", e.app.clone()),
        ("environment", e.env.clone()),
    ];
    query.extend(e.since.clone().map(|s| ("since", s)));
    query.extend(e.until.clone().map(|u| ("until", u)));
    let path = match e.format {
        ControlsFormat::Csv => {
            query.push(("format", "csv".into()));
            "/v1/controls"
        }
        ControlsFormat::Json => "/v1/controls",
        ControlsFormat::OscalAssessmentResults => "/v1/controls/oscal/assessment-results",
        ControlsFormat::OscalComponentDefinition => "/v1/controls/oscal/component-definition",
    };
    let body = client(args).controls_document(path, &query)?;
    match &e.out {
        Some(p) => {
            std::fs::write(p, &body)?;
            eprintln!("wrote {} ({} bytes)", p.display(), body.len());
        }
        None => print!("{body}"),
    }
    Ok(ExitCode::SUCCESS)
}
