//! `andon attest`: build an in-toto statement, sign it into a DSSE envelope, send it; or
//! send envelopes signed elsewhere as they are.

use std::path::PathBuf;
use std::process::ExitCode;

use andon_domain::scm::{PIPELINE_DEFINITION_PREDICATE_V1, REVIEW_PREDICATE_V1};
use andon_domain::{
    ArtifactRef, COVERAGE_PREDICATE_V1, DAST_PREDICATE_V1, HARDENING_PREDICATE_V1,
    JUNIT_PREDICATE_V1, ReportPredicate, SARIF_PREDICATE_V1, SBOM_PREDICATE_V1,
    SECRETS_PREDICATE_V1, Sha256Digest, Statement, StoredReport, VULNERABILITIES_PREDICATE_V1,
};
use anyhow::Context as _;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};

/// Evidence types.
#[derive(clap::Subcommand, Debug)]
pub enum AttestCmd {
    /// Any predicate type, sent as-is.
    Generic(GenericArgs),
    /// A JUnit XML test report (pytest, cargo-nextest, Surefire, jest-junit, go-junit-report);
    /// Andon derives the summary from the report itself.
    Junit(ReportArgs),
    /// A coverage report: LCOV tracefile, Cobertura XML or JaCoCo XML.
    Coverage(ReportArgs),
    /// A static analysis log: SARIF 2.1.0 from any tool.
    Sarif(ReportArgs),
    /// A software bill of materials: CycloneDX (JSON or XML), SPDX 2.2/2.3 (JSON or
    /// tag-value) or SPDX 3.0 JSON-LD.
    Sbom(ReportArgs),
    /// A vulnerability scan or VEX: CycloneDX JSON or XML with a vulnerabilities section, a
    /// scanner's SARIF (Trivy, Grype), an OpenVEX or a CSAF 2.0 document.
    Vulnerabilities(ReportArgs),
    /// An environment hardening scan: Nmap XML, OpenSCAP XCCDF results or ARF, or Chef InSpec
    /// JSON (open ports, passing and failing rules).
    Hardening(ReportArgs),
    /// A secrets scan: gitleaks JSON (`--report-format json`) or TruffleHog JSON lines.
    Secrets(ReportArgs),
    /// A dynamic application security scan: OWASP ZAP's traditional JSON or XML report.
    Dast(ReportArgs),
    /// SLSA provenance: the statement a provenance generator wrote (its predicate and
    /// predicate type are taken), that statement in a DSSE envelope (`.intoto.jsonl`) or a
    /// Sigstore bundle, or a bare SLSA v1 predicate.
    Provenance(ReportArgs),
    /// Code review facts, for source control that sends no webhooks: a JSON file with the
    /// repository, the pull request, its reviews and commits (see docs/evidence.md).
    Review(ReportArgs),
    /// The pipeline definition file that ran (embedded; Andon computes its digest).
    PipelineDefinition(PipelineArgs),
    /// DSSE envelopes signed elsewhere (`cosign attest-blob`, in-toto, securesystemslib,
    /// witness), sent as they are: one envelope, or JSON lines of them (`.intoto.jsonl`).
    /// The server verifies them against the application's registered keys.
    Envelope(EnvelopeArgs),
    /// Sigstore bundles (GitHub artifact attestations and `gh attestation download` output,
    /// npm and PyPI attestations, `cosign attest --new-bundle-format`), sent as they are: one
    /// bundle, or JSON lines of them. The server verifies them offline against the registered
    /// trusted roots and the application's keyless policy.
    Bundle(EnvelopeArgs),
}

/// Flags of `andon attest envelope`.
#[derive(clap::Args, Debug)]
pub struct EnvelopeArgs {
    /// Application the evidence belongs to.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// Pipeline run id.
    #[arg(long, env = "ANDON_RUN")]
    pub run: Option<String>,
    /// The evidence type whose summary Andon derives (junit, sbom, ...), when the predicate
    /// is one of Andon's report predicates.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// The envelope or bundle file (`-`: standard input).
    #[arg(long)]
    pub file: PathBuf,
}

/// Flags of `andon attest pipeline-definition`.
#[derive(clap::Args, Debug)]
pub struct PipelineArgs {
    #[command(flatten)]
    common: Common,
    /// The pipeline definition file, e.g. .github/workflows/release.yml.
    #[arg(long)]
    pub file: PathBuf,
    /// The repository it belongs to (owner/name).
    #[arg(long, env = "ANDON_REPOSITORY")]
    pub repository: Option<String>,
    /// The commit it was read at.
    #[arg(long, env = "ANDON_COMMIT")]
    pub commit: Option<String>,
}

/// What every attestation needs.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// Application the evidence belongs to.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// Subject, <name>@sha256:<hex> (repeatable).
    #[arg(long = "subject", required = true)]
    pub subjects: Vec<String>,
    /// Pipeline run id.
    #[arg(long, env = "ANDON_RUN")]
    pub run: Option<String>,
    /// Signing key (PKCS#8 PEM); repeat it to sign with several keys, for an application
    /// whose threshold asks for more than one.
    /// Without one, in CI with an ID token, the key the job made for itself signs.
    #[arg(long = "key", env = "ANDON_KEY_FILE")]
    pub keys: Vec<PathBuf>,
}

/// Flags of `andon attest generic`.
#[derive(clap::Args, Debug)]
pub struct GenericArgs {
    #[command(flatten)]
    common: Common,
    /// Predicate type URI.
    #[arg(long)]
    pub predicate_type: String,
    /// Predicate JSON file ('-' for standard input).
    #[arg(long)]
    pub predicate: PathBuf,
}

/// Flags of a report attestation.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    common: Common,
    /// The report file.
    #[arg(long)]
    pub file: PathBuf,
}

fn read(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Reports larger than this are uploaded on their own and named by digest in the
/// statement: they travel once, not base64-encoded twice inside the envelope.
const INLINE_LIMIT: usize = 1 << 20;
/// Uploads larger than this show a progress bar (on a terminal).
const PROGRESS_ABOVE: usize = 4 << 20;

/// Wraps a report file in its predicate: inline when small, else uploaded first and named
/// by digest and size.
fn report<'a>(
    ctx: &Context,
    r: &'a ReportArgs,
    kind: &'static str,
    predicate_type: &str,
) -> anyhow::Result<(&'a Common, &'static str, String, serde_json::Value)> {
    let bytes = read(&r.file)?;
    let media_type = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => "application/xml",
        Some(b'{') => "application/json",
        _ => "text/plain",
    };
    let path = Some(r.file.display().to_string());
    let p = if bytes.len() > INLINE_LIMIT {
        let stored = upload(ctx, &bytes, &r.file.display().to_string())?;
        ReportPredicate::reference(media_type, path, stored)
    } else {
        ReportPredicate::new(media_type, path, &bytes)
    };
    Ok((
        &r.common,
        kind,
        predicate_type.to_owned(),
        serde_json::to_value(p)?,
    ))
}

/// Uploads a report under its digest, with a progress bar for a large one on a terminal.
fn upload(ctx: &Context, bytes: &[u8], file: &str) -> anyhow::Result<StoredReport> {
    let stored = StoredReport {
        digest: Sha256Digest::of(bytes),
        size: bytes.len() as u64,
    };
    let bar = indicatif::ProgressBar::new(stored.size);
    if bytes.len() <= PROGRESS_ABOVE || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    } else {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "uploading {msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(file.to_owned());
    }
    let mut reader = bar.wrap_read(bytes);
    let result = client(ctx).upload_report(&stored.digest, stored.size, &mut reader);
    bar.finish_and_clear();
    result.with_context(|| format!("uploading {file} ({} bytes)", stored.size))?;
    Ok(stored)
}

/// The envelopes of a file: one JSON document, or one per line.
fn envelopes(bytes: &[u8], file: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    if serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| v.is_object()) {
        return Ok(vec![bytes.to_vec()]);
    }
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(v) if v.is_object() => out.push(line.to_vec()),
            _ => anyhow::bail!(
                "{file} line {}: not a JSON object; expected a DSSE envelope, or one per line",
                i + 1
            ),
        }
    }
    anyhow::ensure!(!out.is_empty(), "{file} holds no envelope");
    Ok(out)
}

/// Sends envelopes signed elsewhere, one request each, in the file's order; stops at the
/// first refusal, saying which envelope it was.
fn send_envelopes(ctx: &Context, e: &EnvelopeArgs, out: Output) -> anyhow::Result<ExitCode> {
    let file = e.file.display().to_string();
    let all = envelopes(&read(&e.file)?, &file)?;
    let client = client(ctx);
    let mut receipts = Vec::with_capacity(all.len());
    for (i, env) in all.iter().enumerate() {
        let r = client
            .submit_evidence(&e.app, e.run.as_deref(), e.kind.as_deref(), env)
            .with_context(|| format!("envelope {} of {} in {file}", i + 1, all.len()))?;
        receipts.push(r);
    }
    emit(out, &receipts, |rs| {
        for r in rs {
            print_receipt("", r);
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Runs an attest verb: signs the statement with the key file and sends it.
pub fn run(ctx: &Context, cmd: &AttestCmd, out: Output) -> anyhow::Result<ExitCode> {
    let (common, kind, predicate_type, predicate) = match cmd {
        AttestCmd::Envelope(e) | AttestCmd::Bundle(e) => return send_envelopes(ctx, e, out),
        AttestCmd::Generic(g) => {
            let raw = read(&g.predicate)?;
            let predicate: serde_json::Value = serde_json::from_slice(&raw)
                .with_context(|| format!("{} is not JSON", g.predicate.display()))?;
            (&g.common, "generic", g.predicate_type.clone(), predicate)
        }
        AttestCmd::Junit(r) => report(ctx, r, "junit", JUNIT_PREDICATE_V1)?,
        AttestCmd::Coverage(r) => report(ctx, r, "coverage", COVERAGE_PREDICATE_V1)?,
        AttestCmd::Sarif(r) => report(ctx, r, "sarif", SARIF_PREDICATE_V1)?,
        AttestCmd::Sbom(r) => report(ctx, r, "sbom", SBOM_PREDICATE_V1)?,
        AttestCmd::Vulnerabilities(r) => {
            report(ctx, r, "vulnerabilities", VULNERABILITIES_PREDICATE_V1)?
        }
        AttestCmd::Hardening(r) => report(ctx, r, "hardening", HARDENING_PREDICATE_V1)?,
        AttestCmd::Secrets(r) => report(ctx, r, "secrets", SECRETS_PREDICATE_V1)?,
        AttestCmd::Dast(r) => report(ctx, r, "dast", DAST_PREDICATE_V1)?,
        AttestCmd::Review(r) => {
            let doc: serde_json::Value = serde_json::from_slice(&read(&r.file)?)
                .with_context(|| format!("{} is not JSON", r.file.display()))?;
            (&r.common, "review", REVIEW_PREDICATE_V1.to_owned(), doc)
        }
        AttestCmd::PipelineDefinition(p) => {
            let bytes = read(&p.file)?;
            let mut predicate = serde_json::to_value(ReportPredicate::new(
                "application/yaml",
                Some(p.file.display().to_string()),
                &bytes,
            ))?;
            if let Some(r) = &p.repository {
                predicate["repository"] = r.clone().into();
            }
            if let Some(c) = &p.commit {
                predicate["commit"] = c.clone().into();
            }
            (
                &p.common,
                "pipeline-definition",
                PIPELINE_DEFINITION_PREDICATE_V1.to_owned(),
                predicate,
            )
        }
        AttestCmd::Provenance(r) => {
            let (predicate_type, predicate, note) = crate::commands::provenance_file::read(
                &read(&r.file)?,
                &r.file.display().to_string(),
            )?;
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            (&r.common, "provenance", predicate_type, predicate)
        }
    };
    let mut keys = common
        .keys
        .iter()
        .map(|k| crate::cli::keys::load_signer(k))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if keys.is_empty() {
        let pem = ctx.job_key.as_deref().context(
            "no signing key: give --key (ANDON_KEY_FILE), or run in CI with an ID token (the job then signs with a key it makes for itself)",
        )?;
        keys.push(andon_domain::PrivateKey::from_pem(pem).context("the job's key")?);
    }
    let signers: Vec<&dyn andon_domain::Signer> = keys
        .iter()
        .map(|k| k as &dyn andon_domain::Signer)
        .collect();
    let mut subjects = Vec::new();
    for s in &common.subjects {
        let a: ArtifactRef = s.parse()?;
        subjects.push((a.name, a.digest));
    }
    let statement = Statement::new(subjects, predicate_type, predicate);
    let receipt = client(ctx).submit_evidence(
        &common.app,
        common.run.as_deref(),
        Some(kind),
        &statement.sign_by(&signers),
    )?;
    emit(out, &receipt, |r| print_receipt(&format!("{kind} "), r))?;
    Ok(ExitCode::SUCCESS)
}

/// One line per receipt: recorded or already had, `what` evidence, where in the ledger.
fn print_receipt(what: &str, r: &andon_domain::api::Receipt) {
    println!(
        "{} {what}evidence {} at ledger index {} (tree size {})",
        if r.existing {
            "already had"
        } else {
            "recorded"
        },
        r.id.as_deref().unwrap_or("-"),
        r.ledger_index,
        r.tree_size
    );
}
