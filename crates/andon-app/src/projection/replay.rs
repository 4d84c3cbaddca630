//! Replaying the ledger into a fresh database: every entry's rows written by the store's
//! own commit path, from the entry and its document alone.

use std::sync::Arc;

use andon_domain::LedgerEntry;
use andon_store::{Append, Batch, Store, TelemetryFilter};

use super::{Document, effect_of};

/// A database holding the projection of a ledger, deleted when dropped.
pub struct Replayed {
    /// The fresh database.
    pub store: Store,
    /// Entries replayed.
    pub entries: u64,
    /// Entries whose rows could not be rebuilt: (index, why).
    pub unreadable: Vec<(u64, String)>,
    path: std::path::PathBuf,
}

impl Drop for Replayed {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

const PAGE: u32 = 2_000;

/// Replays the first `size` entries of `source` into a fresh SQLite database in the
/// system's temporary directory. Entries are taken as stored; whether they are the signed
/// ledger's is the audit's question.
pub async fn replay(source: &Store, size: u64) -> Result<Replayed, String> {
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!("andon-replay-{}.db", hex::encode(rnd)));
    // A throwaway database: its commits need not wait for the disk.
    let store = Store::connect_deferred_durability(&format!("sqlite://{}", path.display()))
        .await
        .map_err(|e| format!("cannot create the replay database: {e}"))?;
    let mut replayed = Replayed {
        store,
        entries: 0,
        unreadable: Vec::new(),
        path,
    };
    let mut start = 0;
    while start < size {
        let page = source
            .entries(start, PAGE.min((size - start) as u32))
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last().map(|e| e.index) else {
            break;
        };
        let mut appends = Vec::with_capacity(page.len());
        for stored in &page {
            let parsed = serde_json::from_slice::<LedgerEntry>(&stored.entry)
                .map_err(|e| format!("not an entry: {e}"));
            let effect = match parsed {
                Err(why) => Err(why),
                Ok(entry) => {
                    let events = if entry.kind == andon_domain::EntryKind::TelemetryBatch {
                        Some(batch_events(source, stored.index).await?)
                    } else {
                        None
                    };
                    let doc = match (&events, &stored.document) {
                        (Some(ev), _) => Document::Events(ev.clone()),
                        (None, Some(d)) => Document::Bytes(d),
                        (None, None) => Document::None,
                    };
                    effect_of(&entry, doc).and_then(|effect| {
                        let time_ms = entry
                            .time
                            .parse::<jiff::Timestamp>()
                            .map_err(|e| format!("bad time: {e}"))?
                            .as_millisecond();
                        Ok((effect, time_ms))
                    })
                }
            };
            match effect {
                Ok((effect, time_ms)) => appends.push(Append {
                    index: stored.index,
                    kind: kind_name(&stored.kind),
                    entry: stored.entry.clone(),
                    leaf_hash: stored.leaf_hash,
                    time_ms,
                    effect,
                }),
                Err(why) => replayed.unreadable.push((stored.index, why)),
            }
        }
        replayed.entries += appends.len() as u64;
        replayed
            .store
            .commit_batch(&Batch {
                appends,
                checkpoint: None,
            })
            .await
            .map_err(|e| format!("replaying entries from {start}: {e}"))?;
        start = last + 1;
    }
    Ok(replayed)
}

/// A telemetry batch's events as stored beside its entry, in order (the audit checks them
/// against the digest the entry binds).
async fn batch_events(
    source: &Store,
    index: u64,
) -> Result<Arc<Vec<andon_telemetry::Event>>, String> {
    let stored = source
        .telemetry_events(&TelemetryFilter {
            batch: Some(index),
            limit: 10_000,
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(stored.into_iter().map(|s| s.event).collect()))
}

/// The entry kind's static wire name (the store's `Append` takes one).
fn kind_name(kind: &str) -> &'static str {
    serde_json::from_value::<andon_domain::EntryKind>(serde_json::Value::String(kind.to_owned()))
        .map(|k| k.as_str())
        .unwrap_or("unknown")
}
