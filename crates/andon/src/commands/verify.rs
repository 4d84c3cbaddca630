//! `andon verify`: an auditor's check of the ledger.
//!
//! `verify` fetches every entry (from the server, or straight from a database URL), recomputes
//! each leaf hash from the stored bytes, checks each stored document against the digest its
//! entry commits to, rebuilds the whole tree, and checks the root against the signed
//! checkpoint and against a checkpoint saved earlier. It names the first entry that differs.

use std::path::PathBuf;
use std::process::ExitCode;

use andon_ledger::{Hash, MerkleTree, NoteVerifier, leaf_hash, verify_consistency};
use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit};
use crate::commands::ledger::entry::{Entry, Rotation, check_entry};

/// Flags of `andon verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// Read the ledger straight from this database instead of the server.
    #[arg(long)]
    pub database: Option<String>,
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
    #[arg(long, conflicts_with_all = ["database", "checkpoint", "save_checkpoint"])]
    pub package: Option<PathBuf>,
}

enum Source {
    Server(andon_client::Client),
    Database(andon_store::Store, tokio::runtime::Runtime),
}

impl Source {
    fn head(&self) -> anyhow::Result<(String, String)> {
        match self {
            Source::Server(c) => {
                let i = c.ledger_info()?;
                Ok((i.verifier_key, i.checkpoint))
            }
            Source::Database(s, rt) => rt.block_on(async {
                let key = s
                    .meta("log_verifier_key")
                    .await?
                    .context("the database has no log key")?;
                let cp = s
                    .latest_checkpoint()
                    .await?
                    .context("the database has no checkpoint")?;
                Ok((key, cp.note))
            }),
        }
    }

    fn page(&self, start: u64, limit: u32) -> anyhow::Result<Vec<Entry>> {
        match self {
            Source::Server(c) => c
                .entries(start, limit)?
                .entries
                .into_iter()
                .map(|e| {
                    Ok(Entry {
                        index: e.index,
                        leaf_hash: hex::decode(&e.leaf_hash)?
                            .try_into()
                            .map_err(|_| anyhow::anyhow!("bad leaf hash"))?,
                        entry: STANDARD.decode(&e.entry)?,
                        document: e.document.map(|d| STANDARD.decode(d)).transpose()?,
                    })
                })
                .collect(),
            Source::Database(s, rt) => Ok(rt
                .block_on(s.entries(start, limit))?
                .into_iter()
                .map(|e| Entry {
                    index: e.index,
                    leaf_hash: e.leaf_hash,
                    entry: e.entry,
                    document: e.document,
                })
                .collect()),
        }
    }
}

/// The verdict.
#[derive(Serialize)]
pub struct Report {
    ok: bool,
    origin: String,
    size: u64,
    root: String,
    entries_checked: u64,
    key_pinned: bool,
    previous_checkpoint: Option<u64>,
    first_bad_entry: Option<u64>,
    problem: Option<String>,
    /// Log key rotations met on the way, in order.
    key_rotations: Vec<Rotation>,
}

/// The keys trusted so far: the pinned key (or, unpinned, the first key the log names) and
/// each key a trusted key handed the log over to.
struct Trust {
    chain: Vec<String>,
    rotations: Vec<Rotation>,
}

impl Trust {
    /// Follows a rotation whose signature verified. Pinned, a rotation from a key before the
    /// pinned one is history before the anchor; unpinned, rotations must form one chain.
    fn follow(&mut self, r: Rotation, pinned: bool) -> Result<(), String> {
        match self.chain.last() {
            None => self.chain.extend([r.previous.clone(), r.next.clone()]),
            Some(last) if *last == r.previous => self.chain.push(r.next.clone()),
            Some(_) if pinned => {}
            Some(last) => {
                return Err(format!(
                    "it rotates away from {}, but the log was signed by {last} then",
                    r.previous
                ));
            }
        }
        self.rotations.push(r);
        Ok(())
    }

    fn trusts(&self, key: &str) -> bool {
        self.chain.iter().any(|k| k == key)
    }
}

/// Runs `andon verify`.
pub fn run(ctx: &Context, v: &VerifyArgs, out: Output) -> anyhow::Result<ExitCode> {
    if let Some(p) = &v.package {
        return crate::commands::package::verify(p, v.log_key.as_deref(), out);
    }
    let source = match &v.database {
        Some(url) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let store = rt.block_on(andon_store::Store::connect(url))?;
            Source::Database(store, rt)
        }
        None => Source::Server(client(ctx)),
    };
    let (reported_key, note) = source.head()?;
    let reported = NoteVerifier::parse(&reported_key)?;
    let pinned = v
        .log_key
        .as_deref()
        .map(NoteVerifier::parse)
        .transpose()
        .context("--log-key")?;
    let key_text = pinned.as_ref().unwrap_or(&reported).to_string();
    // The latest checkpoint is signed by the pinned key, or by a key the log's own rotation
    // entries lead to from it (checked once they have been read).
    let head_signer = match &pinned {
        Some(p) if p.verify(&note).is_ok() => p.clone(),
        _ => reported.clone(),
    };
    let cp = head_signer
        .verify(&note)
        .context("the latest checkpoint's signature does not verify")?;
    let saved = match &v.checkpoint {
        Some(p) => Some((
            p,
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )),
        None => None,
    };
    let mut trust = Trust {
        chain: pinned.iter().map(|p| p.to_string()).collect(),
        rotations: vec![],
    };

    let bar = indicatif::ProgressBar::new(cp.size);
    if out == Output::Json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut tree = MerkleTree::new();
    let mut problem: Option<(u64, String)> = None;
    while tree.size() < cp.size && problem.is_none() {
        let want = (cp.size - tree.size()).min(1000) as u32;
        let page = source.page(tree.size(), want)?;
        if page.is_empty() {
            problem = Some((tree.size(), "it is missing".into()));
            break;
        }
        for e in page {
            if e.index != tree.size() {
                problem = Some((tree.size(), "it is missing".into()));
                break;
            }
            match check_entry(&e).and_then(|r| match r {
                Some(r) => trust.follow(r, pinned.is_some()),
                None => Ok(()),
            }) {
                Ok(()) => {}
                Err(why) => {
                    problem = Some((e.index, why));
                    break;
                }
            }
            tree.push(leaf_hash(&e.entry));
            bar.inc(1);
            if tree.size() == cp.size {
                break;
            }
        }
    }
    bar.finish_and_clear();

    if trust.chain.is_empty() {
        trust.chain.push(reported.to_string());
    }
    if problem.is_none() && !trust.trusts(&head_signer.to_string()) {
        problem = Some((
            cp.size,
            format!(
                "the latest checkpoint is signed by {head_signer}, a key the pinned key never handed the log over to"
            ),
        ));
    }
    let keys: Vec<NoteVerifier> = trust
        .chain
        .iter()
        .filter_map(|k| NoteVerifier::parse(k).ok())
        .collect();
    let mut previous = None;
    if let Some((p, text)) = &saved {
        let prev = keys
            .iter()
            .find_map(|k| k.verify(text).ok())
            .with_context(|| {
                format!(
                    "the saved checkpoint {} is not signed by a trusted log key",
                    p.display()
                )
            })?;
        if prev.origin != cp.origin {
            bail!(
                "the saved checkpoint is of log {:?}, not {:?}",
                prev.origin,
                cp.origin
            );
        }
        previous = Some(prev);
    }
    if problem.is_none() && tree.root_at(cp.size)? != cp.root {
        problem = Some((first_bad_by_checkpoints(&source, &keys, &tree, cp.size), "the recomputed tree does not match the signed checkpoint: entries were rewritten together with their leaf hashes".into()));
    }
    if problem.is_none()
        && let Some(prev) = &previous
    {
        if prev.size > cp.size {
            problem = Some((
                cp.size,
                format!(
                    "the log shrank: the saved checkpoint has {} entries, the log {}",
                    prev.size, cp.size
                ),
            ));
        } else if tree.root_at(prev.size)? != prev.root {
            problem = Some((
                prev.size,
                "the log is not an extension of the saved checkpoint (history was rewritten)"
                    .into(),
            ));
        } else if let (Source::Server(c), true) = (&source, prev.size > 0 && prev.size < cp.size) {
            // Also check the server's own consistency proof, as a witness would.
            let p = c.consistency_proof(prev.size, Some(cp.size))?;
            let hashes: Vec<Hash> = p
                .proof
                .iter()
                .map(|h| hex_hash(h))
                .collect::<anyhow::Result<_>>()?;
            if verify_consistency(prev.size, cp.size, &hashes, &prev.root, &cp.root).is_err() {
                problem = Some((
                    prev.size,
                    "the server's consistency proof does not verify".into(),
                ));
            }
        }
    }
    if problem.is_none()
        && let Some(path) = &v.save_checkpoint
    {
        std::fs::write(path, &note).with_context(|| format!("writing {}", path.display()))?;
    }
    let report = Report {
        ok: problem.is_none(),
        origin: cp.origin.clone(),
        size: cp.size,
        root: hex::encode(cp.root),
        entries_checked: tree.size(),
        key_pinned: v.log_key.is_some(),
        previous_checkpoint: previous.as_ref().map(|p| p.size),
        first_bad_entry: problem.as_ref().map(|p| p.0),
        problem: problem.as_ref().map(|p| p.1.clone()),
        key_rotations: trust.rotations.clone(),
    };
    emit(out, &report, |r| {
        if !r.key_pinned {
            println!(
                "note: checked against the key the source reports; pin it with --log-key {key_text}"
            );
        }
        match (&r.first_bad_entry, &r.problem) {
            (Some(i), Some(why)) => println!("FAILED: entry {i}: {why}"),
            _ => {
                println!(
                    "ok: {} entries of {} verified, root {}",
                    r.entries_checked, r.origin, r.root
                );
                for k in &r.key_rotations {
                    println!(
                        "ok: entry {}: the log key {} handed over to {}",
                        k.index, k.previous, k.next
                    );
                }
                if let Some(p) = r.previous_checkpoint {
                    println!("ok: consistent with the saved checkpoint of size {p}");
                }
            }
        }
    })?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// When leaf hashes were rewritten with their entries, the stored signed checkpoints (one per
/// batch) bound the first altered entry: it lies after the last checkpoint that still
/// matches.
fn first_bad_by_checkpoints(
    source: &Source,
    keys: &[NoteVerifier],
    tree: &MerkleTree,
    size: u64,
) -> u64 {
    let Source::Database(store, rt) = source else {
        return 0;
    };
    let Ok(cps) = rt.block_on(store.checkpoints(1, size)) else {
        return 0;
    };
    let mut last_good = 0;
    for c in cps {
        let Some(cp) = keys.iter().find_map(|k| k.verify(&c.note).ok()) else {
            continue;
        };
        if tree.root_at(cp.size).ok() == Some(cp.root) {
            last_good = cp.size;
        } else {
            break;
        }
    }
    last_good
}

fn hex_hash(h: &str) -> anyhow::Result<Hash> {
    hex::decode(h)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("a proof hash is not 32 bytes"))
}
