//! What a long run (a soak) samples every interval: throughput in that interval, the
//! ledger's size, the database's storage (SQLite: the file and its write-ahead log;
//! PostgreSQL: tables and indexes) and each server's resident memory. At the start and the
//! end it reads every table's size, so the report gives each table's growth per 100,000
//! entries.

use std::path::PathBuf;

use andon_store::{Store, TableSize};
use serde::Serialize;

/// One interval of the run.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Sample {
    /// Seconds since the load began, at the end of the interval.
    pub(super) at_s: f64,
    /// Successful calls per second in the interval.
    pub(super) calls_per_second: f64,
    /// Ledger entries at the end of the interval.
    pub(super) ledger_entries: u64,
    /// SQLite: the database file; PostgreSQL: every table and index of the schema.
    pub(super) database_mib: f64,
    /// SQLite's write-ahead log (PostgreSQL: none).
    pub(super) wal_mib: Option<f64>,
    /// Each server's resident memory.
    pub(super) rss_mib: Vec<f64>,
}

/// One table's growth over the run.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Growth {
    pub(super) table: String,
    /// Rows, per 100,000 ledger entries appended during the run.
    pub(super) table_mib_per_100k: f64,
    /// Indexes, the same.
    pub(super) index_mib_per_100k: f64,
    /// Rows and indexes at the end.
    pub(super) total_mib: f64,
}

/// How steady the samples after the first are: each figure's largest distance from its
/// median, as a share of the median (0.1 is "flat within 10%"). The last interval is left
/// out when it is shorter than the others (the run's end cut it).
#[derive(Clone, Debug, Serialize)]
pub(super) struct Steadiness {
    pub(super) samples: usize,
    pub(super) calls_per_second: f64,
    /// The server whose memory moved most.
    pub(super) rss: f64,
    /// The largest write-ahead log seen (SQLite).
    pub(super) wal_max_mib: Option<f64>,
}

pub(super) const MIB: f64 = 1024.0 * 1024.0;

/// Reads storage sizes for the samples.
pub(super) struct Probe {
    runtime: tokio::runtime::Runtime,
    store: Store,
    sqlite: Option<PathBuf>,
}

impl Probe {
    /// Connects to the database the servers use (as a reader: it writes nothing).
    pub(super) fn open(database: &str) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let store = runtime.block_on(Store::connect(database))?;
        let sqlite = database
            .strip_prefix("sqlite://")
            .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)));
        Ok(Self {
            runtime,
            store,
            sqlite,
        })
    }

    /// The database's size and its write-ahead log's, in MiB. SQLite's are the files'
    /// (reading its tables' sizes means reading every page); PostgreSQL's, its relations'.
    pub(super) fn storage(&self) -> (f64, Option<f64>) {
        let len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / MIB;
        match &self.sqlite {
            Some(path) => {
                let mut wal = path.clone().into_os_string();
                wal.push("-wal");
                (len(path.clone()), Some(len(PathBuf::from(wal))))
            }
            None => {
                let total: u64 = self
                    .tables()
                    .iter()
                    .map(|t| t.table_bytes + t.index_bytes)
                    .sum();
                (total as f64 / MIB, None)
            }
        }
    }

    /// Every table's size (empty when they cannot be read: the figures are then missing,
    /// not wrong).
    pub(super) fn tables(&self) -> Vec<TableSize> {
        self.runtime
            .block_on(self.store.table_sizes())
            .unwrap_or_default()
    }
}

/// Each table's growth between two readings, over `entries` ledger entries.
pub(super) fn growth(before: &[TableSize], after: &[TableSize], entries: u64) -> Vec<Growth> {
    let per = 100_000.0 / entries.max(1) as f64;
    after
        .iter()
        .map(|t| {
            let (t0, i0) = before
                .iter()
                .find(|b| b.table == t.table)
                .map_or((0, 0), |b| (b.table_bytes, b.index_bytes));
            let grew = |now: u64, then: u64| now.saturating_sub(then) as f64 / MIB * per;
            Growth {
                table: t.table.clone(),
                table_mib_per_100k: grew(t.table_bytes, t0),
                index_mib_per_100k: grew(t.index_bytes, i0),
                total_mib: (t.table_bytes + t.index_bytes) as f64 / MIB,
            }
        })
        .filter(|g| g.table_mib_per_100k + g.index_mib_per_100k > 0.0)
        .collect()
}

/// The samples' steadiness after the first; `None` with fewer than two such samples.
pub(super) fn steadiness(samples: &[Sample], interval_s: f64) -> Option<Steadiness> {
    let mut after: Vec<&Sample> = samples.iter().skip(1).collect();
    if let [.., before, last] = after.as_slice()
        && last.at_s - before.at_s < interval_s * 0.9
    {
        after.pop();
    }
    if after.len() < 2 {
        return None;
    }
    let calls: Vec<f64> = after.iter().map(|s| s.calls_per_second).collect();
    let servers = after[0].rss_mib.len();
    let rss = (0..servers)
        .map(|i| spread(&after.iter().map(|s| s.rss_mib[i]).collect::<Vec<_>>()))
        .fold(0.0, f64::max);
    Some(Steadiness {
        samples: after.len(),
        calls_per_second: spread(&calls),
        rss,
        wal_max_mib: samples.iter().filter_map(|s| s.wal_mib).reduce(f64::max),
    })
}

/// The largest distance from the median, as a share of it.
fn spread(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    if median <= 0.0 {
        return 0.0;
    }
    sorted
        .iter()
        .map(|v| (v - median).abs() / median)
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_s: f64, calls: f64, rss: f64) -> Sample {
        Sample {
            at_s,
            calls_per_second: calls,
            ledger_entries: 0,
            database_mib: 0.0,
            wal_mib: Some(rss / 10.0),
            rss_mib: vec![rss],
        }
    }

    #[test]
    fn steadiness_leaves_out_the_first_interval_and_a_short_last_one() {
        let samples = [
            sample(60.0, 10.0, 20.0), // warming up: not counted
            sample(120.0, 100.0, 50.0),
            sample(180.0, 110.0, 55.0),
            sample(240.0, 95.0, 50.0),
            sample(250.0, 1.0, 90.0), // cut short by the end of the run
        ];
        let s = steadiness(&samples, 60.0).expect("three samples");
        assert_eq!(s.samples, 3);
        assert!((s.calls_per_second - 0.10).abs() < 1e-9, "{s:?}");
        assert!((s.rss - 0.10).abs() < 1e-9, "{s:?}");
        assert_eq!(s.wal_max_mib, Some(9.0), "the largest log of the whole run");
        assert!(steadiness(&samples[..2], 60.0).is_none());
    }

    #[test]
    fn growth_is_per_hundred_thousand_entries_and_skips_tables_that_did_not_grow() {
        let t = |table: &str, rows: u64, idx: u64| TableSize {
            table: table.into(),
            table_bytes: rows,
            index_bytes: idx,
        };
        let mib = 1 << 20;
        let before = [t("evidence", 2 * mib, mib), t("keys", 8192, 0)];
        let after = [t("evidence", 12 * mib, 3 * mib), t("keys", 8192, 0)];
        let g = growth(&before, &after, 50_000);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].table, "evidence");
        assert!((g[0].table_mib_per_100k - 20.0).abs() < 1e-9);
        assert!((g[0].index_mib_per_100k - 4.0).abs() < 1e-9);
        assert!((g[0].total_mib - 15.0).abs() < 1e-9);
    }
}
