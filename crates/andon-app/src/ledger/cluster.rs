//! Several servers on one database: entries the others appended are taken into this
//! server's tree, checked against their signed checkpoint.

use crate::App;
use crate::AppError;
use andon_domain::{EntryKind, LedgerEntry};
use andon_ledger::{Checkpoint, NoteVerifier, SignedCheckpoint, leaf_hash};
use andon_store::{Sequencing, StoredCheckpoint};
use std::sync::Arc;

use super::keyring::hand_over_of;

/// Takes in what other servers appended, under the ledger lock: their leaves into the tree
/// (checked against their checkpoint) and that checkpoint as the latest.
pub(super) async fn catch_up(
    app: &App,
    sequencing: &mut Sequencing,
    size: u64,
    last_signed: &mut Arc<SignedCheckpoint>,
) -> Result<(), AppError> {
    let have = app.0.tree.read().map(|t| t.size()).unwrap_or(0);
    if have == size {
        return Ok(());
    }
    if have > size {
        // Entries this server committed but never made durable (and so never acknowledged
        // or published) were lost with the database, in a crash. What was published must
        // still be there; the rest is forgotten here too.
        let published = app.latest().checkpoint.size;
        if size < published {
            return Err(AppError::unavailable(format!(
                "the database holds {size} ledger entries, fewer than the {published} this server published: was it restored from a backup under a running server?"
            )));
        }
        tracing::warn!(
            database = size,
            committed = have,
            "entries committed but never made durable were lost with the database; none was acknowledged"
        );
        if let Ok(mut tree) = app.0.tree.write() {
            tree.truncate(size);
        }
        // A gather or a context kept since may have read them.
        app.0.gather_cache.clear();
        app.0.context_cache.clear();
        app.0.change_cache.clear();
        return Ok(());
    }
    let (leaves, checkpoint) = sequencing.appended_since(have, size).await?;
    adopt(app, have, leaves, checkpoint, Some(last_signed)).await?;
    // Another server may have issued or revoked tokens and keys: the authority takes in
    // their entries before this server sequences anything after them.
    let now = app.0.tree.read().map(|t| t.size()).unwrap_or(have);
    crate::authority::absorb(app, have, now).await
}

/// A hand-over among entries appended elsewhere: (index, previous, next, signature).
type HandOver = (u64, String, String, String);

/// The hand-overs among `leaves` (appended elsewhere from `from`), each checked against its
/// leaf hash.
async fn hand_overs(app: &App, from: u64, leaves: &[[u8; 32]]) -> Result<Vec<HandOver>, AppError> {
    let to = from + leaves.len() as u64;
    let found = app
        .store()
        .entries_of_kinds(from, to, &[EntryKind::LogKeyRotated.as_str()], 64)
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for (index, bytes) in found {
        let leaf = leaves.get((index - from) as usize);
        if leaf != Some(&leaf_hash(&bytes)) {
            return Err(AppError::unavailable(format!(
                "ledger entry {index} does not hash to its leaf: the stored hand-over of the log key was changed"
            )));
        }
        let entry: LedgerEntry = serde_json::from_slice(&bytes).map_err(|e| {
            AppError::unavailable(format!("ledger entry {index} is not an entry: {e}"))
        })?;
        let (previous, next, signature) = hand_over_of(&entry.body);
        out.push((index, previous, next, signature));
    }
    Ok(out)
}

/// Extends the tree with leaves appended elsewhere from `from`, if it still ends there, and
/// publishes their checkpoint once the tree's root matches it and it is signed by the key
/// in force at its size: the key the last hand-over among the leaves handed the log to,
/// which this server then follows (and stops signing if it does not hold it).
pub async fn adopt(
    app: &App,
    from: u64,
    leaves: Vec<[u8; 32]>,
    checkpoint: Option<StoredCheckpoint>,
    last_signed: Option<&mut Arc<SignedCheckpoint>>,
) -> Result<(), AppError> {
    let adopted = leaves.len();
    let rotations = hand_overs(app, from, &leaves).await?;
    // The key in force at the end of these entries, each hand-over checked in turn.
    let mut key = None;
    for (index, previous, next, signature) in &rotations {
        let (next_key, _) = app
            .0
            .keys
            .check_hand_over(key.as_ref(), previous, next, signature)
            .map_err(|why| {
                AppError::unavailable(format!(
                    "ledger entry {index}, appended by another server, is not a valid hand-over of the log key: {why}"
                ))
            })?;
        key = Some(next_key);
    }
    let key = key.unwrap_or_else(|| app.0.keys.current());
    let signed = {
        let mut tree = app
            .0
            .tree
            .write()
            .map_err(|_| AppError::unavailable("the ledger tree lock is poisoned"))?;
        if tree.size() != from {
            return Ok(());
        }
        for l in leaves {
            tree.push(l);
        }
        let size = tree.size();
        let Some(cp) = checkpoint.filter(|c| c.size == size) else {
            // Every batch a server commits carries its checkpoint: entries without one were
            // not appended by a server.
            tree.truncate(from);
            return Err(AppError::unavailable(format!(
                "entries {from} to {} in the database are not covered by a signed checkpoint: not taken in",
                size.saturating_sub(1)
            )));
        };
        if let Err(why) = authentic(app, &key, &cp) {
            tree.truncate(from);
            return Err(AppError::unavailable(format!(
                "the checkpoint of size {} another server stored is not adopted: {why}",
                cp.size
            )));
        }
        if tree.root() != cp.root {
            tree.truncate(from);
            return Err(AppError::unavailable(format!(
                "the ledger in the database does not match its checkpoint of size {}",
                cp.size
            )));
        }
        Arc::new(SignedCheckpoint {
            checkpoint: Checkpoint {
                origin: app.0.origin.clone(),
                size: cp.size,
                root: cp.root,
            },
            note: cp.note,
        })
    };
    for (index, previous, next, signature) in &rotations {
        app.0
            .keys
            .hand_over(*index, previous, next, signature)
            .map_err(AppError::unavailable)?;
    }
    if let Ok(mut l) = app.0.latest.write()
        && l.checkpoint.size < signed.checkpoint.size
    {
        *l = signed.clone();
    }
    if let Some(last) = last_signed {
        *last = signed;
    }
    tracing::debug!(
        entries = adopted,
        "took in entries appended by another server"
    );
    Ok(())
}

/// Whether a checkpoint another server stored is signed by `key` (the log key in force at
/// its size), for this log, and says what its row says. Only keys this log handed over to
/// count: keys named in the database could have been put there by whoever wrote it.
fn authentic(app: &App, key: &NoteVerifier, cp: &StoredCheckpoint) -> Result<(), String> {
    let signed = key
        .verify(&cp.note)
        .map_err(|_| format!("its signature does not verify with the log key in force, {key}"))?;
    if signed.origin != app.0.origin || signed.size != cp.size || signed.root != cp.root {
        return Err(format!(
            "its signed note (log {:?}, size {}) does not say what its row says",
            signed.origin, signed.size
        ));
    }
    Ok(())
}

/// On PostgreSQL, takes in what other servers appended every `every`, so an idle server
/// serves a current checkpoint and proofs of their entries.
pub async fn refresh(app: App, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let _own = app.0.sequencing.lock().await;
        let have = app.0.tree.read().map(|t| t.size()).unwrap_or(0);
        let store = app.store();
        let checkpoint = match store.latest_checkpoint().await {
            Ok(Some(c)) if c.size > have => c,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "reading the latest checkpoint failed");
                continue;
            }
        };
        let leaves = match store.leaf_hashes(have, checkpoint.size).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "reading new ledger entries failed");
                continue;
            }
        };
        if let Err(e) = adopt(&app, have, leaves, Some(checkpoint), None).await {
            tracing::error!(error = %e.message, "taking in other servers' entries failed");
            continue;
        }
        let now = app.0.tree.read().map(|t| t.size()).unwrap_or(have);
        if let Err(e) = crate::authority::absorb(&app, have, now).await {
            tracing::error!(error = %e.message, "taking in other servers' authority entries failed");
        }
    }
}
