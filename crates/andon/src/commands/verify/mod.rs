//! `andon verify`: an auditor's check of the ledger.
//!
//! `verify` walks every entry (from the server, or straight from a database URL) through
//! the audit every verification shares (`andon_app::audit`): each leaf hash recomputed from
//! the stored bytes, each document against the digest its entry binds, each gate decision
//! against the signed decision it binds, each key rotation, and each stored checkpoint (from
//! a database: every one; from a server: the latest) against the root of the entries up to
//! its size. It also checks the log against a checkpoint saved earlier. It reports every
//! problem, each naming the entry.

use std::path::PathBuf;
use std::process::ExitCode;

use andon_app::audit::{self, Audit, LogKeys, Problem, RawEntry};
use andon_ledger::{Hash, NoteVerifier, verify_consistency};
use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};

mod witness;
use witness::{Witnessed, check_witnessed};

/// Flags of `andon verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Read the ledger straight from this database instead of the server; `--database`
    /// alone reads the one ANDON_DATABASE_URL names (the server's own setting).
    #[arg(long, num_args = 0..=1, value_name = "URL")]
    pub database: Option<Option<String>>,
    /// The log's verifier key (<name>+<hash>+<key>). Without it the key the source reports
    /// is used, and the report says so.
    #[arg(long, env = "ANDON_LOG_KEY")]
    pub log_key: Option<String>,
    /// A checkpoint saved earlier: the log must be an extension of it.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Save the verified checkpoint here for the next run.
    #[arg(long)]
    pub save_checkpoint: Option<PathBuf>,
    /// Check an audit package (`andon export package`) offline instead of a live ledger.
    #[arg(long, conflicts_with_all = ["database", "checkpoint", "save_checkpoint", "witness_key"])]
    pub package: Option<PathBuf>,
    /// A witness you trust, by its cosignature verifier key (`<name>+<key ID>+<key>`,
    /// C2SP tlog-cosignature, type 0x04). Repeat for several. The log must be an extension
    /// of the newest checkpoint that at least --min-witnesses of them cosigned.
    #[arg(long, env = "ANDON_WITNESS_KEY", value_delimiter = ',')]
    pub witness_key: Vec<String>,
    /// How many of the --witness-key witnesses must have cosigned that checkpoint.
    #[arg(long, default_value_t = 1, requires = "witness_key")]
    pub min_witnesses: usize,
}

enum Source {
    Server(andon_client::Client),
    Database(andon_store::Store, tokio::runtime::Runtime),
}

/// What the source says of its log: its keys (previous, oldest first, and current), its
/// latest checkpoint note and its size.
struct Head {
    keys: Vec<String>,
    note: String,
    size: u64,
    origin: String,
}

impl Source {
    fn head(&self) -> anyhow::Result<Head> {
        match self {
            Source::Server(c) => {
                let i = c.ledger_info()?;
                let mut keys = i.previous_verifier_keys;
                keys.push(i.verifier_key);
                Ok(Head {
                    keys,
                    note: i.checkpoint,
                    size: i.size,
                    origin: i.origin,
                })
            }
            Source::Database(s, rt) => rt.block_on(async {
                let key = s
                    .meta("log_verifier_key")
                    .await?
                    .context("the database has no log key")?;
                let mut keys: Vec<String> = s
                    .meta("log_previous_verifier_keys")
                    .await?
                    .map(|v| {
                        v.lines()
                            .filter(|l| !l.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                keys.push(key);
                let origin = s.meta("log_origin").await?.unwrap_or_default();
                let cp = s
                    .latest_checkpoint()
                    .await?
                    .context("the database has no checkpoint")?;
                Ok(Head {
                    keys,
                    note: cp.note,
                    size: cp.size,
                    origin,
                })
            }),
        }
    }
}

/// A key rotation the walk followed.
#[derive(Serialize, Clone)]
pub struct Rotation {
    /// The rotation entry's index.
    pub index: u64,
    /// The retiring key.
    pub previous: String,
    /// The key the log was handed over to.
    pub next: String,
}

/// The verdict.
#[derive(Serialize)]
pub struct Report {
    ok: bool,
    origin: String,
    size: u64,
    root: String,
    entries_checked: u64,
    checkpoints_checked: u64,
    /// From a database: how many tables were compared with the ledger's projection.
    #[serde(skip_serializing_if = "Option::is_none")]
    tables_compared: Option<usize>,
    key_pinned: bool,
    previous_checkpoint: Option<u64>,
    /// The first bad entry (the lowest index any problem names).
    first_bad_entry: Option<u64>,
    /// The first problem, in a sentence.
    problem: Option<String>,
    /// How many problems there are in all.
    problem_count: u64,
    /// How many, of which checks, and the first bad entry.
    summary: String,
    /// Every problem (the first hundred), each naming its entry.
    problems: Vec<Problem>,
    /// Log key rotations met on the way, in order.
    key_rotations: Vec<Rotation>,
    /// With --witness-key: the checkpoint the witnesses cosigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    witnessed: Option<Witnessed>,
}

/// The database to read, if any: `--database URL`, or `--database` alone and
/// ANDON_DATABASE_URL. Never the variable without the flag: what an auditor checks is said
/// on the command line.
fn database_url(v: &VerifyArgs) -> anyhow::Result<Option<String>> {
    match &v.database {
        None => Ok(None),
        Some(Some(url)) => Ok(Some(url.clone())),
        Some(None) => std::env::var("ANDON_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .map(Some)
            .context("--database without a URL reads ANDON_DATABASE_URL, which is not set"),
    }
}

/// Runs `andon verify`.
pub fn run(ctx: &Context, v: &VerifyArgs, out: Output) -> anyhow::Result<ExitCode> {
    if let Some(p) = &v.package {
        return crate::commands::package::verify(p, v.log_key.as_deref(), out);
    }
    let source = match database_url(v)? {
        Some(url) => {
            let url = url.as_str();
            // Two workers: the tables' replay runs beside the audit's walk.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            let store = rt.block_on(andon_store::Store::connect(url))?;
            Source::Database(store, rt)
        }
        None => Source::Server(client(ctx)),
    };
    let head = source.head()?;
    let (current, previous) = head
        .keys
        .split_last()
        .context("the source names no log key")?;
    let keys = LogKeys::parse(previous, current).map_err(anyhow::Error::msg)?;
    let pinned = v
        .log_key
        .as_deref()
        .map(NoteVerifier::parse)
        .transpose()
        .context("--log-key")?;
    let key_text = pinned.as_ref().unwrap_or(keys.current()).to_string();
    // The head's own claims, from whichever of the log's keys signed it (the audit checks
    // that it was the one in force).
    let head_cp = keys.chain().iter().find_map(|k| k.verify(&head.note).ok());
    let origin = head_cp
        .as_ref()
        .map(|c| c.origin.clone())
        .unwrap_or(head.origin.clone());
    let mut audit = Audit::new(keys.clone(), audit::default_rules(), Some(origin.clone()));
    if let Some(p) = &pinned
        && !keys.chain().contains(p)
    {
        audit.report(Problem {
            index: head.size,
            kind: None,
            check: "key".into(),
            checkpoint: Some(head.size),
            message: format!(
                "the pinned key {p} is not one of this log's keys ({}): the log was never handed over to it",
                keys.chain()
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    // From a database, the tables too: the ledger replayed into a fresh database and
    // compared with them, row by row, from the same read of the entries as the walk.
    let tables = walk(&source, &mut audit, &head, head_cp.as_ref(), out)?;
    let tree_root = audit.tree().root_at(head.size).ok();
    let mut walked = audit.finish(head.size);
    let tables_compared = tables.map(|t| {
        for p in t.problems {
            walked.findings.push(p);
        }
        t.compared
    });
    if let Source::Server(c) = &source {
        refine_by_consistency(c, &mut walked, head.size, head_cp.as_ref());
    }
    let previous_checkpoint = match &v.checkpoint {
        Some(p) => check_saved(p, &mut walked, &source, head_cp.as_ref(), &origin)?,
        None => None,
    };
    let witnessed = if v.witness_key.is_empty() {
        None
    } else {
        check_witnessed(v, &mut walked, &source, head_cp.as_ref(), &origin)?
    };
    let findings = &walked.findings;
    if findings.is_clean()
        && let Some(path) = &v.save_checkpoint
    {
        std::fs::write(path, &head.note).with_context(|| format!("writing {}", path.display()))?;
    }
    let first = findings.first();
    let report = Report {
        ok: findings.is_clean(),
        origin,
        size: head.size,
        root: hex::encode(tree_root.unwrap_or_default()),
        entries_checked: walked.entries,
        checkpoints_checked: walked.checkpoints,
        tables_compared,
        key_pinned: v.log_key.is_some(),
        previous_checkpoint,
        first_bad_entry: first.map(|p| p.index),
        problem: first.map(|p| p.message.clone()),
        problem_count: findings.total,
        summary: findings.summary(),
        problems: findings.problems.clone(),
        key_rotations: walked
            .keys
            .rotations()
            .into_iter()
            .map(|(index, previous, next)| Rotation {
                index,
                previous,
                next,
            })
            .collect(),
        witnessed,
    };
    emit(out, &report, |r| print(r, &key_text))?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print(r: &Report, key_text: &str) {
    if !r.key_pinned {
        println!(
            "note: checked against the key the source reports; pin it with --log-key {key_text}"
        );
    }
    if !r.ok {
        println!("FAILED: {}", r.summary);
        for p in &r.problems {
            println!("  {p}");
        }
        if r.problem_count > r.problems.len() as u64 {
            println!(
                "  ... and {} more",
                r.problem_count - r.problems.len() as u64
            );
        }
        return;
    }
    println!(
        "ok: {} entries of {} verified ({} checkpoints), root {}",
        r.entries_checked, r.origin, r.checkpoints_checked, r.root
    );
    if let Some(n) = r.tables_compared {
        println!("ok: the {n} tables every read uses match the ledger's projection, row by row");
    }
    for k in &r.key_rotations {
        println!(
            "ok: entry {}: the log key {} handed over to {}",
            k.index, k.previous, k.next
        );
    }
    if let Some(p) = r.previous_checkpoint {
        println!("ok: consistent with the saved checkpoint of size {p}");
    }
    if let Some(w) = &r.witnessed {
        let by: Vec<String> = w.cosigned_by.iter().map(|(n, _)| n.clone()).collect();
        println!(
            "ok: an extension of the checkpoint of size {} cosigned by {} of {} required witnesses ({}); {} entries after it not yet witnessed",
            w.size,
            by.len(),
            w.required,
            by.join(", "),
            w.entries_after
        );
    }
}

/// Feeds the source's entries (and checkpoints) to the audit; from a database, also
/// compares its tables with the ledger.
fn walk(
    source: &Source,
    audit: &mut Audit,
    head: &Head,
    head_cp: Option<&andon_ledger::Checkpoint>,
    out: Output,
) -> anyhow::Result<Option<audit::Tables>> {
    match source {
        Source::Database(store, rt) => {
            let tables = rt
                .block_on(audit::audit_database(store, audit, None))
                .map_err(anyhow::Error::msg)?;
            Ok(Some(tables))
        }
        Source::Server(c) => {
            let bar = indicatif::ProgressBar::new(head.size);
            if out == Output::Json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let mut next = 0;
            while next < head.size {
                let want = (head.size - next).min(1000) as u32;
                let page = c.entries(next, want)?.entries;
                let Some(last) = page.last().map(|e| e.index) else {
                    break;
                };
                for e in &page {
                    let bytes = STANDARD.decode(&e.entry)?;
                    let document = e
                        .document
                        .as_ref()
                        .map(|d| STANDARD.decode(d))
                        .transpose()?;
                    let leaf: Hash = hex::decode(&e.leaf_hash)?.try_into().unwrap_or([0; 32]);
                    audit.entry(RawEntry {
                        index: e.index,
                        leaf_hash: leaf,
                        bytes: &bytes,
                        document: document.as_deref(),
                        kind: Some(&e.kind),
                    });
                }
                for (index, r) in audit.take_reports() {
                    let bytes = match c.report(&r.digest) {
                        Ok(b) => Some(b),
                        Err(andon_client::ClientError::Api { status: 404, .. }) => None,
                        Err(e) => return Err(e).context("reading an uploaded report"),
                    };
                    if let Some(p) = audit::stored::report_problem(index, &r, bytes.as_deref()) {
                        audit.report(p);
                    }
                }
                bar.inc(page.len() as u64);
                next = last + 1;
            }
            bar.finish_and_clear();
            let (size, root) = head_cp.map_or((head.size, [0; 32]), |c| (c.size, c.root));
            audit.checkpoint(size, root, &head.note);
            Ok(None)
        }
    }
}

/// From a server, when the entries do not reproduce its latest checkpoint, its consistency
/// proofs find the first entry that differs: the largest prefix of the entries that is
/// consistent with the signed root ends just before it (about 20 proofs for a million
/// entries).
fn refine_by_consistency(
    c: &andon_client::Client,
    walked: &mut audit::Walked,
    size: u64,
    head: Option<&andon_ledger::Checkpoint>,
) {
    let Some(head) = head else { return };
    let Some(p) = walked
        .findings
        .problems
        .iter_mut()
        .find(|p| p.check == "checkpoint_root" && p.checkpoint == Some(size))
    else {
        return;
    };
    let tree = &walked.tree;
    let consistent = |s: u64| -> Option<bool> {
        let ours = tree.root_at(s).ok()?;
        if s == size {
            return Some(ours == head.root);
        }
        let proof = c.consistency_proof(s, Some(size)).ok()?;
        let hashes: Vec<Hash> = proof
            .proof
            .iter()
            .map(|h| hex::decode(h).ok()?.try_into().ok())
            .collect::<Option<_>>()?;
        Some(verify_consistency(s, size, &hashes, &ours, &head.root).is_ok())
    };
    // Sizes up to `lo` are consistent, `hi` is not.
    let (mut lo, mut hi) = (0u64, size.min(tree.size()));
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        match consistent(mid) {
            Some(true) => lo = mid,
            Some(false) => hi = mid,
            None => return,
        }
    }
    p.index = lo;
    p.message = format!(
        "the entries do not reproduce the signed checkpoint of size {size}: this entry is the first that differs from what was signed (the server's consistency proofs show the first {lo} entries match): it was rewritten together with its leaf hash, or entries were reordered or removed"
    );
}

/// Checks the log against a checkpoint saved earlier; answers its size if it is the log's.
fn check_saved(
    path: &PathBuf,
    walked: &mut audit::Walked,
    source: &Source,
    head: Option<&andon_ledger::Checkpoint>,
    origin: &str,
) -> anyhow::Result<Option<u64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // Signed by the key in force at its size: a retired key's checkpoint made after its
    // hand-over is not the log's.
    let prev = match walked.keys.verify_checkpoint(&text) {
        Ok(cp) => cp,
        Err(why) => {
            walked.findings.push(Problem {
                index: walked.tree.size(),
                kind: None,
                check: "saved_checkpoint".into(),
                checkpoint: None,
                message: format!(
                    "the saved checkpoint {} is not the log's: {why}",
                    path.display()
                ),
            });
            return Ok(None);
        }
    };
    if prev.origin != origin {
        anyhow::bail!(
            "the saved checkpoint is of log {:?}, not {origin:?}",
            prev.origin
        );
    }
    extends(
        walked,
        source,
        head,
        &prev,
        "saved_checkpoint",
        "the saved checkpoint",
    )?;
    Ok(Some(prev.size))
}

/// Records a problem (check `check`) unless the log is an extension of `prev`, a checkpoint
/// trusted for another reason (saved earlier, cosigned by witnesses) and named `what`.
fn extends(
    walked: &mut audit::Walked,
    source: &Source,
    head: Option<&andon_ledger::Checkpoint>,
    prev: &andon_ledger::Checkpoint,
    check: &str,
    what: &str,
) -> anyhow::Result<()> {
    let size = walked.tree.size();
    let mut problem = |index: u64, message: String| {
        walked.findings.push(Problem {
            index,
            kind: None,
            check: check.into(),
            checkpoint: Some(prev.size),
            message,
        });
    };
    if prev.size > size {
        problem(
            size,
            format!(
                "the log shrank: {what} has {} entries, the log {size}",
                prev.size
            ),
        );
    } else if walked.tree.root_at(prev.size).ok() != Some(prev.root) {
        problem(
            prev.size.saturating_sub(1),
            format!(
                "the log is not an extension of {what} of size {} (history was rewritten)",
                prev.size
            ),
        );
    } else if let (Source::Server(c), Some(head)) = (source, head)
        && prev.size > 0
        && prev.size < head.size
    {
        // Also check the server's own consistency proof, as a witness would.
        let p = c.consistency_proof(prev.size, Some(head.size))?;
        let hashes: Vec<Hash> = p
            .proof
            .iter()
            .map(|h| {
                hex::decode(h)?
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("a proof hash is not 32 bytes"))
            })
            .collect::<anyhow::Result<_>>()?;
        if verify_consistency(prev.size, head.size, &hashes, &prev.root, &head.root).is_err() {
            problem(
                prev.size,
                "the server's consistency proof does not verify".into(),
            );
        }
    }
    Ok(())
}
