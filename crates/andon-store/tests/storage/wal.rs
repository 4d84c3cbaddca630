//! The SQLite write-ahead log stays bounded: past its limit a checkpoint empties it, one a
//! reader holds back is retried at the next tick, and a closed store leaves no log behind.
//! (PostgreSQL manages its own write-ahead log; `checkpoint_wal` is a no-op there.)

use andon_store::{Store, WalRestart};
use andon_testkit::{Backend, TestDb};

use super::{batch, block_on, evidence};

/// A batch of `n` evidence records from `first`, each with a 64 KiB document.
fn heavy(first: u64, n: u64) -> andon_store::Batch {
    let d = "c".repeat(64);
    let appends = (first..first + n)
        .map(|i| {
            let mut a = evidence(i, "pay", "r1", &d, "p");
            if let andon_store::Effect::Evidence { document, .. } = &mut a.effect {
                *document = vec![b'x'; 64 << 10];
            }
            a
        })
        .collect();
    batch(appends)
}

#[test]
fn the_sqlite_write_ahead_log_is_truncated_past_its_limit_and_at_close() {
    let db = TestDb::new(Backend::Sqlite);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        s.set_wal_limit(1 << 20);
        s.commit_batch(&heavy(0, 40)).await.expect("commit");
        let grown = s.wal_bytes();
        assert!(grown > 2 << 20, "the log holds the batch: {grown} bytes");
        // A reader in the middle of a read holds the log's frames: the checkpoint cannot
        // empty it, and says so by its size; it does not wait long.
        let reader = Store::connect(&db.url).await.expect("reader");
        let held = reader
            .hold_read_for_tests()
            .await
            .expect("a read transaction");
        s.commit_batch(&heavy(40, 8)).await.expect("commit");
        let started = std::time::Instant::now();
        let during = s.checkpoint_wal().await.expect("checkpoint");
        assert!(during > 1 << 20, "a held reader keeps the log: {during}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        drop(held);
        // The next tick empties it.
        assert_eq!(s.checkpoint_wal().await.expect("checkpoint"), 0);
        assert_eq!(s.ledger_size().await.expect("size"), 48, "nothing lost");
        // Under the limit, nothing is truncated: the log is reused in place.
        s.set_wal_limit(64 << 20);
        s.commit_batch(&heavy(48, 8)).await.expect("commit");
        assert!(s.checkpoint_wal().await.expect("checkpoint") > 0);
        // Closing folds the log back: the database is one file again.
        s.close().await;
        reader.close().await;
        assert_eq!(
            std::fs::metadata(format!("{}-wal", db.dir().join("andon.db").display()))
                .map_or(0, |m| m.len()),
            0
        );
        let again = Store::connect(&db.url).await.expect("reopen");
        assert_eq!(again.ledger_size().await.expect("size"), 56);
    });
}

/// The one writer restarts a log past its limit between its transactions: the log is
/// reused from its start, and the next commit cuts the file back to the limit instead of
/// letting it grow; nothing committed is lost, and a held reader makes it wait briefly and
/// give up, not block.
#[test]
fn the_writer_restarts_a_log_past_its_limit_and_its_next_commit_cuts_the_file_back() {
    let db = TestDb::new(Backend::Sqlite);
    block_on(async {
        let limit = 4 << 20;
        let s = Store::connect_deferred_durability(&db.url, limit)
            .await
            .expect("connect");
        s.commit_batch(&heavy(0, 8)).await.expect("commit");
        assert!(s.wal_bytes() < limit, "{}", s.wal_bytes());
        assert_eq!(
            s.restart_wal_past_limit().await.expect("under the limit"),
            WalRestart::Under
        );
        s.commit_batch(&heavy(8, 64)).await.expect("commit");
        let grown = s.wal_bytes();
        assert!(grown > limit, "the log holds the batches: {grown} bytes");
        // A reader in the middle of a read holds the log's frames: no restart, no long wait.
        let reader = Store::connect(&db.url).await.expect("reader");
        let held = reader
            .hold_read_for_tests()
            .await
            .expect("a read transaction");
        let started = std::time::Instant::now();
        assert_eq!(
            s.restart_wal_past_limit().await.expect("held back"),
            WalRestart::Busy
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        drop(held);
        assert_eq!(
            s.restart_wal_past_limit().await.expect("restarted"),
            WalRestart::Restarted
        );
        // Restarted, not emptied: the next commit writes from the log's start and cuts the
        // file back to the limit.
        assert_eq!(s.wal_bytes(), grown);
        s.commit_batch(&heavy(72, 1)).await.expect("commit");
        assert_eq!(s.wal_bytes(), limit);
        assert_eq!(
            s.restart_wal_past_limit().await.expect("under the limit"),
            WalRestart::Under
        );
        assert_eq!(s.ledger_size().await.expect("size"), 73, "nothing lost");
        s.close().await;
        reader.close().await;
        let again = Store::connect(&db.url).await.expect("reopen");
        assert_eq!(again.ledger_size().await.expect("size"), 73);
    });
}

/// PostgreSQL manages its own write-ahead log: the writer's restart is a no-op there.
#[test]
fn the_writer_leaves_postgresql_its_own_log() {
    let db = TestDb::new(Backend::Postgres);
    block_on(async {
        let s = Store::connect_deferred_durability(&db.url, 1)
            .await
            .expect("connect");
        s.commit_batch(&heavy(0, 2)).await.expect("commit");
        assert_eq!(
            s.restart_wal_past_limit().await.expect("a no-op"),
            WalRestart::Under
        );
        assert_eq!(s.ledger_size().await.expect("size"), 2);
    });
}
