//! Several servers on one database: entries the others appended are taken into this
//! server's tree, checked against their signed checkpoint.

use crate::App;
use crate::AppError;
use andon_ledger::{Checkpoint, SignedCheckpoint};
use andon_store::{Sequencing, StoredCheckpoint};
use std::sync::Arc;

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
        return Ok(());
    }
    let (leaves, checkpoint) = sequencing.appended_since(have, size).await?;
    adopt(app, have, leaves, checkpoint, Some(last_signed))?;
    // Another server may have issued or revoked tokens and keys: the authority takes in
    // their entries before this server sequences anything after them.
    let now = app.0.tree.read().map(|t| t.size()).unwrap_or(have);
    crate::authority::absorb(app, have, now).await
}

/// Extends the tree with leaves appended elsewhere from `from`, if it still ends there, and
/// publishes their checkpoint once the tree's root matches it.
pub fn adopt(
    app: &App,
    from: u64,
    leaves: Vec<[u8; 32]>,
    checkpoint: Option<StoredCheckpoint>,
    last_signed: Option<&mut Arc<SignedCheckpoint>>,
) -> Result<(), AppError> {
    let adopted = leaves.len();
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
        if let Err(why) = authentic(app, &cp) {
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

/// Whether a checkpoint another server stored is signed by this log's key, for this log,
/// and says what its row says. Only the configured key counts: keys named in the database
/// could have been put there by whoever wrote the checkpoint.
fn authentic(app: &App, cp: &StoredCheckpoint) -> Result<(), String> {
    let key = app.0.signer.verifier();
    let signed = key
        .verify(&cp.note)
        .map_err(|_| format!("its signature does not verify with the log key {key}"))?;
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
        if let Err(e) = adopt(&app, have, leaves, Some(checkpoint), None) {
            tracing::error!(error = %e.message, "taking in other servers' entries failed");
            continue;
        }
        let now = app.0.tree.read().map(|t| t.size()).unwrap_or(have);
        if let Err(e) = crate::authority::absorb(&app, have, now).await {
            tracing::error!(error = %e.message, "taking in other servers' authority entries failed");
        }
    }
}
