//! The audit of a database with its tables: every entry read once, through one snapshot,
//! and handed both to the walk ([`Audit`]) and to the replay of the tables
//! ([`crate::projection`]), each entry parsed once for both.
//!
//! Three things run at once: the snapshot's reads of the next page, the walk and the
//! rows of the page read (the caller's task), and the replay's commits of the page before
//! into the fresh database (a task of its own). Once every entry is in, the tables are
//! compared with the replay, in the same snapshot.

use andon_domain::LedgerEntry;
use andon_store::{Append, Snapshot, Store, StoredEntry};
use tokio::sync::mpsc;

use super::projection::table_problems;
use super::stored::{Checkpoints, Fed};
use super::{Audit, Problem};
use crate::projection::{PROJECTED_TABLES, Replayed, append_of};

/// Entries per page read.
const PAGE: u32 = 1000;

/// Pages read ahead of the walk, and pages of rows waiting for their commit.
const AHEAD: usize = 2;

/// What the tables say against the ledger.
pub struct Tables {
    /// Their differences from the replayed ledger, and entries whose rows cannot be rebuilt.
    pub problems: Vec<Problem>,
    /// How many tables were compared.
    pub compared: usize,
}

/// Walks every stored entry below `end` (all when `None`) with its document and every
/// stored checkpoint into `audit` (a fresh one), and replays every entry the snapshot holds
/// (below `end` or not) into a fresh database to compare the tables with it. The tables are
/// read as they stand when the snapshot begins, however long the replay takes: entries
/// appended meanwhile are neither walked, replayed nor read.
pub async fn audit_database(
    store: &Store,
    audit: &mut Audit,
    end: Option<u64>,
) -> Result<Tables, String> {
    // On SQLite the replay's database is attached to the snapshot, so the database itself
    // tells whether a table matches before any row is read out.
    let mut replayed = Replayed::create().await?;
    let live = store
        .snapshot(Some(replayed.path()))
        .await
        .map_err(|e| e.to_string())?;
    let (size, signed) = (live.size(), live.signed());
    let (pages, mut read) = mpsc::channel(AHEAD);
    let reader = tokio::spawn(read_pages(live, pages));
    let (rows, to_commit) = mpsc::channel(AHEAD);
    let committer = tokio::spawn(commit_pages(replayed.store.clone(), to_commit));

    // The checkpoints are read beside the snapshot: none stored after it began.
    let mut fed = Fed::new(audit, end, Checkpoints::All).checkpoints_upto(signed);
    while let Some(page) = read.recv().await {
        let page = page?;
        let mut parsed = Vec::with_capacity(page.len());
        fed.page(store, audit, &page, true, |_, entry| parsed.push(entry))
            .await
            .map_err(|e| e.to_string())?;
        // Entries past `end` are not walked, and so not parsed yet.
        let parsed = parsed
            .into_iter()
            .chain(std::iter::repeat_with(|| None::<LedgerEntry>));
        let mut appends = Vec::with_capacity(page.len());
        for (stored, entry) in page.iter().zip(parsed) {
            let entry = match entry {
                Some(entry) => Ok(entry),
                None => serde_json::from_slice::<LedgerEntry>(&stored.entry)
                    .map_err(|e| format!("not an entry: {e}")),
            };
            match append_of(store, stored, entry).await? {
                Ok(append) => appends.push(append),
                Err(why) => replayed.unreadable.push((stored.index, why)),
            }
        }
        if rows.send(appends).await.is_err() {
            // The replay stopped: its error is the committer's to tell.
            break;
        }
    }
    fed.finish(store, audit).await.map_err(|e| e.to_string())?;
    drop(rows);
    replayed.entries = committer.await.map_err(|e| e.to_string())??;
    let mut live = reader.await.map_err(|e| e.to_string())?;
    let problems = table_problems(&mut live, &replayed, size).await?;
    live.end().await.map_err(|e| e.to_string())?;
    Ok(Tables {
        problems,
        compared: PROJECTED_TABLES.len(),
    })
}

/// Reads the snapshot's entries page by page into `pages`, until there are no more or no
/// one reads them; hands the snapshot back for the comparison.
async fn read_pages(
    mut live: Snapshot,
    pages: mpsc::Sender<Result<Vec<StoredEntry>, String>>,
) -> Snapshot {
    let mut next = 0;
    loop {
        match live.entries(next, PAGE).await {
            Ok(page) => {
                let Some(last) = page.last().map(|r| r.index) else {
                    break;
                };
                next = last.saturating_add(1);
                if pages.send(Ok(page)).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                let _ = pages.send(Err(e.to_string())).await;
                break;
            }
        }
    }
    live
}

/// Commits each page of rows into the replay's database: how many entries it replayed.
async fn commit_pages(
    scratch: Store,
    mut to_commit: mpsc::Receiver<Vec<Append>>,
) -> Result<u64, String> {
    let mut committed = 0u64;
    while let Some(appends) = to_commit.recv().await {
        let from = appends.first().map(|a| a.index);
        committed += appends.len() as u64;
        scratch
            .commit_rows(appends)
            .await
            .map_err(|e| format!("replaying entries from {}: {e}", from.unwrap_or(0)))?;
    }
    Ok(committed)
}
