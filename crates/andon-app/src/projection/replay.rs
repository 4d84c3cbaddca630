//! Replaying the ledger into a fresh database: every entry's rows ([`append_of`]) written
//! by the store's own commit path, from the entry alone (and a telemetry batch's events and
//! an SBOM's components, which are its rows). Documents and the entries' bytes are not
//! written again: the audit checks them. [`crate::audit::audit_database`] drives it.

use std::sync::Arc;

use andon_domain::LedgerEntry;
use andon_store::{Append, Store, TelemetryFilter};

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
        remove(&self.path);
    }
}

/// Removes a SQLite database file and its companions.
fn remove(path: &std::path::Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.to_path_buf().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Removes the replay databases in `dir` left by processes that no longer run (killed
/// mid-check: their `Drop` never ran). Each name carries its process id; where `/proc`
/// does not tell which processes run, nothing is removed.
fn sweep(dir: &std::path::Path, proc_dir: &std::path::Path) {
    if !proc_dir.join("self").exists() {
        return;
    }
    let Ok(found) = std::fs::read_dir(dir) else {
        return;
    };
    for f in found.flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("andon-replay-")
            .and_then(|rest| rest.strip_suffix(".db"))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !proc_dir.join(pid.to_string()).exists() {
            remove(&f.path());
        }
    }
}

impl Replayed {
    /// A fresh, empty database in the system's temporary directory.
    pub async fn create() -> Result<Self, String> {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| e.to_string())?;
        let dir = std::env::temp_dir();
        sweep(&dir, std::path::Path::new("/proc"));
        let path = dir.join(format!(
            "andon-replay-{}-{}.db",
            std::process::id(),
            hex::encode(rnd)
        ));
        // A throwaway database: nothing in it is kept.
        let store = Store::create_scratch(&path)
            .await
            .map_err(|e| format!("cannot create the replay database: {e}"))?;
        Ok(Replayed {
            store,
            entries: 0,
            unreadable: Vec::new(),
            path,
        })
    }

    /// The database's file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// The rows `stored` writes, from `entry` (its bytes parsed, or why they do not parse):
/// `Ok(Err(why))` when they cannot be rebuilt from it; `Err` when `source` cannot be read.
pub(crate) async fn append_of(
    source: &Store,
    stored: &andon_store::StoredEntry,
    entry: Result<LedgerEntry, String>,
) -> Result<Result<Append, String>, String> {
    let entry = match entry {
        Ok(entry) => entry,
        Err(why) => return Ok(Err(why)),
    };
    // Documents are not written again: the audit checks each against the digest its entry
    // binds, and the comparison leaves their columns out. A telemetry batch's events and an
    // SBOM's components are rows bound by digest: read back, and checked against their
    // entry by `effect_of`.
    let doc = if entry.kind == andon_domain::EntryKind::TelemetryBatch {
        Document::Events(batch_events(source, stored.index).await?)
    } else if entry.kind == andon_domain::EntryKind::Evidence
        && entry.body.get("components").is_some()
    {
        Document::Components(
            source
                .sbom_components(stored.index)
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        Document::None
    };
    let effect = effect_of(&entry, doc).and_then(|effect| {
        let time_ms = entry
            .time
            .parse::<jiff::Timestamp>()
            .map_err(|e| format!("bad time: {e}"))?
            .as_millisecond();
        Ok((effect, time_ms))
    });
    Ok(effect.map(|(effect, time_ms)| Append {
        index: stored.index,
        kind: kind_name(&stored.kind),
        // The entry itself is the audit's: the replay writes only its rows.
        entry: Vec::new(),
        leaf_hash: stored.leaf_hash,
        time_ms,
        effect,
    }))
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

#[cfg(test)]
mod tests {
    use super::sweep;

    #[test]
    fn only_the_replays_of_processes_that_are_gone_are_swept() {
        let dir = tempfile::tempdir().expect("dir");
        let proc_dir = tempfile::tempdir().expect("proc");
        std::fs::create_dir(proc_dir.path().join("self")).expect("self");
        std::fs::create_dir(proc_dir.path().join("42")).expect("a live process");
        let names = [
            "andon-replay-42-aa.db",
            "andon-replay-7-bb.db",
            "andon-replay-7-bb.db-journal",
            "andon-replay-cc.db",
            "other-7-dd.db",
        ];
        for n in names {
            std::fs::write(dir.path().join(n), b"x").expect("file");
        }
        sweep(dir.path(), proc_dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read")
            .map(|f| f.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "andon-replay-42-aa.db",
                "andon-replay-cc.db",
                "other-7-dd.db"
            ]
        );

        // Without a /proc to ask, nothing is removed.
        std::fs::write(dir.path().join("andon-replay-7-ee.db"), b"x").expect("file");
        sweep(dir.path(), &proc_dir.path().join("missing"));
        assert!(dir.path().join("andon-replay-7-ee.db").exists());
    }
}
