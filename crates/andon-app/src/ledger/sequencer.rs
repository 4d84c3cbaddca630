//! The sequencer: the one task that assigns ledger indexes.
//!
//! Handlers send validated facts through a channel. The sequencer takes whatever has queued
//! up (up to `max_batch`), drops duplicates, assigns indexes, extends the in-memory tree,
//! signs one checkpoint for the batch and commits everything in one transaction. The commit
//! does not wait for the disk: a second task flushes everything committed so far with one
//! fsync (see `Store::make_durable`) while the sequencer writes the next batch, and only then
//! publishes the checkpoint and answers each waiting request with its inclusion proof. If the
//! commit fails, the tree is rolled back and every request in the batch gets an error; if
//! the flush fails, nobody is told their entry was recorded. Nothing is acknowledged before
//! it is durable.
//!
//! Several servers on one PostgreSQL share one ledger: each batch is built and committed
//! under the database's ledger lock (`Store::begin_sequencing`), so one server at a time
//! appends, and a server first takes in what the others appended since it last looked
//! (their leaves into its tree, their newest checkpoint). A server killed while holding the
//! lock loses its connection and with it the lock and its uncommitted batch, which nobody
//! was told about; the others go on.

use crate::App;
use crate::AppError;
use andon_domain::Via;
use andon_domain::api::Receipt;
use andon_domain::{EntryKind, LedgerEntry};
use andon_ledger::{Checkpoint, SignedCheckpoint, leaf_hash};
use andon_store::{Append, Batch, Effect, Store, WalRestart};

use crate::authority::{AUTHORITY_KINDS, Authority};
use crate::projection::{Document, document_of, effect_of, evidence_rows, rows_of};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use super::admission::check_admin;
use super::cluster::catch_up;
pub use super::cluster::{adopt, refresh};
use super::durable::{Committed, make_durable};
pub use super::fact::{Fact, Job};

/// What each job will be answered with once the batch is durable.
pub(super) enum Outcome {
    New { index: u64, id: Option<String> },
    Existing { index: u64, id: String },
    Refused(AppError),
}

/// Starts the sequencer on a thread of its own with its own runtime and its own database
/// connection. On the server's runtime it would queue behind every request handler at each
/// of the dozen statements of a batch (measured: a 50-entry commit took 20 ms under load
/// against 4 ms alone); on its own thread it only competes with the operating system.
pub async fn spawn(app: App, rx: mpsc::Receiver<Job>, url: String) -> Result<(), String> {
    let (ready_tx, ready_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("andon-sequencer".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                match Store::connect_deferred_durability(&url, app.0.config.wal_limit_bytes).await {
                    Ok(store) => {
                        let _ = ready_tx.send(Ok(()));
                        run(app, store, rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
        })
        .map_err(|e| format!("cannot start the sequencer thread: {e}"))?;
    ready_rx
        .await
        .map_err(|_| "the sequencer thread died at start".to_owned())?
}

async fn run(app: App, store: Store, mut rx: mpsc::Receiver<Job>) {
    let max = app.0.config.max_batch.max(1);
    let (synced, to_sync) = mpsc::unbounded_channel();
    tokio::spawn(make_durable(app.clone(), store.clone(), to_sync));
    let mut last_signed = app.latest();
    let mut unreachable_since: Option<std::time::Instant> = None;
    let linger = app.0.config.batch_linger;
    let mut wal_retry_at: Option<std::time::Instant> = None;
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let deadline = tokio::time::Instant::now() + linger;
        while jobs.len() < max {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) if linger.is_zero() => break,
                Err(_) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(j)) => jobs.push(j),
                    _ => break,
                },
            }
        }
        // While the database was just found unreachable, the batches queued behind that one
        // are refused at once (503, retry later) instead of each waiting out a timeout.
        if unreachable_since.is_some_and(|t| t.elapsed() < std::time::Duration::from_secs(1)) {
            fail_all(
                jobs,
                AppError::unavailable(
                    "the database is unavailable (restarting or unreachable); nothing was recorded, retry later",
                ),
            );
            continue;
        }
        let mut unreachable = false;
        process(
            &app,
            &store,
            jobs,
            &mut last_signed,
            &synced,
            &mut unreachable,
        )
        .await;
        unreachable_since = unreachable.then(std::time::Instant::now);
        // Between batches, the writer restarts a write-ahead log past its limit itself. A
        // reader that held it back (a backup, a long export) is given a second before the
        // next try, so that the batches meanwhile do not each wait for it.
        if wal_retry_at.is_none_or(|t| std::time::Instant::now() >= t) {
            let began = std::time::Instant::now();
            match store.restart_wal_past_limit().await {
                Ok(WalRestart::Restarted) => {
                    wal_retry_at = None;
                    tracing::debug!(
                        restart_ms = began.elapsed().as_secs_f64() * 1e3,
                        "write-ahead log restarted between batches"
                    );
                }
                Ok(WalRestart::Under) => wal_retry_at = None,
                Ok(WalRestart::Busy) => {
                    wal_retry_at = Some(began + std::time::Duration::from_secs(1));
                }
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
            }
        }
    }
}

async fn process(
    app: &App,
    store: &Store,
    jobs: Vec<Job>,
    last_signed: &mut Arc<SignedCheckpoint>,
    synced: &mpsc::UnboundedSender<Committed>,
    unreachable: &mut bool,
) {
    let began = std::time::Instant::now();
    // One batch at a time in this process (the refresher waits too), and on PostgreSQL one
    // server at a time: the ledger lock is held until the commit.
    let _own = app.0.sequencing.lock().await;
    if let Some(why) = app.0.schema_stopped.read().ok().and_then(|s| s.clone()) {
        return fail_all(jobs, AppError::unavailable(why));
    }
    let mut sequencing = match store.begin_sequencing().await {
        Ok(s) => s,
        Err(e) => {
            *unreachable = e.failure() == andon_store::Failure::Unavailable;
            return fail_all(jobs, e.into());
        }
    };
    if let Some(size) = sequencing.size
        && let Err(e) = catch_up(app, &mut sequencing, size, last_signed).await
    {
        return fail_all(jobs, e);
    }
    // The key in force once the others' entries are in: a server that no longer holds it
    // signs nothing (see `keyring`).
    let mut in_force = match app.0.keys.signers() {
        Ok(s) => s,
        Err(e) => return fail_all(jobs, e),
    };
    let mut handed_over: Option<(u64, String, String, String)> = None;
    // Entries are stamped by the application's clock, the one every rule judges time by
    // (token expiry, the late window, grants): a verifier replaying them sees the same times.
    let now =
        jiff::Timestamp::from_millisecond(app.now()).unwrap_or_else(|_| jiff::Timestamp::now());
    let time = now.to_string();
    let time_ms = now.as_millisecond();

    // Evidence already in the database answers with its existing entry.
    let ids: Vec<String> = jobs
        .iter()
        .filter_map(|j| match &j.fact {
            Fact::Evidence { id, .. } => Some(id.clone()),
            Fact::Admin { .. } | Fact::Source { .. } => None,
        })
        .collect();
    let known: HashMap<String, u64> = match store.existing_evidence(&ids).await {
        Ok(v) => v.into_iter().collect(),
        Err(e) => return fail_all(jobs, e.into()),
    };

    // Decisions already recorded (the same request asked again within the millisecond it
    // was signed), for the whole batch in one statement.
    let decision_ids: Vec<String> = jobs
        .iter()
        .filter_map(|j| match &j.fact {
            Fact::Admin {
                effect: Effect::Decision { id, .. },
                ..
            } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let decisions = match store.decisions_recorded(&decision_ids).await {
        Ok(d) => d,
        Err(e) => return fail_all(jobs, e.into()),
    };

    tracing::debug!(
        jobs = jobs.len(),
        lookup_ms = began.elapsed().as_secs_f64() * 1e3,
        "batch deduplicated"
    );
    let start = app.0.tree.read().map(|t| t.size()).unwrap_or(0);
    let mut next = start;
    let mut appends = Vec::new();
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut in_batch: HashMap<String, u64> = HashMap::new();
    let mut claimed: HashSet<String> = HashSet::new();
    // The authority with this batch's entries applied so far (cloned at the batch's first
    // entry that changes it); it replaces the application's once the batch is committed.
    let mut view: Option<Authority> = None;
    let now_ms = time_ms;

    for job in &jobs {
        let outcome = match &job.fact {
            Fact::Evidence {
                id,
                fact,
                document,
                components,
                actor,
                via,
            } => {
                let admitted = admit_actor(app, &view, via.as_ref(), now_ms).and_then(|()| {
                    with_view(app, &view, |a| match &fact.keyless {
                        Some(k) => a.admit_keyless(fact.application.as_str(), k),
                        None => a.admit_signers(
                            fact.application.as_str(),
                            std::iter::once(&fact.keyid)
                                .chain(&fact.cosigners)
                                .map(|k| k.as_str()),
                            now_ms,
                        ),
                    })
                });
                if let Err(e) = admitted {
                    Outcome::Refused(e)
                } else if let Some(&index) = known.get(id).or_else(|| in_batch.get(id)) {
                    Outcome::Existing {
                        index,
                        id: id.clone(),
                    }
                } else {
                    let entry = LedgerEntry {
                        v: 1,
                        kind: EntryKind::Evidence,
                        time: time.clone(),
                        actor: actor.clone(),
                        via: via.clone(),
                        body: serde_json::to_value(fact).unwrap_or_default(),
                        rows: None,
                    };
                    // The same mapping the replay applies to the entry's body.
                    let effect = evidence_rows(fact, document.clone(), components.clone());
                    let bytes = entry.to_bytes();
                    appends.push(Append {
                        index: next,
                        kind: EntryKind::Evidence.as_str(),
                        leaf_hash: leaf_hash(&bytes),
                        entry: bytes,
                        time_ms,
                        effect,
                    });
                    in_batch.insert(id.clone(), next);
                    next += 1;
                    Outcome::New {
                        index: next - 1,
                        id: Some(id.clone()),
                    }
                }
            }
            Fact::Source { fact, payload } => {
                let key = format!("{}:{}", fact.provider, fact.delivery);
                let seen = if claimed.insert(format!("delivery:{key}")) {
                    store.delivery_seen(&fact.provider, &fact.delivery).await
                } else {
                    Ok(true)
                };
                match seen {
                    Err(e) => Outcome::Refused(e.into()),
                    Ok(true) => Outcome::Refused(AppError::new(
                        crate::ErrorKind::Conflict,
                        "replayed_delivery",
                        format!(
                            "{} delivery {} was already recorded",
                            fact.provider, fact.delivery
                        ),
                    )),
                    Ok(false) => {
                        let entry = LedgerEntry {
                            v: 1,
                            kind: EntryKind::SourceEvent,
                            time: time.clone(),
                            actor: format!("webhook:{}", fact.provider),
                            via: None,
                            body: serde_json::to_value(fact).unwrap_or_default(),
                            rows: None,
                        };
                        let effect = match effect_of(&entry, Document::Bytes(payload)) {
                            Ok(e) => e,
                            Err(why) => {
                                outcomes.push(Outcome::Refused(AppError::unavailable(why)));
                                continue;
                            }
                        };
                        let bytes = entry.to_bytes();
                        appends.push(Append {
                            index: next,
                            kind: EntryKind::SourceEvent.as_str(),
                            leaf_hash: leaf_hash(&bytes),
                            entry: bytes,
                            time_ms,
                            effect,
                        });
                        next += 1;
                        Outcome::New {
                            index: next - 1,
                            id: None,
                        }
                    }
                }
            }
            Fact::Admin {
                kind,
                actor,
                via,
                body,
                effect,
                signed_under,
            } => match check_admin(store, effect, &mut claimed, &decisions)
                .await
                .and_then(|()| admit_actor(app, &view, via.as_ref(), now_ms))
                .and_then(|()| signed_in_force(*signed_under, &in_force))
                .and_then(|()| hand_over(app, *kind, body, next, &mut in_force, &mut handed_over))
            {
                Err(e) => Outcome::Refused(e),
                Ok(()) => {
                    let entry = LedgerEntry {
                        v: 1,
                        kind: *kind,
                        time: time.clone(),
                        actor: actor.clone(),
                        via: via.clone(),
                        body: body.clone(),
                        rows: rows_of(*kind, effect),
                    };
                    // The rows written are the entry's own, read back as `andon verify`
                    // reads them when it replays the ledger.
                    let effect = match effect_of(&entry, document_of(effect)) {
                        Ok(e) => e,
                        Err(why) => {
                            outcomes.push(Outcome::Refused(AppError::unavailable(why)));
                            continue;
                        }
                    };
                    if let Err(e) = apply_to_view(app, &mut view, next, &entry) {
                        outcomes.push(Outcome::Refused(e));
                        continue;
                    }
                    let bytes = entry.to_bytes();
                    appends.push(Append {
                        index: next,
                        kind: kind.as_str(),
                        leaf_hash: leaf_hash(&bytes),
                        entry: bytes,
                        time_ms,
                        effect,
                    });
                    next += 1;
                    Outcome::New {
                        index: next - 1,
                        id: None,
                    }
                }
            },
        };
        outcomes.push(outcome);
    }

    let signed = if appends.is_empty() {
        last_signed.clone()
    } else {
        let signed = {
            let Ok(mut tree) = app.0.tree.write() else {
                return fail_all(
                    jobs,
                    AppError::unavailable("the ledger tree lock is poisoned"),
                );
            };
            for a in &appends {
                tree.push(a.leaf_hash);
            }
            in_force.log.sign(&Checkpoint {
                origin: app.0.origin.clone(),
                size: tree.size(),
                root: tree.root(),
            })
        };
        let batch = Batch {
            appends,
            checkpoint: Some((
                signed.checkpoint.size,
                signed.checkpoint.root,
                signed.note.clone(),
            )),
        };
        let began = std::time::Instant::now();
        let committed = store.commit_sequenced(sequencing, &batch).await;
        tracing::debug!(
            entries = batch.appends.len(),
            commit_ms = began.elapsed().as_secs_f64() * 1e3,
            "batch committed"
        );
        if let Err(e) = committed {
            if let Ok(mut tree) = app.0.tree.write() {
                tree.truncate(start);
            }
            return fail_all(jobs, e.into());
        }
        if let Some(view) = view
            && let Ok(mut a) = app.0.authority.write()
        {
            *a = view;
        }
        if let Some((index, previous, next, signature)) = handed_over
            && let Err(why) = app.0.keys.hand_over(index, &previous, &next, &signature)
        {
            tracing::error!(%why, "a committed hand-over of the log key was not followed");
        }
        let signed = Arc::new(signed);
        *last_signed = signed.clone();
        signed
    };
    if synced
        .send(Committed {
            signed,
            replies: jobs.into_iter().zip(outcomes).collect(),
        })
        .is_err()
    {
        tracing::error!("the durability task has stopped; batch left unanswered");
    }
}

/// Refuses what was signed with the log key under an earlier hand-over (a gate decision
/// signed just before the log changed keys): its signature would not verify at its place.
fn signed_in_force(
    signed_under: Option<u64>,
    in_force: &crate::ledger::keyring::Signers,
) -> Result<(), AppError> {
    match signed_under {
        Some(g) if g != in_force.generation => Err(AppError::unavailable(
            "the log key was handed over while this was being signed; nothing was recorded, retry",
        )),
        _ => Ok(()),
    }
}

/// A `log.key_rotated` fact: checked against the key in force at its place, which it
/// hands over to its next key from the next entry on (this batch's checkpoint is signed
/// with it); the keyring follows once the batch is committed.
fn hand_over(
    app: &App,
    kind: EntryKind,
    body: &serde_json::Value,
    index: u64,
    in_force: &mut Arc<crate::ledger::keyring::Signers>,
    handed_over: &mut Option<(u64, String, String, String)>,
) -> Result<(), AppError> {
    if kind != EntryKind::LogKeyRotated {
        return Ok(());
    }
    let (previous, next, signature) = crate::ledger::keyring::hand_over_of(body);
    let (_, signers) = app
        .0
        .keys
        .check_hand_over(Some(&in_force.log.verifier()), &previous, &next, &signature)
        .map_err(|why| AppError::new(crate::ErrorKind::Conflict, "key_rotation", why))?;
    let Some(signers) = signers else {
        return Err(AppError::new(
            crate::ErrorKind::Conflict,
            "key_rotation",
            format!("this server does not hold the key {next} it would hand the log to"),
        ));
    };
    *in_force = signers;
    *handed_over = Some((index, previous, next, signature));
    Ok(())
}

/// Reads the authority as this batch has made it so far.
fn with_view<R>(app: &App, view: &Option<Authority>, f: impl FnOnce(&Authority) -> R) -> R {
    match view {
        Some(v) => f(v),
        None => app.with_authority(f),
    }
}

/// Refuses a fact whose token was revoked, expired or whose identity was disabled before
/// this point in ledger order (checked here, where entries are ordered, so nothing an actor
/// does lands after its token's revocation).
fn admit_actor(
    app: &App,
    view: &Option<Authority>,
    via: Option<&Via>,
    now_ms: i64,
) -> Result<(), AppError> {
    match via {
        None => Ok(()),
        Some(v) => with_view(app, view, |a| a.token_valid(&v.token, now_ms)),
    }
}

/// Applies an entry that changes who may act to the batch's view of the authority, or
/// refuses it (a token for an identity nobody created, an enrollment code already used).
fn apply_to_view(
    app: &App,
    view: &mut Option<Authority>,
    index: u64,
    entry: &LedgerEntry,
) -> Result<(), AppError> {
    if !AUTHORITY_KINDS.contains(&entry.kind.as_str()) {
        return Ok(());
    }
    let v = view.get_or_insert_with(|| app.with_authority(Clone::clone));
    v.apply(index, entry).map_err(|why| {
        AppError::new(
            crate::ErrorKind::Conflict,
            "conflict",
            format!("{} refused: {why}", entry.kind.as_str()),
        )
    })
}

pub(super) fn receipt(
    tree: &andon_ledger::MerkleTree,
    index: u64,
    size: u64,
    note: &str,
    id: Option<String>,
    existing: bool,
) -> Result<Receipt, AppError> {
    let proof = tree
        .inclusion_proof(index, size)
        .map_err(|e| AppError::unavailable(format!("no proof for entry {index}: {e}")))?;
    Ok(Receipt {
        id,
        ledger_index: index,
        leaf_hash: hex::encode(tree.leaf(index).unwrap_or_default()),
        existing,
        tree_size: size,
        inclusion_proof: proof.iter().map(hex::encode).collect(),
        checkpoint: note.to_owned(),
    })
}

pub(super) fn fail_all(jobs: Vec<Job>, e: AppError) {
    for j in jobs {
        let _ = j.reply.send(Err(e.clone()));
    }
}
