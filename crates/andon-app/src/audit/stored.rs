//! The walk over a database: the entries page by page, each page's checkpoints after it.
//! This is the audit's one edge with I/O; everything it decides is in the pure walk.

use andon_domain::{Sha256Digest, StoredReport};
use andon_store::{Store, StoreError};

use super::Problem;
use super::walk::{Audit, RawEntry};

/// Which stored checkpoints a walk checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checkpoints {
    /// Every stored checkpoint.
    All,
    /// The newest only (what a start checks: signatures cost 50 µs each).
    Latest,
    /// None (the caller feeds them).
    None,
}

/// Entries per page with their documents, and without.
const PAGE_WITH_DOCUMENTS: u32 = 1000;
const PAGE_BARE: u32 = 20_000;

/// Walks the stored entries from where `audit` stands with index below `end` (all of them
/// when `None`) and the checkpoints `which`, feeding `audit`. `documents`: read each entry's document too (the
/// rules need them; a start does not).
pub async fn walk(
    store: &Store,
    audit: &mut Audit,
    end: Option<u64>,
    which: Checkpoints,
    documents: bool,
) -> Result<(), StoreError> {
    let end = end.unwrap_or(u64::MAX);
    let mut next = audit.position();
    let mut checkpoints_from = next;
    while next < end {
        let page = if documents {
            PAGE_WITH_DOCUMENTS
        } else {
            PAGE_BARE
        };
        let want = page.min((end - next).min(u32::MAX as u64) as u32);
        let rows = if documents {
            store.entries(next, want).await?
        } else {
            store.ledger_rows(next, want).await?
        };
        let Some(last) = rows.last().map(|r| r.index) else {
            break;
        };
        for r in rows.iter().filter(|r| r.index < end) {
            audit.entry(RawEntry {
                index: r.index,
                leaf_hash: r.leaf_hash,
                bytes: &r.entry,
                document: r.document.as_deref(),
                kind: Some(&r.kind),
            });
        }
        next = last.saturating_add(1);
        if documents {
            check_reports(store, audit).await?;
        }
        if which == Checkpoints::All {
            for c in store.checkpoints(checkpoints_from, next.min(end)).await? {
                audit.checkpoint(c.size, c.root, &c.note);
            }
            checkpoints_from = next.min(end) + 1;
        }
    }
    match which {
        Checkpoints::All => {
            // Checkpoints past the last entry: they name entries the database lost.
            let upto = if end == u64::MAX {
                i64::MAX as u64
            } else {
                end
            };
            if checkpoints_from <= upto {
                for c in store.checkpoints(checkpoints_from, upto).await? {
                    audit.checkpoint(c.size, c.root, &c.note);
                }
            }
        }
        Checkpoints::Latest => {
            if let Some(c) = store.latest_checkpoint().await? {
                audit.checkpoint(c.size, c.root, &c.note);
            }
        }
        Checkpoints::None => {}
    }
    Ok(())
}

/// Checks the uploaded reports the evidence walked so far names against the stored ones
/// ([`report_problem`]).
pub async fn check_reports(store: &Store, audit: &mut Audit) -> Result<(), StoreError> {
    for (index, r) in audit.take_reports() {
        let bytes = store.report(&r.digest.hex()).await?;
        if let Some(p) = report_problem(index, &r, bytes.as_deref()) {
            audit.report(p);
        }
    }
    Ok(())
}

/// What is wrong with the uploaded report entry `index` names, given the bytes a source
/// holds under its digest: it must be there, with the size and the SHA-256 its signed
/// statement gives. A report altered or removed is a problem of the entry that names it.
pub fn report_problem(index: u64, r: &StoredReport, bytes: Option<&[u8]>) -> Option<Problem> {
    let message = match bytes {
        None => format!("its report {} is missing", r.digest),
        Some(b) if b.len() as u64 != r.size => format!(
            "its report {} is {} bytes, not the {} its statement signs: it was altered",
            r.digest,
            b.len(),
            r.size
        ),
        Some(b) if Sha256Digest::of(b) != r.digest => format!(
            "its report {} no longer matches its digest: it was altered",
            r.digest
        ),
        Some(_) => return None,
    };
    Some(Problem {
        index,
        kind: Some("evidence".into()),
        check: "report".into(),
        checkpoint: None,
        message,
    })
}
