//! The ledger, read: its description, the latest checkpoint, entries, inclusion and
//! consistency proofs, and the self-check on demand.

use std::sync::RwLockReadGuard;

use andon_domain::Role;
use andon_domain::api::{ConsistencyProof, EntriesPage, EntryView, InclusionProof, LogInfo};
use andon_domain::query::ledger::{ConsistencyQuery, EntriesQuery, InclusionQuery};
use andon_ledger::MerkleTree;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::{Actor, App, AppError};

/// `GET /v1/ledger`: the log's origin, keys, size and latest signed checkpoint.
pub fn info(app: &App, _actor: &Actor) -> LogInfo {
    let cp = app.latest();
    LogInfo {
        origin: app.0.origin.clone(),
        verifier_key: app.0.keys.current().to_string(),
        size: cp.checkpoint.size,
        checkpoint: cp.note.clone(),
        previous_verifier_keys: app.previous_keys(),
    }
}

/// `GET /v1/ledger/checkpoint`: the latest checkpoint as a plain signed note, the form
/// witnesses and `curl` expect, with the witnesses' cosignatures once they have cosigned it.
pub async fn checkpoint(app: &App, _actor: &Actor) -> Result<String, AppError> {
    let cp = app.latest();
    let lines = app.store().cosignatures(cp.checkpoint.size).await?;
    Ok(with_cosignatures(
        &cp.note,
        lines.iter().map(|c| c.line.as_str()),
    ))
}

/// `GET /v1/ledger/cosigned`: the newest checkpoint a witness cosigned, with every
/// cosignature it has; what an auditor requiring witnesses verifies the log against.
pub async fn cosigned(app: &App, _actor: &Actor) -> Result<String, AppError> {
    let (cp, lines) = app.store().latest_cosigned().await?.ok_or_else(|| {
        AppError::not_found("no witness has cosigned a checkpoint of this log yet")
    })?;
    Ok(with_cosignatures(
        &cp.note,
        lines.iter().map(|c| c.line.as_str()),
    ))
}

/// A note with signature lines appended.
fn with_cosignatures<'a>(note: &str, lines: impl Iterator<Item = &'a str>) -> String {
    let mut out = note.to_owned();
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `GET /v1/ledger/entries`: committed entries from `start`, with their documents.
pub async fn entries(app: &App, _actor: &Actor, q: EntriesQuery) -> Result<EntriesPage, AppError> {
    let size = app.latest().checkpoint.size;
    let start = q.start.unwrap_or(0);
    let limit = q.limit.unwrap_or(500).clamp(1, 5000);
    let rows = if start >= size {
        vec![]
    } else {
        app.store()
            .entries(start, limit.min((size - start) as u32))
            .await?
    };
    Ok(EntriesPage {
        entries: rows
            .into_iter()
            .map(|e| EntryView {
                index: e.index,
                kind: e.kind,
                leaf_hash: hex::encode(e.leaf_hash),
                entry: STANDARD.encode(&e.entry),
                document: e.document.map(|d| STANDARD.encode(d)),
            })
            .collect(),
    })
}

/// The in-memory tree, read.
fn tree(app: &App) -> Result<RwLockReadGuard<'_, MerkleTree>, AppError> {
    app.0
        .tree
        .read()
        .map_err(|_| AppError::unavailable("tree lock poisoned"))
}

/// A proof the tree refused (`out_of_range`).
fn out_of_range(m: impl Into<String>) -> AppError {
    AppError::bad_request("out_of_range", m)
}

/// `GET /v1/ledger/proof/inclusion`: entry `index` is in the tree of `size` (the latest by
/// default, then with its signed checkpoint).
pub fn inclusion(app: &App, _actor: &Actor, q: InclusionQuery) -> Result<InclusionProof, AppError> {
    let latest = app.latest();
    let size = q.size.unwrap_or(latest.checkpoint.size);
    if size > latest.checkpoint.size || q.index >= size {
        return Err(out_of_range(format!(
            "entry {} is not in a tree of size {size} (the log has {})",
            q.index, latest.checkpoint.size
        )));
    }
    let tree = tree(app)?;
    let proof = tree
        .inclusion_proof(q.index, size)
        .map_err(|e| out_of_range(e.to_string()))?;
    Ok(InclusionProof {
        index: q.index,
        tree_size: size,
        leaf_hash: hex::encode(tree.leaf(q.index).unwrap_or_default()),
        proof: proof.iter().map(hex::encode).collect(),
        checkpoint: (size == latest.checkpoint.size).then(|| latest.note.clone()),
    })
}

/// `GET /v1/ledger/proof/consistency`: the tree of `from` is a prefix of the tree of `to`
/// (the latest by default).
pub fn consistency(
    app: &App,
    _actor: &Actor,
    q: ConsistencyQuery,
) -> Result<ConsistencyProof, AppError> {
    let latest = app.latest().checkpoint.size;
    let to = q.to.unwrap_or(latest);
    if to > latest {
        return Err(out_of_range(format!(
            "the log has {latest} entries, not {to}"
        )));
    }
    let tree = tree(app)?;
    let proof = tree
        .consistency_proof(q.from, to)
        .map_err(|e| out_of_range(e.to_string()))?;
    Ok(ConsistencyProof {
        from: q.from,
        to,
        proof: proof.iter().map(hex::encode).collect(),
    })
}

/// `POST /v1/ledger/verify` (admin, auditor): the server checks its own stored ledger now.
pub async fn verify(app: &App, actor: &Actor) -> Result<serde_json::Value, AppError> {
    actor.require(&[Role::Admin, Role::Auditor])?;
    super::self_check::run(app).await
}
