//! Commits keep the order of their push, whatever their author times say: stamped in
//! different time zones, their text order is not the order they were made in. A database
//! from before the order was kept gets it back from the ledger when it is upgraded.

use andon_domain::scm::{Commit, SourceFacts};
use andon_domain::{EntryKind, LedgerEntry, Sha256Digest, SourceEventFact};
use andon_store::{Append, Effect, Store};
use andon_testkit::{Backend, TestDb};

use super::{batch, block_on, leaf};

/// A push of three commits made in this order: neither their stamps as text nor their ids
/// sort that way.
fn pushed() -> SourceFacts {
    let commit = |c: char, at: &str| Commit {
        repository: "acme/payments".into(),
        sha: c.to_string().repeat(40),
        message: format!("commit {c}"),
        timestamp: Some(at.into()),
        git_ref: Some("refs/heads/main".into()),
        ..Default::default()
    };
    SourceFacts {
        commits: vec![
            commit('e', "2026-11-02T09:00:00+09:00"),
            commit('b', "2026-11-02T01:00:00Z"),
            commit('d', "2026-11-01T21:00:00-05:00"),
        ],
        ..Default::default()
    }
}

/// The webhook entry as the sequencer writes it: its body names the facts.
fn delivery(facts: SourceFacts) -> Append {
    let entry = LedgerEntry {
        v: 1,
        kind: EntryKind::SourceEvent,
        time: "2026-11-02T02:00:00Z".into(),
        actor: "webhook:github".into(),
        via: None,
        body: serde_json::to_value(SourceEventFact {
            provider: "github".into(),
            delivery: "d-1".into(),
            event: "push".into(),
            payload: Sha256Digest::of(b"payload"),
            facts: facts.clone(),
        })
        .expect("body"),
        rows: None,
    };
    Append {
        index: 0,
        kind: "scm.event",
        entry: entry.to_bytes(),
        leaf_hash: leaf(0),
        time_ms: 1_000,
        effect: Effect::SourceEvent {
            provider: "github".into(),
            delivery: "d-1".into(),
            event: "push".into(),
            payload: b"payload".to_vec(),
            facts,
        },
    }
}

async fn order(s: &Store) -> Vec<char> {
    s.commits_recorded_between("acme/payments", 0, 0)
        .await
        .expect("commits")
        .iter()
        .map(|c| c.fact.sha.chars().next().unwrap_or('?'))
        .collect()
}

pub(crate) fn commits_keep_their_push_order_across_an_upgrade(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        s.commit_batch(&batch(vec![delivery(pushed())]))
            .await
            .expect("commit");
        assert_eq!(order(&s).await, ['e', 'b', 'd']);
        // The database as the previous release left it: no place kept, the migration not
        // applied yet.
        for sql in [
            "ALTER TABLE scm_commits DROP COLUMN position",
            "DELETE FROM schema_migrations WHERE version = 11",
        ] {
            s.raw_execute_for_tests(sql).await.expect(sql);
        }
        s.close().await;
        let upgraded = Store::connect(&db.url).await.expect("upgrade");
        assert_eq!(
            order(&upgraded).await,
            ['e', 'b', 'd'],
            "filled from the ledger entry, not sorted by author time"
        );
    });
}
