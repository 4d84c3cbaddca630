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

/// Checks the stored ledger (see the module) and answers the tree of its leaf hashes, or
/// why the start is refused.
pub async fn verified_tree(
    store: &Store,
    origin: &str,
    keys: StartKeys<'_>,
    file: Option<&Path>,
) -> Result<MerkleTree, String> {
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
    if let Some(path) = file {
        let trusted = trusted_for_file(&keys);
        if let Some(note) = saved {
            check_file(store, path, &note, origin, &trusted, &tree).await?;
        }
        if let Some(c) = &latest {
            super::anchor::write(path, &c.note)
                .map_err(|e| format!("cannot write the checkpoint file {}: {e}", path.display()))?;
        }
    } else {
        tracing::warn!(
            "no checkpoint file: a rollback of the database together with its checkpoints would go unnoticed at start"
        );
    }
    Ok(tree)
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

/// The database extends the checkpoint this server saved: the tree of its leaves at the
/// saved size has the saved root (what a consistency proof from the saved checkpoint to
/// the database's would show; with every leaf at hand the root is compared directly).
async fn check_file(
    store: &Store,
    path: &Path,
    note: &str,
    origin: &str,
    trusted: &[NoteVerifier],
    tree: &MerkleTree,
) -> Result<(), String> {
    let shown = path.display();
    let saved = trusted
        .iter()
        .find_map(|k| k.verify(note).ok())
        .ok_or_else(|| {
            format!("refusing to start: the checkpoint file {shown} is not signed by this log's key: it was altered, or belongs to another log")
        })?;
    if saved.origin != origin {
        return Err(format!(
            "refusing to start: the checkpoint file {shown} is of log {:?}, this database of {origin:?}",
            saved.origin
        ));
    }
    let have = tree.size();
    let aside =
        "If this is intended (a restore from an older backup), move the file aside and start again";
    if saved.size > have {
        return Err(format!(
            "refusing to start: the database holds {have} ledger entries, fewer than the {} of the checkpoint this server saved in {shown}: entry {have} and those after it up to {} are missing, removed together with their checkpoints (a rollback or truncation). {aside}",
            saved.size,
            saved.size - 1
        ));
    }
    if tree.root_at(saved.size).ok() != Some(saved.root) {
        let stored = store
            .checkpoints(0, saved.size)
            .await
            .map_err(|e| e.to_string())?;
        let sizes: Vec<u64> = stored.iter().map(|c| c.size).collect();
        let signed = |size: u64| {
            let c = stored.iter().find(|c| c.size == size)?;
            trusted.iter().find_map(|k| k.verify(&c.note).ok())
        };
        let first = first_divergence(tree, &sizes, signed)
            .map(|(good, _)| good)
            .unwrap_or(0);
        return Err(format!(
            "refusing to start: the database is not an extension of the checkpoint of size {} this server saved in {shown}: its first {} entries differ from what was signed (the first that differs is entry {first} or after it). {aside}",
            saved.size, saved.size
        ));
    }
    Ok(())
}
