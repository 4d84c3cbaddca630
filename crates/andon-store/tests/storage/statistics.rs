//! Planner statistics: a table that grew past autovacuum's threshold is analyzed once, and
//! then left alone until it grows again (PostgreSQL); SQLite gathers none.

use std::time::{Duration, Instant};

use andon_store::Store;
use andon_testkit::{Backend, TestDb};

use crate::block_on;

/// The rows PostgreSQL's planner has statistics for, per column of `evidence_subjects`.
async fn analyzed_columns(url: &str) -> i64 {
    use sqlx::{Connection as _, Row as _};
    let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query(
        "SELECT COUNT(*) AS n FROM pg_stats \
         WHERE schemaname = current_schema() AND tablename = 'evidence_subjects'",
    )
    .fetch_one(&mut c)
    .await
    .expect("pg_stats")
    .get("n")
}

pub(crate) fn stale_tables_are_analyzed_once(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let appends = (0..2_000)
            .map(|i| crate::evidence(i, "pay", "r", &format!("{i:064x}"), "p"))
            .collect();
        s.commit_batch(&crate::batch(appends))
            .await
            .expect("commit");
        if b == Backend::Sqlite {
            assert_eq!(
                s.refresh_statistics().await.expect("refresh"),
                Vec::<String>::new()
            );
            return;
        }
        assert_eq!(analyzed_columns(&db.url).await, 0, "never analyzed yet");
        // PostgreSQL counts changes a moment after the commit: wait until they show.
        let began = Instant::now();
        let analyzed = loop {
            let tables = s.refresh_statistics().await.expect("refresh");
            if tables.iter().any(|t| t == "evidence_subjects") || began.elapsed().as_secs() > 10 {
                break tables;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        for t in ["evidence", "evidence_subjects", "ledger_entries"] {
            assert!(analyzed.iter().any(|a| a == t), "{t} in {analyzed:?}");
        }
        assert!(
            analyzed_columns(&db.url).await >= 3,
            "the planner now knows the digests"
        );
        let again = s.refresh_statistics().await.expect("refresh");
        assert!(
            !again.iter().any(|t| analyzed.contains(t)),
            "analyzed again without a change: {again:?}"
        );
    });
}
