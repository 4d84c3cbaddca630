//! What a start checks before it signs anything: the stored entries hash to their leaf
//! hashes, none is missing, their tree reproduces the latest stored checkpoint (signed by
//! the log key), and it extends the checkpoint this server kept in its checkpoint file.
//! A database that fails any of these is refused, naming the first problem: a start never
//! signs a checkpoint over a history it has not checked.

use std::path::Path;

use andon_ledger::{Checkpoint, LogSigner, MerkleTree, NoteVerifier};
use andon_store::Store;

use crate::audit::stored::{self, Checkpoints};
use crate::audit::{Audit, Findings, LogKeys, first_divergence};

/// The keys a start trusts: its own, the retiring one while rotating, and (for the
/// checkpoint file only) the previous keys the database names.
pub struct StartKeys<'a> {
    /// The configured log key.
    pub signer: &'a LogSigner,
    /// The key being rotated away from, when rotating.
    pub retiring: Option<&'a LogSigner>,
    /// The previous keys the database names.
    pub previous: &'a [String],
}

/// A signed checkpoint larger than the stored log, or not a prefix of it: entries the log
/// once had and the database no longer holds (a restore from an older backup, a rollback).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Loss {
    /// Where the checkpoint came from (the checkpoint file, a witness, the configured one).
    pub source: String,
    /// Its size.
    pub size: u64,
    /// Its root (hex), when known (a witness names only its size).
    pub root: Option<String>,
    /// The first entry the database does not hold as signed: entries from it up to `size`
    /// are lost.
    pub from: u64,
}

/// What a start found: the verified tree, and the checkpoints that show entries lost.
pub struct Verified {
    /// The tree of the stored leaf hashes.
    pub tree: MerkleTree,
    /// Signed checkpoints the stored log does not extend.
    pub losses: Vec<Loss>,
}

/// Checks the stored ledger (see the module) and answers the tree of its leaf hashes and
/// the signed checkpoints (the checkpoint file's, `highest`: one an operator configured)
/// it does not extend, or why the start is refused.
pub async fn verified_tree(
    store: &Store,
    origin: &str,
    keys: StartKeys<'_>,
    file: Option<&Path>,
    highest: Option<(&Path, &str)>,
) -> Result<Verified, String> {
    let chain = LogKeys::new(
        keys.retiring.map(|r| r.verifier()).into_iter().collect(),
        keys.signer.verifier(),
    );
    let mut audit = Audit::new(chain.clone(), vec![], Some(origin.to_owned()));
    // Read before the walk: on PostgreSQL other servers append meanwhile (and, sharing a
    // directory, update the file), and what the file held then is within what is walked.
    let saved = match file {
        Some(path) => super::anchor::read(path)?,
        None => None,
    };
    // On PostgreSQL other servers may append meanwhile: walk until the newest checkpoint
    // is within what was walked.
    let mut latest = None;
    for _ in 0..5 {
        stored::walk(store, &mut audit, None, Checkpoints::None, false)
            .await
            .map_err(|e| e.to_string())?;
        latest = store.latest_checkpoint().await.map_err(|e| e.to_string())?;
        if latest.as_ref().is_none_or(|c| c.size <= audit.position()) {
            break;
        }
    }
    if let Some(c) = &latest {
        audit.checkpoint(c.size, c.root, &c.note);
    }
    let walked = audit.finish(0);
    if !walked.findings.is_clean() {
        let located = locate(store, &walked.tree, &walked.findings, &chain).await;
        return Err(refusal(&walked.findings, located));
    }
    let tree = walked.tree;
    let trusted = trusted_for_file(&keys);
    let mut losses = Vec::new();
    if let (Some(path), Some(note)) = (file, &saved) {
        let source = format!("the checkpoint file {}", path.display());
        losses.extend(extends(store, &source, note, origin, &trusted, &tree).await?);
    }
    if let Some((path, note)) = highest {
        let source = format!("the highest checkpoint {}", path.display());
        losses.extend(extends(store, &source, note, origin, &trusted, &tree).await?);
    }
    match (file, &latest) {
        // Only once nothing is known lost: a file that shows a loss stays as the record of
        // it until the loss is acknowledged (and the next flush replaces it).
        (Some(path), Some(c)) if losses.is_empty() => super::anchor::write(path, &c.note)
            .map_err(|e| format!("cannot write the checkpoint file {}: {e}", path.display()))?,
        (None, _) => tracing::warn!(
            "no checkpoint file: a rollback of the database together with its checkpoints would go unnoticed at start"
        ),
        _ => {}
    }
    Ok(Verified { tree, losses })
}

fn refusal(findings: &Findings, located: Option<String>) -> String {
    let first = findings.first().map(|p| p.to_string()).unwrap_or_default();
    format!(
        "refusing to start: the stored ledger does not match what was signed ({}). {first}{}. Nothing was signed over it; run andon verify --database to see every problem",
        findings.summary(),
        located.unwrap_or_default()
    )
}

/// When the entries do not reproduce the latest checkpoint, the stored checkpoints bound
/// the first changed entry.
async fn locate(
    store: &Store,
    tree: &MerkleTree,
    findings: &Findings,
    keys: &LogKeys,
) -> Option<String> {
    if !findings
        .problems
        .iter()
        .any(|p| p.check == "checkpoint_root")
    {
        return None;
    }
    let stored = store.checkpoints(0, tree.size()).await.ok()?;
    let sizes: Vec<u64> = stored.iter().map(|c| c.size).collect();
    let signed = |size: u64| -> Option<Checkpoint> {
        let c = stored.iter().find(|c| c.size == size)?;
        keys.chain().iter().find_map(|k| k.verify(&c.note).ok())
    };
    let (good, bad) = first_divergence(tree, &sizes, signed)?;
    Some(if bad - good == 1 {
        format!(
            "; entry {good} is the first that differs (the checkpoint of size {good} matches, the one of size {bad} does not)"
        )
    } else {
        format!(
            "; the first entry that differs is one of entries {good} to {} (the checkpoint of size {good} matches, the one of size {bad} does not)",
            bad - 1
        )
    })
}

fn trusted_for_file(keys: &StartKeys<'_>) -> Vec<NoteVerifier> {
    let mut out = vec![keys.signer.verifier()];
    out.extend(keys.retiring.map(|r| r.verifier()));
    out.extend(
        keys.previous
            .iter()
            .filter_map(|k| NoteVerifier::parse(k).ok()),
    );
    out
}

/// Whether the stored log extends the signed checkpoint `note` (from `source`): the tree of
/// its leaves at that size has that root (what a consistency proof from it would show;
/// with every leaf at hand the root is compared directly). `Some` names the loss when it
/// does not; a note that is not this log's refuses the start.
async fn extends(
    store: &Store,
    source: &str,
    note: &str,
    origin: &str,
    trusted: &[NoteVerifier],
    tree: &MerkleTree,
) -> Result<Option<Loss>, String> {
    let saved = trusted
        .iter()
        .find_map(|k| k.verify(note).ok())
        .ok_or_else(|| {
            format!("refusing to start: {source} is not signed by this log's key: it was altered, or belongs to another log")
        })?;
    if saved.origin != origin {
        return Err(format!(
            "refusing to start: {source} is of log {:?}, this database of {origin:?}",
            saved.origin
        ));
    }
    let have = tree.size();
    let root = Some(hex::encode(saved.root));
    if saved.size > have {
        return Ok(Some(Loss {
            source: source.to_owned(),
            size: saved.size,
            root,
            from: have,
        }));
    }
    if tree.root_at(saved.size).ok() == Some(saved.root) {
        return Ok(None);
    }
    let stored = store
        .checkpoints(0, saved.size)
        .await
        .map_err(|e| e.to_string())?;
    let sizes: Vec<u64> = stored.iter().map(|c| c.size).collect();
    let signed = |size: u64| {
        let c = stored.iter().find(|c| c.size == size)?;
        trusted.iter().find_map(|k| k.verify(&c.note).ok())
    };
    let from = first_divergence(tree, &sizes, signed)
        .map(|(good, _)| good)
        .unwrap_or(0);
    Ok(Some(Loss {
        source: source.to_owned(),
        size: saved.size,
        root,
        from,
    }))
}
