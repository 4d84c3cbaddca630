//! `andon gate`, `andon decision`, `andon policy`, `andon waiver`: release gates from the
//! command line. A gate exits 0 on allow, 1 on deny, 2 on error.

use std::process::ExitCode;

use andon_domain::api::{DecisionView, GateRequest, WaiverRequest};
use andon_domain::gate::{DECISION_PAYLOAD_TYPE, DecisionDoc, Verdict};
use andon_policy::{Bundle, Policy};
use anyhow::bail;

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit};

/// Flags of `andon gate`.
#[derive(clap::Args, Debug)]
pub struct GateArgs {
    /// Application.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// The artifact, <name>@sha256:<hex>.
    #[arg(long)]
    pub artifact: String,
    /// Target environment.
    #[arg(long = "env")]
    pub environment: String,
    /// Treat the environment as production (default: names starting with "prod").
    #[arg(long, overrides_with = "not_production")]
    pub production: bool,
    /// Treat the environment as non-production.
    #[arg(long)]
    pub not_production: bool,
    /// Production: deploy as an emergency change, for this reason (reviewed afterwards).
    #[arg(long)]
    pub emergency: Option<String>,
    /// Production: the change type the change rules class (default: application).
    #[arg(long)]
    pub change_type: Option<String>,
    /// Production: the change's risk, for the request for change.
    #[arg(long)]
    pub risk: Option<String>,
    /// Production: how to roll back, for the request for change.
    #[arg(long)]
    pub rollback_plan: Option<String>,
    /// Production: a path the change touches (repeatable; migrations make a change normal).
    #[arg(long = "path")]
    pub paths: Vec<String>,
    /// Production: a script the change runs, `NAME` or `NAME=FILE` with FILE its dry-run
    /// output (repeatable).
    #[arg(long = "script")]
    pub scripts: Vec<String>,
    /// Production: when the change's planned window starts (RFC 3339); maintenance mode
    /// switched outside every planned window is alerted.
    #[arg(long, requires = "planned_end")]
    pub planned_start: Option<String>,
    /// Production: when the planned window ends (RFC 3339).
    #[arg(long, requires = "planned_start")]
    pub planned_end: Option<String>,
}

impl GateArgs {
    /// The change fields the pipeline gave, if any.
    fn change_fields(&self) -> anyhow::Result<Option<andon_domain::change::ChangeFields>> {
        let mut scripts = Vec::new();
        for s in &self.scripts {
            let (name, dry_run) = match s.split_once('=') {
                Some((n, file)) => (
                    n.to_owned(),
                    Some(std::fs::read_to_string(file).map_err(|e| {
                        anyhow::anyhow!("cannot read the dry-run output {file}: {e}")
                    })?),
                ),
                None => (s.clone(), None),
            };
            scripts.push(andon_domain::change::Script { name, dry_run });
        }
        let fields = andon_domain::change::ChangeFields {
            change_type: self.change_type.clone(),
            risk: self.risk.clone(),
            rollback_plan: self.rollback_plan.clone(),
            scripts,
            paths: self.paths.clone(),
            planned_start: self.planned_start.clone(),
            planned_end: self.planned_end.clone(),
        };
        Ok((fields != Default::default()).then_some(fields))
    }
}

/// `andon decision`.
#[derive(clap::Subcommand, Debug)]
pub enum DecisionCmd {
    /// Show a recorded decision.
    Show {
        /// Decision id.
        id: String,
    },
    /// Re-evaluate a decision's recorded input with its recorded policy version, here, and
    /// check the verdict is the same (and the decision's signature).
    Replay {
        /// Decision id.
        id: String,
    },
}

/// `andon waiver`.
#[derive(clap::Subcommand, Debug)]
pub enum WaiverCmd {
    /// Ask for a time-bounded exception to one control (or one vulnerability).
    Request {
        /// Application.
        #[arg(long, env = "ANDON_APP")]
        app: String,
        /// Control id.
        #[arg(long)]
        control: String,
        /// One vulnerability id (for the vulnerabilities control).
        #[arg(long)]
        vulnerability: Option<String>,
        /// Why the exception is acceptable.
        #[arg(long)]
        reason: String,
        /// The ticket tracking the fix.
        #[arg(long)]
        ticket: String,
        /// How long it lasts once approved.
        #[arg(long, default_value_t = 72)]
        hours: u32,
    },
    /// Approve a waiver (not your own).
    Approve {
        /// Waiver id.
        id: String,
    },
    /// List waivers.
    List {
        /// Application.
        #[arg(long)]
        app: Option<String>,
    },
}

pub(crate) fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "FAIL",
        Verdict::Missing => "MISSING",
        Verdict::Waived => "waived",
        Verdict::NotApplicable => "n/a",
        Verdict::Error => "ERROR",
    }
}

pub(crate) fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Prints a decision as a table, with what to do about each failing control.
pub fn print_decision(d: &DecisionView) {
    let doc = &d.decision;
    println!(
        "{} {} to {} (application {}, policy {} {})",
        if doc.allow { "ALLOW" } else { "DENY" },
        doc.artifact,
        doc.environment,
        doc.application,
        doc.policy.name,
        short(&doc.policy.version)
    );
    let width = doc.controls.iter().map(|c| c.id.len()).max().unwrap_or(8);
    for c in &doc.controls {
        let evidence: Vec<&str> = c.evidence.iter().map(|e| short(e)).collect();
        println!(
            "  {:<width$}  {:<7}  {}{}",
            c.id,
            mark(c.verdict),
            c.reason,
            if evidence.is_empty() {
                String::new()
            } else {
                format!("  [{}]", evidence.join(", "))
            }
        );
    }
    let blocking: Vec<&str> = doc
        .controls
        .iter()
        .filter(|c| !c.verdict.allows())
        .map(|c| c.id.as_str())
        .collect();
    if !blocking.is_empty() {
        println!("what to do:");
        for c in doc.controls.iter().filter(|c| !c.verdict.allows()) {
            println!("  {:<width$}  {}", c.id, advice(&c.id, c.verdict));
        }
    }
    println!("decision {} (ledger entry {})", d.id, d.ledger_index);
}

/// One line of advice per control, for a denied release.
fn advice(control: &str, v: Verdict) -> String {
    let missing = v == Verdict::Missing;
    match (control, missing) {
        ("tests-pass", true) => "attest the test report: andon attest junit --file <junit.xml>".into(),
        ("tests-pass", false) => "fix the failing tests, rebuild, attest again".into(),
        ("coverage", true) => "attest coverage: andon attest coverage --file <lcov.info|coverage.xml>".into(),
        ("coverage", false) => "add tests, or agree a lower threshold in the policy".into(),
        ("static-analysis", true) => "attest the scanner's SARIF: andon attest sarif --file <results.sarif>".into(),
        ("static-analysis", false) => "fix or suppress (with justification) the findings".into(),
        ("sbom", _) => "attest an SBOM: andon attest sbom --file <bom.json>".into(),
        ("vulnerabilities", true) => "attest a scan: andon attest vulnerabilities --file <scan>".into(),
        ("vulnerabilities", false) => "upgrade the components, or request a waiver: andon waiver request --control vulnerabilities --vulnerability <id>".into(),
        ("provenance", true) => "attest SLSA provenance for this exact digest: andon attest provenance".into(),
        ("provenance", false) => "build on a trusted builder, or add it to the policy's trusted_builders".into(),
        ("peer-review", true) => "record the pull request (webhooks) and attest provenance naming the source commit".into(),
        ("peer-review", false) => "get an approval from someone other than the author on the merged head".into(),
        ("pipeline-reviewed", _) => "merge the pipeline definition through a reviewed pull request and attest it: andon attest pipeline-definition".into(),
        ("tested-before-production", _) => "deploy and test this release in a non-production environment first".into(),
        ("no-secrets", true) => "attest a secrets scan: andon attest secrets --file <gitleaks.json|trufflehog.jsonl>".into(),
        ("no-secrets", false) => "revoke and rotate the credentials and remove them from the source and its history, or request a waiver: andon waiver request --control no-secrets".into(),
        ("dynamic-scan", true) => "attest the ZAP report: andon attest dast --file <report.json|report.xml>".into(),
        ("dynamic-scan", false) => "fix the alerts, or request a waiver: andon waiver request --control dynamic-scan".into(),
        ("hardening", true) => "attest a scan of the environment: andon attest hardening --file <scan> --subject environment:<name>@sha256:<digest>".into(),
        ("hardening", false) => "close the port or fix the rule and scan the environment again, or request a waiver: andon waiver request --control hardening".into(),
        (_, _) if v == Verdict::Error => "the control could not run: fix the policy (andon policy test)".into(),
        _ => "see the reason above; a waiver is possible: andon waiver request".into(),
    }
}

/// Runs `andon gate`.
pub fn gate(ctx: &Context, g: &GateArgs, out: Output) -> anyhow::Result<ExitCode> {
    let production = if g.production {
        Some(true)
    } else if g.not_production {
        Some(false)
    } else {
        None
    };
    let d = client(ctx).gate(&GateRequest {
        application: g.app.clone(),
        artifact: g.artifact.clone(),
        environment: g.environment.clone(),
        production,
        emergency: g.emergency.clone(),
        change: g.change_fields()?,
    })?;
    emit(out, &d, print_decision)?;
    Ok(if d.decision.allow {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Replays a decision: its signature against the log key, its policy bundle against its
/// version, its verdicts against a fresh evaluation of its recorded input.
pub fn replay(c: &andon_client::Client, id: &str) -> anyhow::Result<(DecisionDoc, bool)> {
    let d = c.decision(id)?;
    let envelope = d.envelope.unwrap_or_default();
    let got = andon_domain::Sha256Digest::of(envelope.as_bytes()).hex();
    if got != id {
        bail!("decision {id}: its envelope hashes to {got}");
    }
    let env = andon_domain::Envelope::parse(envelope.as_bytes())?;
    if env.payload_type != DECISION_PAYLOAD_TYPE {
        bail!("decision {id}: payload type {:?}", env.payload_type);
    }
    // Signed by the log key of its time: the current one or one it was rotated from.
    let info = c.ledger_info()?;
    let mut signed = false;
    for text in std::iter::once(&info.verifier_key).chain(&info.previous_verifier_keys) {
        let key = andon_ledger::NoteVerifier::parse(text)?.public_key();
        if env.verify(&andon_domain::PublicKey::ed25519(&key)?).is_ok() {
            signed = true;
            break;
        }
    }
    if !signed {
        bail!("decision {id} is not signed by the log key (nor by a key it was rotated from)");
    }
    let doc: DecisionDoc = serde_json::from_slice(&env.payload)?;
    let bytes = c.policy_bundle(&doc.policy.version)?;
    let bundle: Bundle = serde_json::from_slice(&bytes)?;
    let policy = Policy::compile(bundle)?;
    if policy.version != doc.policy.version {
        bail!(
            "policy {} recompiles to version {}",
            doc.policy.version,
            policy.version
        );
    }
    let again = policy.evaluate(&doc.input);
    let same = again.allow == doc.allow && again.controls == doc.controls;
    Ok((doc, same))
}

/// Runs a decision verb.
pub fn decision(ctx: &Context, cmd: &DecisionCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        DecisionCmd::Show { id } => {
            let d = c.decision(id)?;
            emit(out, &d, print_decision)?;
            Ok(ExitCode::SUCCESS)
        }
        DecisionCmd::Replay { id } => {
            let (doc, same) = replay(&c, id)?;
            let value = serde_json::json!({"id": id, "allow": doc.allow, "policy": doc.policy, "replayed_identically": same});
            emit(out, &value, |_| {
                println!(
                    "decision {id}: signature verified with the log key; policy {} {} matches its version",
                    doc.policy.name,
                    short(&doc.policy.version)
                );
                if same {
                    println!(
                        "replayed: {} with the same verdict on {}",
                        if doc.allow { "ALLOW" } else { "DENY" },
                        match doc.controls.len() {
                            1 => "its one control".to_owned(),
                            n => format!("each of its {n} controls"),
                        }
                    );
                } else {
                    println!("REPLAY DIFFERS from the recorded decision");
                }
            })?;
            Ok(if same {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// Runs a waiver verb.
pub fn waiver(ctx: &Context, cmd: &WaiverCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        WaiverCmd::Request {
            app,
            control,
            vulnerability,
            reason,
            ticket,
            hours,
        } => {
            let w = c.request_waiver(&WaiverRequest {
                application: app.clone(),
                control: control.clone(),
                vulnerability: vulnerability.clone(),
                reason: reason.clone(),
                ticket: ticket.clone(),
                hours: *hours,
            })?;
            emit(out, &w, |w| {
                println!(
                    "requested waiver {} of {} for {} ({} hours once approved); someone else must approve it: andon waiver approve {}",
                    w["id"].as_str().unwrap_or(""),
                    control,
                    app,
                    hours,
                    w["id"].as_str().unwrap_or("")
                )
            })?;
        }
        WaiverCmd::Approve { id } => {
            let w = c.approve_waiver(id)?;
            emit(out, &w, |w| {
                println!(
                    "approved waiver {id}, in force until {}",
                    w["expires_at"]
                        .as_i64()
                        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                        .map(|t| t.to_string())
                        .unwrap_or_default()
                )
            })?;
        }
        WaiverCmd::List { app } => {
            let list = c.list_waivers(app.as_deref())?;
            emit(out, &list, |list| {
                let text = |w: &serde_json::Value, k: &str| w[k].as_str().unwrap_or("").to_owned();
                let mut t = Listing::new(
                    &[
                        "id",
                        "application",
                        "control",
                        "vulnerability",
                        "ticket",
                        "requested by",
                        "approved by",
                    ],
                    &[],
                );
                for w in list {
                    t.row([
                        text(w, "id"),
                        text(w, "application"),
                        text(w, "control"),
                        w["vulnerability"].as_str().unwrap_or("-").to_owned(),
                        text(w, "ticket"),
                        text(w, "requested_by"),
                        w["approved_by"]
                            .as_str()
                            .unwrap_or("awaiting approval")
                            .to_owned(),
                    ]);
                }
                t.print("no waivers");
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
