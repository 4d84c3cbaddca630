//! Snapshots: a moment of the database, its tables read in key order, and (on SQLite) the
//! database's own answer to whether a table matches another database's.

use andon_store::{Cell, Effect, Store};
use andon_testkit::{Backend, TestDb, both_backends};

use super::{batch, block_on, evidence};

/// Evidence whose one subject is named `name`.
fn named(index: u64, name: &str) -> andon_store::Append {
    let mut a = evidence(index, "pay", "r1", &"a".repeat(64), "p");
    if let Effect::Evidence { subjects, .. } = &mut a.effect {
        subjects[0].0 = name.into();
    }
    a
}

/// Every row a scan gives, as cells.
async fn all(mut scan: andon_store::Scan<'_>) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    while let Some(r) = scan.next().await.expect("row") {
        rows.push(r);
    }
    rows
}

/// A scan orders text keys by their bytes on both backends (PostgreSQL's default collation
/// would put "a" before "B"), as `Cell` orders them, so two scans merge; a snapshot keeps its
/// moment while entries are appended after it began.
fn a_snapshot_reads_its_moment_in_key_order(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let names = ["b", "B", "a", "é", "Z", "a b", "10", "9"];
        let appends = names
            .iter()
            .enumerate()
            .map(|(i, n)| named(i as u64, n))
            .collect();
        s.commit_batch(&batch(appends)).await.expect("commit");

        let mut snap = s.snapshot(None).await.expect("snapshot");
        assert_eq!(snap.size(), names.len() as u64);
        // Appended after the snapshot began: not in it.
        s.commit_batch(&batch(vec![named(names.len() as u64, "0")]))
            .await
            .expect("commit");

        let scan = snap
            .scan("evidence_subjects", &["name", "evidence_idx"], &[])
            .await
            .expect("scan");
        let columns = scan.columns().to_vec();
        assert_eq!(columns, ["evidence_idx", "name", "digest"]);
        let rows = all(scan).await;
        let read: Vec<&Cell> = rows.iter().map(|r| &r[1]).collect();
        let mut sorted: Vec<Cell> = names.iter().map(|n| Cell::Text((*n).into())).collect();
        sorted.sort();
        assert_eq!(read, sorted.iter().collect::<Vec<_>>());
        assert_eq!(
            sorted
                .iter()
                .map(|c| c.text().expect("text"))
                .collect::<Vec<_>>(),
            ["10", "9", "B", "Z", "a", "a b", "b", "é"]
        );
        assert_eq!(rows[0][0], Cell::Int(6), "integers read as integers");

        // The documents column left out, the rest read; the snapshot's moment holds.
        let scan = snap
            .scan("evidence", &["ledger_idx"], &["document"])
            .await
            .expect("scan");
        assert!(!scan.columns().contains(&"document".to_owned()));
        assert_eq!(all(scan).await.len(), names.len());
        snap.end().await.expect("end");

        // The store's own scan sees the later entry.
        let scan = s
            .scan("evidence", &["ledger_idx"], &["document"])
            .await
            .expect("scan");
        assert_eq!(all(scan).await.len(), names.len() + 1);
    });
}

/// On SQLite, a snapshot taken beside another database tells whether a table holds the
/// same rows, each as many times: a duplicated row is a difference although every row on
/// one side is also on the other. PostgreSQL cannot attach a file: no answer.
fn a_table_is_the_same_beside_only_row_for_row(b: Backend) {
    let db = TestDb::new(b);
    let other = TestDb::new(Backend::Sqlite);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let o = Store::connect(&other.url).await.expect("connect");
        for store in [&s, &o] {
            store
                .commit_batch(&batch(vec![named(0, "x"), named(1, "y")]))
                .await
                .expect("commit");
        }
        let path = other.url.trim_start_matches("sqlite://").to_owned();
        let same = |s: Store| {
            let path = path.clone();
            async move {
                let mut snap = s
                    .snapshot(Some(std::path::Path::new(&path)))
                    .await
                    .expect("snapshot");
                let same = snap
                    .same_rows_beside("evidence_subjects", &[])
                    .await
                    .expect("same");
                snap.end().await.expect("end");
                same
            }
        };
        match b {
            Backend::Postgres => assert_eq!(same(s.clone()).await, None),
            Backend::Sqlite => {
                assert_eq!(same(s.clone()).await, Some(true));
                // One row twice: a set comparison would call the tables equal.
                s.raw_execute_for_tests(
                    "INSERT INTO evidence_subjects SELECT * FROM evidence_subjects WHERE name = 'x'",
                )
                .await
                .expect("duplicate");
                assert_eq!(same(s.clone()).await, Some(false));
            }
        }
    });
}

both_backends!(
    a_snapshot_reads_its_moment_in_key_order,
    a_table_is_the_same_beside_only_row_for_row,
);
