//! What gates keep between decisions: reads whose answer cannot have changed while nothing
//! they read was written, each with the ledger size seen before it was read.
//!
//! Before a gate uses something kept, it asks the database one statement
//! ([`andon_store::Store::gathered_since`]) whether any row of the tables it read was
//! written at or past that size: every row of those tables is written by a ledger entry and
//! carries that entry's index. The check asks the database, not this server's memory, so a
//! cluster's servers see each other's writes at once. A value is kept only once the
//! decision made on it is durable ([`Kept::keep`]), and everything is forgotten when the
//! database lost entries this server had seen ([`Kept::clear`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use andon_store::{GateKept, GatherMark};

use crate::{App, AppError};

/// Keys past which a cache starts over.
const MAX_KEPT: usize = 256;

/// Two names: (application, artifact digest) or (application, environment).
pub type Key = (String, String);

/// A value to keep once the decision made on it is durable ([`Kept::keep`]).
pub struct Keep<T> {
    pub(crate) key: Key,
    pub(crate) size: u64,
    pub(crate) value: Arc<T>,
}

impl<T> Keep<T> {
    /// `value`, read when the ledger held `size` entries or more, kept under `key`.
    pub(crate) fn new(key: Key, size: u64, value: Arc<T>) -> Self {
        Self { key, size, value }
    }
}

/// Key -> the ledger size seen before the read, and what it found.
pub struct Kept<T> {
    map: Mutex<HashMap<Key, (u64, Arc<T>)>>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> Kept<T> {
    /// What is kept under `key`, with the ledger size seen before it was read.
    pub(crate) fn get(&self, key: &Key) -> Option<(u64, Arc<T>)> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    /// Keeps a read, once the decision made on it is durable: everything in the ledger
    /// before that decision is durable too, so what was kept cannot be lost with the
    /// database in a crash (entries committed but not yet durable can be).
    pub fn keep(&self, kept: Keep<T>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEPT && !map.contains_key(&kept.key) {
            map.clear();
        }
        map.insert(kept.key, (kept.size, kept.value));
    }

    /// Forgets everything: the database lost entries this server had seen.
    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The ledger size a kept read was made at, 0 (so that anything counts as changed) when
/// nothing is kept.
pub(crate) fn size<T>(kept: &Option<(u64, Arc<T>)>) -> u64 {
    kept.as_ref().map_or(0, |(size, _)| *size)
}

/// The answer of the one statement a gate asks before using what was kept
/// ([`andon_store::Store::gathered_since`]), with the question it answered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Check<'a> {
    /// The question: the application, the artifact, and the size each kept read was made at.
    pub asked: GateKept<'a>,
    /// The answer.
    pub mark: GatherMark,
}

impl Check<'_> {
    /// Whether what `pick` names may have been written since the check was answered: the
    /// same question asked again, every read taken as made at the check's size.
    async fn changed_since(
        &self,
        app: &App,
        pick: fn(&GatherMark) -> bool,
    ) -> Result<bool, AppError> {
        let after = app
            .store()
            .gathered_since(self.asked.all_at(self.mark.size))
            .await?;
        Ok(pick(&after))
    }
}

/// `kept` when the check's part that `pick` names says nothing it read was written since,
/// what `read` reads otherwise; with what to keep under `key` once the decision is durable.
/// Debug builds read again on every kept answer and assert that both agree, unless the same
/// check asked again says something was written while reading again. `read` does nothing
/// unless awaited.
pub(crate) async fn kept_or_read<T: PartialEq>(
    app: &App,
    key: Key,
    kept: Option<Arc<T>>,
    check: &Check<'_>,
    pick: fn(&GatherMark) -> bool,
    read: impl Future<Output = Result<T, AppError>>,
) -> Result<(Arc<T>, Keep<T>), AppError> {
    let size = check.mark.size;
    if let Some(v) = kept
        && !pick(&check.mark)
    {
        if cfg!(debug_assertions) {
            let fresh = read.await?;
            assert!(
                check.changed_since(app, pick).await? || *v == fresh,
                "what was kept for {key:?} differs from the store's"
            );
        }
        return Ok((v.clone(), Keep::new(key, size, v)));
    }
    let v = Arc::new(read.await?);
    Ok((v.clone(), Keep::new(key, size, v)))
}
