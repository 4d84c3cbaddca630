//! Audit packages: `andon export package` writes one archive an auditor takes away, and
//! `andon verify --package` checks it on a machine with no access to the server.
//!
//! The archive (tar) holds, for one application and period:
//!
//! ```text
//! manifest.json           scope, log origin and key, tree size, every file's SHA-256
//! checkpoint.txt          the signed checkpoint (C2SP signed note) everything is proven against
//! entries/<index>.json    each ledger entry in scope, its exact leaf bytes
//! documents/<index>       the document an entry commits to (evidence envelope, signed decision, ...)
//! proofs/<index>.json     the entry's inclusion proof at the checkpoint's size
//! controls.csv            each control's effectiveness over the period, from the decisions in scope
//! report.html             an offline report of all of the above (no scripts, no network)
//! ```
//!
//! Verification does not trust the manifest: the checkpoint must carry the log key's
//! signature, each entry must be in the checkpoint's tree by its proof, each document must
//! hash to the digest its entry commits to, and `controls.csv` and `report.html` are
//! rendered again from the verified entries and must be byte for byte the same. The manifest's
//! digests then catch an added or missing file and name an altered one.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use andon_domain::{LedgerEntry, Sha256Digest};
use andon_ledger::{Hash, NoteVerifier, leaf_hash, verify_inclusion};
use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::cli::context::{Context, client};

mod report;

use crate::cli::output::{Output, emit};
use report::{control_rows, controls_csv, report_html};

/// The package format.
pub const FORMAT: &str = "andon-audit-package/v1";

/// Flags of `andon export package`.
#[derive(clap::Args, Debug)]
pub struct PackageArgs {
    /// The application.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// From this time (RFC 3339), inclusive; default the beginning.
    #[arg(long)]
    pub since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    #[arg(long)]
    pub until: Option<String>,
    /// Where to write the archive.
    #[arg(long)]
    pub out: PathBuf,
}

/// `manifest.json`.
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    application: String,
    since: Option<String>,
    until: Option<String>,
    origin: String,
    verifier_key: String,
    tree_size: u64,
    entries: usize,
    /// Every other file's SHA-256 hex, by path.
    files: BTreeMap<String, String>,
}

/// `proofs/<index>.json`.
#[derive(Serialize, Deserialize)]
struct ProofFile {
    index: u64,
    tree_size: u64,
    leaf_hash: String,
    proof: Vec<String>,
}

/// One entry in scope, as the package holds it.
struct InScope {
    index: u64,
    entry: Vec<u8>,
    document: Option<Vec<u8>>,
}

fn parse_time(s: &str) -> anyhow::Result<jiff::Timestamp> {
    s.parse()
        .with_context(|| format!("{s:?} is not an RFC 3339 time"))
}

/// Whether an entry is about `app` and inside the period.
fn in_scope(
    entry: &LedgerEntry,
    app: &str,
    since: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
) -> bool {
    let b = &entry.body;
    let about = [
        &b["application"],
        &b["deployment"]["application"],
        &b["change"]["application"],
    ]
    .iter()
    .any(|v| v.as_str() == Some(app));
    if !about {
        return false;
    }
    let Ok(at) = entry.time.parse::<jiff::Timestamp>() else {
        return false;
    };
    since.is_none_or(|s| at >= s) && until.is_none_or(|u| at < u)
}

fn name(index: u64) -> String {
    format!("{index:010}")
}

/// `andon export package`.
pub fn export(ctx: &Context, p: &PackageArgs, out: Output) -> anyhow::Result<ExitCode> {
    export_from(&client(ctx), p, out)
}

/// Writes the package of `p` from the server `c` talks to.
pub fn export_from(
    c: &andon_client::Client,
    p: &PackageArgs,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let since = p.since.as_deref().map(parse_time).transpose()?;
    let until = p.until.as_deref().map(parse_time).transpose()?;
    let info = c.ledger_info()?;
    let verifier = NoteVerifier::parse(&info.verifier_key)?;
    let cp = verifier
        .verify(&info.checkpoint)
        .context("the server's checkpoint does not verify with its own key")?;
    let mut entries = Vec::new();
    let mut start = 0;
    while start < cp.size {
        let page = c.entries(start, 1000)?.entries;
        if page.is_empty() {
            bail!("the server returned no entry at {start}");
        }
        for e in page {
            if e.index >= cp.size {
                break;
            }
            start = e.index + 1;
            let bytes = STANDARD.decode(&e.entry)?;
            let entry: LedgerEntry = serde_json::from_slice(&bytes)
                .with_context(|| format!("entry {} is not a ledger entry", e.index))?;
            if in_scope(&entry, &p.app, since, until) {
                entries.push(InScope {
                    index: e.index,
                    entry: bytes,
                    document: e.document.map(|d| STANDARD.decode(d)).transpose()?,
                });
            }
        }
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for e in &entries {
        let proof = c.inclusion_proof(e.index, Some(cp.size))?;
        files.insert(format!("entries/{}.json", name(e.index)), e.entry.clone());
        if let Some(d) = &e.document {
            files.insert(format!("documents/{}", name(e.index)), d.clone());
        }
        files.insert(
            format!("proofs/{}.json", name(e.index)),
            serde_json::to_vec_pretty(&ProofFile {
                index: e.index,
                tree_size: proof.tree_size,
                leaf_hash: proof.leaf_hash,
                proof: proof.proof,
            })?,
        );
    }
    files.insert(
        "checkpoint.txt".into(),
        info.checkpoint.clone().into_bytes(),
    );
    let rows = control_rows(&entries);
    let controls = controls_csv(&rows)?;
    let mut manifest = Manifest {
        format: FORMAT.into(),
        application: p.app.clone(),
        since: p.since.clone(),
        until: p.until.clone(),
        origin: cp.origin.clone(),
        verifier_key: info.verifier_key.clone(),
        tree_size: cp.size,
        entries: entries.len(),
        files: BTreeMap::new(),
    };
    files.insert(
        "report.html".into(),
        report_html(&manifest, &info.checkpoint, &entries, &rows).into_bytes(),
    );
    files.insert("controls.csv".into(), controls.into_bytes());
    manifest.files = files
        .iter()
        .map(|(k, v)| (k.clone(), Sha256Digest::of(v).hex()))
        .collect();

    let file =
        std::fs::File::create(&p.out).with_context(|| format!("creating {}", p.out.display()))?;
    let mut tar = tar::Builder::new(file);
    let mut add = |path: &str, bytes: &[u8]| -> anyhow::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        tar.append_data(&mut h, path, bytes)?;
        Ok(())
    };
    add("manifest.json", &serde_json::to_vec_pretty(&manifest)?)?;
    for (path, bytes) in &files {
        add(path, bytes)?;
    }
    tar.into_inner()?.sync_all()?;
    let summary = serde_json::json!({
        "package": p.out.display().to_string(), "application": p.app,
        "entries": entries.len(), "tree_size": cp.size, "files": files.len() + 1,
    });
    emit(out, &summary, |_| {
        println!(
            "wrote {}: {} of {} with their documents and inclusion proofs at tree size {}, controls.csv, report.html",
            p.out.display(),
            crate::cli::output::plural(entries.len() as u64, "entry", "entries"),
            p.app,
            cp.size
        );
        println!(
            "verify it anywhere: andon verify --package {} --log-key '{}'",
            p.out.display(),
            info.verifier_key
        );
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What `andon verify --package` found.
#[derive(Serialize)]
struct PackageReport {
    ok: bool,
    application: String,
    entries_verified: usize,
    tree_size: u64,
    key_pinned: bool,
    problem: Option<String>,
    /// Every entry that does not verify, each named (the package's own files aside).
    problems: Vec<andon_app::audit::Problem>,
}

fn hash32(h: &str) -> anyhow::Result<Hash> {
    hex::decode(h)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("a hash is not 32 bytes"))
}

/// Checks a package; `Err` names the first thing wrong with the package itself; the
/// problems are those of its entries, all of them (then its other files are not checked:
/// they derive from the entries).
fn check(
    files: &BTreeMap<String, Vec<u8>>,
    pinned: Option<&str>,
) -> anyhow::Result<(Manifest, usize, Vec<andon_app::audit::Problem>)> {
    let manifest: Manifest = serde_json::from_slice(
        files
            .get("manifest.json")
            .context("the package has no manifest.json")?,
    )
    .context("manifest.json is malformed")?;
    if manifest.format != FORMAT {
        bail!(
            "manifest.json: format {:?}, expected {FORMAT}",
            manifest.format
        );
    }
    let key = NoteVerifier::parse(pinned.unwrap_or(&manifest.verifier_key))?;
    let note = std::str::from_utf8(files.get("checkpoint.txt").context("no checkpoint.txt")?)
        .context("checkpoint.txt is not text")?;
    let cp = key
        .verify(note)
        .context("checkpoint.txt is not signed by the log key")?;
    if cp.size != manifest.tree_size {
        bail!(
            "checkpoint.txt is of size {}, the manifest says {}",
            cp.size,
            manifest.tree_size
        );
    }
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    // The package holds the current key only: each entry is proven by its inclusion proof,
    // each decision envelope by the digest its entry binds (see `DecisionMeaning`).
    let mut rules: Vec<Box<dyn andon_app::audit::EntryRule>> = vec![
        Box::new(andon_app::audit::Documents),
        Box::new(andon_app::audit::DecisionMeaning { signatures: false }),
    ];
    let mut keys = andon_app::audit::LogKeys::new(vec![], key.clone());
    for (path, bytes) in files {
        let Some(n) = path
            .strip_prefix("entries/")
            .and_then(|p| p.strip_suffix(".json"))
        else {
            continue;
        };
        let index: u64 = n.parse().with_context(|| format!("{path}: not an index"))?;
        let proof: ProofFile = serde_json::from_slice(
            files
                .get(&format!("proofs/{n}.json"))
                .with_context(|| format!("{path} has no proof"))?,
        )
        .with_context(|| format!("proofs/{n}.json is malformed"))?;
        let leaf = leaf_hash(bytes);
        let hashes: Vec<Hash> = proof
            .proof
            .iter()
            .map(|h| hash32(h))
            .collect::<anyhow::Result<_>>()?;
        if proof.index != index || proof.tree_size != cp.size {
            bail!("proofs/{n}.json is for another entry or tree size");
        }
        if verify_inclusion(&leaf, index, cp.size, &hashes, &cp.root).is_err() {
            problems.push(andon_app::audit::Problem {
                index,
                kind: None,
                check: "inclusion".into(),
                checkpoint: Some(cp.size),
                message: format!(
                    "{path} is not in the signed tree: the entry or its proof was altered"
                ),
            });
        }
        let document = files.get(&format!("documents/{n}")).cloned();
        for mut p in
            andon_app::audit::check_one(index, bytes, document.as_deref(), &mut rules, &mut keys)
        {
            p.message = format!("{path}: {}", p.message);
            problems.push(p);
        }
        entries.push(InScope {
            index,
            entry: bytes.clone(),
            document,
        });
    }
    if !problems.is_empty() {
        return Ok((manifest, entries.len(), problems));
    }
    if entries.len() != manifest.entries {
        bail!(
            "the package holds {} entries, the manifest says {}",
            entries.len(),
            manifest.entries
        );
    }
    // Derived files, rendered again from what was just verified.
    let rows = control_rows(&entries);
    let controls = controls_csv(&rows)?;
    if files.get("controls.csv").map(Vec::as_slice) != Some(controls.as_bytes()) {
        bail!("controls.csv does not match the decisions in the package: it was altered");
    }
    let report = report_html(&manifest, note, &entries, &rows);
    if files.get("report.html").map(Vec::as_slice) != Some(report.as_bytes()) {
        bail!("report.html does not match the entries in the package: it was altered");
    }
    // Nothing added, nothing missing, every file as listed.
    for (path, bytes) in files {
        if path == "manifest.json" {
            continue;
        }
        match manifest.files.get(path) {
            None => bail!("{path} is not listed in the manifest: it was added"),
            Some(h) if *h != Sha256Digest::of(bytes).hex() => {
                bail!("{path} does not match its digest in the manifest: it was altered")
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = manifest.files.keys().find(|p| !files.contains_key(*p)) {
        bail!("{missing} is listed in the manifest but missing");
    }
    Ok((manifest, entries.len(), vec![]))
}

/// Reads every regular file of a tar archive.
fn read_archive(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut archive = tar::Archive::new(file);
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        if files.insert(name.clone(), bytes).is_some() {
            bail!("{name} appears twice in the archive");
        }
    }
    Ok(files)
}

/// `andon verify --package`.
pub fn verify(path: &Path, pinned: Option<&str>, out: Output) -> anyhow::Result<ExitCode> {
    let files = read_archive(path)?;
    let (report, ok) = match check(&files, pinned) {
        Ok((m, n, problems)) => {
            let ok = problems.is_empty();
            (
                PackageReport {
                    ok,
                    application: m.application,
                    entries_verified: if ok { n } else { 0 },
                    tree_size: m.tree_size,
                    key_pinned: pinned.is_some(),
                    problem: problems.first().map(|p| p.to_string()),
                    problems,
                },
                ok,
            )
        }
        Err(e) => (
            PackageReport {
                ok: false,
                application: String::new(),
                entries_verified: 0,
                tree_size: 0,
                key_pinned: pinned.is_some(),
                problem: Some(format!("{e:#}")),
                problems: vec![],
            },
            false,
        ),
    };
    emit(out, &report, |r| {
        if !r.key_pinned {
            println!("note: checked against the key the package names; pin it with --log-key");
        }
        match &r.problem {
            Some(_) if !r.problems.is_empty() => {
                println!(
                    "FAILED: {} entries of the package do not verify",
                    r.problems.len()
                );
                for p in &r.problems {
                    println!("  {p}");
                }
            }
            Some(p) => println!("FAILED: {p}"),
            None => println!(
                "ok: {} entries of {} proven against a checkpoint of size {}; documents, controls.csv and report.html match",
                r.entries_verified, r.application, r.tree_size
            ),
        }
    })?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
