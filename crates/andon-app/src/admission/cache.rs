//! The gate decisions the webhook reads, kept a few seconds: an API server asks about the
//! same images for every pod of a rollout, and a review is on the path of every pod start.
//! A decision recorded by this server clears the cache at once; one recorded by another
//! server of the cluster is seen within [`TTL`].

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a decision read stays.
pub const TTL: Duration = Duration::from_secs(10);
/// How long "no decision" stays: a pipeline may be deciding right now.
pub const TTL_NONE: Duration = Duration::from_secs(1);
/// Entries at most; past it the cache starts over.
const MAX: usize = 100_000;

/// The latest decision for an image in an environment, as the webhook judges it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    /// The decision's id.
    pub id: String,
    /// It allows.
    pub allow: bool,
    /// When it was made (Unix ms).
    pub created_at: i64,
    /// The controls that failed, when it denies.
    pub failing: Vec<String>,
}

type Key = (String, String);

/// (environment, digest) -> the latest decision, or none.
#[derive(Default)]
pub struct DecisionCache {
    map: RwLock<HashMap<Key, (Instant, Option<Decided>)>>,
}

impl DecisionCache {
    /// What is known of `digest` in `environment`: `None` when it must be read again.
    pub fn get(&self, environment: &str, digest: &str) -> Option<Option<Decided>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let (at, d) = map.get(&(environment.to_owned(), digest.to_owned()))?;
        let ttl = if d.is_some() { TTL } else { TTL_NONE };
        (at.elapsed() < ttl).then(|| d.clone())
    }

    /// Keeps what was read.
    pub fn put(&self, environment: &str, digest: &str, d: Option<Decided>) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX {
            map.clear();
        }
        map.insert(
            (environment.to_owned(), digest.to_owned()),
            (Instant::now(), d),
        );
    }

    /// Forgets everything: a decision was just recorded.
    pub fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_kept_until_cleared() {
        let c = DecisionCache::default();
        assert_eq!(c.get("production", "sha256:a"), None);
        let d = Decided {
            id: "d1".into(),
            allow: true,
            created_at: 1,
            failing: Vec::new(),
        };
        c.put("production", "sha256:a", Some(d.clone()));
        c.put("production", "sha256:b", None);
        assert_eq!(c.get("production", "sha256:a"), Some(Some(d)));
        assert_eq!(c.get("production", "sha256:b"), Some(None));
        assert_eq!(c.get("staging", "sha256:a"), None);
        c.clear();
        assert_eq!(c.get("production", "sha256:a"), None);
    }
}
