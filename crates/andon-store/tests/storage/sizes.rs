//! Table sizes: what the soak benchmark reports per 100,000 entries.

use andon_store::{Append, Batch, Effect, Store};
use andon_testkit::{Backend, TestDb};

use crate::block_on;

/// `len` bytes that do not compress (PostgreSQL compresses large values: 2 KiB of one byte
/// would take a few dozen), from a xorshift generator seeded by `seed`.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn documents(first: u64, n: u64) -> Batch {
    let appends = (first..first + n)
        .map(|index| {
            let mut append = crate::evidence(index, "pay", "r", &format!("{index:064x}"), "p");
            if let Effect::Evidence { document, .. } = &mut append.effect {
                *document = noise(index, 2048);
            }
            append
        })
        .collect::<Vec<Append>>();
    crate::batch(appends)
}

pub(crate) fn every_table_reports_its_rows_and_indexes_and_grows_with_them(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        s.commit_batch(&documents(0, 10)).await.expect("commit");
        let before = s.table_sizes().await.expect("sizes");
        let evidence = |sizes: &[andon_store::TableSize]| {
            sizes
                .iter()
                .find(|t| t.table == "evidence")
                .cloned()
                .expect("the evidence table is listed")
        };
        let small = evidence(&before);
        assert!(small.table_bytes > 0 && small.index_bytes > 0, "{small:?}");
        assert!(
            before.iter().all(|t| !t.table.starts_with("sqlite_")),
            "SQLite's own tables are not the schema's: {before:?}"
        );
        for first in (10..2010).step_by(500) {
            s.commit_batch(&documents(first, 500))
                .await
                .expect("commit");
        }
        let after = s.table_sizes().await.expect("sizes");
        let large = evidence(&after);
        // 2,000 documents of 2 KiB more: at least 4 MB of rows, and index entries for them.
        assert!(
            large.table_bytes >= small.table_bytes + 4_000_000,
            "{small:?} then {large:?}"
        );
        assert!(
            large.index_bytes > small.index_bytes,
            "{small:?} then {large:?}"
        );
        let totals: Vec<u64> = after
            .iter()
            .map(|t| t.table_bytes + t.index_bytes)
            .collect();
        assert!(
            totals.windows(2).all(|w| w[0] >= w[1]),
            "largest first: {after:?}"
        );
        assert_eq!(after[0].table, "evidence", "{after:?}");
    });
}
