//! The audit of a stored ledger: one walk that every verification uses (`andon verify` from
//! a server or a database, `andon restore`, the server's self-check, and a start).
//!
//! It takes the entries in index order and reports every problem, each naming the entry:
//! missing or out-of-order indexes, bytes that do not hash to their stored leaf hash,
//! stored checkpoints that the log key in force did not sign or whose root is not the root
//! of the entries up to their size, and entries whose per-entry rules fail (documents that
//! do not match the digest their entry binds, key rotations, gate decisions that say
//! something else than the signed decision they bind). It keeps only the tree of leaf
//! hashes (about 64 bytes an entry) and streams the rest, so it scales to millions of
//! entries.
//!
//! The walk ([`Audit`]) is pure: a source feeds it. [`stored::walk`] is the database's
//! source; `andon verify` feeds it from a server. More per-entry checks are more
//! [`EntryRule`]s in [`default_rules`].

mod actors;
mod database;
mod decision;
mod keys;
mod locate;
mod problem;
mod projection;
mod rules;
pub mod stored;
mod walk;

pub use database::{Tables, audit_database};
pub use keys::{LogKeys, RotationError};
pub use locate::first_divergence;
pub use problem::{Findings, PROBLEM_CAP, Problem};
pub use rules::{Documents, EntryRule, Finding, KeyRotations, Subject, check_one, default_rules};
pub use walk::{Audit, RawEntry, Walked};

pub use decision::DecisionMeaning;

/// The full audit of a database: every entry below `end` (all when `None`) with its
/// document and the default rules, every stored checkpoint, checked with `keys`. `expected`:
/// how many entries the log holds (its latest signed size), for entries missing at the end.
pub async fn audit_store(
    store: &andon_store::Store,
    keys: LogKeys,
    origin: Option<String>,
    end: Option<u64>,
    expected: u64,
) -> Result<Walked, andon_store::StoreError> {
    let mut audit = Audit::new(keys, default_rules(), origin);
    stored::walk(store, &mut audit, end, stored::Checkpoints::All, true).await?;
    Ok(audit.finish(expected))
}

/// The keys a database names: `log_previous_verifier_keys` (oldest first) and
/// `log_verifier_key`.
pub async fn stored_keys(store: &andon_store::Store) -> Result<Option<LogKeys>, String> {
    let Some(current) = store
        .meta("log_verifier_key")
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let previous: Vec<String> = store
        .meta("log_previous_verifier_keys")
        .await
        .map_err(|e| e.to_string())?
        .map(|v| {
            v.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    LogKeys::parse(&previous, &current).map(Some)
}
