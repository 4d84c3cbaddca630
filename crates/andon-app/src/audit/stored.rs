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
/// when `None`) and the checkpoints `which`, feeding `audit`. `documents`: read each entry's
/// document too (the rules need them; a start does not).
pub async fn walk(
    store: &Store,
    audit: &mut Audit,
    end: Option<u64>,
    which: Checkpoints,
    documents: bool,
) -> Result<(), StoreError> {
    let mut fed = Fed::new(audit, end, which);
    while fed.next < fed.end {
        let page = if documents {
            PAGE_WITH_DOCUMENTS
        } else {
            PAGE_BARE
        };
        let want = page.min((fed.end - fed.next).min(u32::MAX as u64) as u32);
        let rows = if documents {
            store.entries(fed.next, want).await?
        } else {
            store.ledger_rows(fed.next, want).await?
        };
        if rows.is_empty() {
            break;
        }
        fed.page(store, audit, &rows, documents, |_, _| {}).await?;
    }
    fed.finish(store, audit).await
}

/// Where a walk fed from pages of stored entries stands: the pages come from
/// [`walk`]'s own reads, or from a reader that hands them to the replay too.
pub(crate) struct Fed {
    /// The index after the last entry fed.
    pub(crate) next: u64,
    /// Entries at or past it are not fed.
    pub(crate) end: u64,
    checkpoints_from: u64,
    /// Checkpoints larger than this are not read.
    checkpoints_upto: u64,
    which: Checkpoints,
}

impl Fed {
    /// A walk from where `audit` stands up to `end` (all when `None`), checking `which`.
    pub(crate) fn new(audit: &Audit, end: Option<u64>, which: Checkpoints) -> Self {
        let next = audit.position();
        Fed {
            next,
            end: end.unwrap_or(u64::MAX),
            checkpoints_from: next,
            checkpoints_upto: i64::MAX as u64,
            which,
        }
    }

    /// Reads no stored checkpoint larger than `size`: a walk of one moment of the ledger
    /// reads no checkpoint stored after it, whose entries it does not see.
    pub(crate) fn checkpoints_upto(mut self, size: u64) -> Self {
        self.checkpoints_upto = size;
        self
    }

    /// Feeds one page of entries (in index order, not empty) to `audit`, then the reports
    /// they name (`documents`: the page holds them) and the checkpoints they reach. `each`
    /// sees every row fed, with the entry parsed when the rules parsed it.
    pub(crate) async fn page(
        &mut self,
        store: &Store,
        audit: &mut Audit,
        rows: &[andon_store::StoredEntry],
        documents: bool,
        mut each: impl FnMut(&andon_store::StoredEntry, Option<andon_domain::LedgerEntry>),
    ) -> Result<(), StoreError> {
        let Some(last) = rows.last().map(|r| r.index) else {
            return Ok(());
        };
        for r in rows.iter().filter(|r| r.index < self.end) {
            let parsed = audit.entry(RawEntry {
                index: r.index,
                leaf_hash: r.leaf_hash,
                bytes: &r.entry,
                document: r.document.as_deref(),
                kind: Some(&r.kind),
            });
            each(r, parsed);
        }
        self.next = last.saturating_add(1);
        if documents {
            check_reports(store, audit).await?;
        }
        if self.which == Checkpoints::All {
            let upto = self.next.min(self.end).min(self.checkpoints_upto);
            for c in store.checkpoints(self.checkpoints_from, upto).await? {
                audit.checkpoint(c.size, c.root, &c.note);
            }
            self.checkpoints_from = upto + 1;
        }
        Ok(())
    }

    /// The checkpoints past the last entry (`All`: they name entries the database lost), or
    /// the newest (`Latest`).
    pub(crate) async fn finish(self, store: &Store, audit: &mut Audit) -> Result<(), StoreError> {
        match self.which {
            Checkpoints::All => {
                let upto = self.end.min(self.checkpoints_upto);
                if self.checkpoints_from <= upto {
                    for c in store.checkpoints(self.checkpoints_from, upto).await? {
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
