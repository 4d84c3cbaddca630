//! What `andon bench load` reports, and how it reads on a terminal.

use std::collections::BTreeMap;

use serde::Serialize;

use super::mix::Kind;
use super::soak::{Growth, Sample, Steadiness};

/// One kind of call's figures.
#[derive(Serialize)]
pub(super) struct KindReport {
    pub(super) kind: Kind,
    pub(super) calls: usize,
    pub(super) per_second: f64,
    pub(super) p50_ms: f64,
    pub(super) p95_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) max_ms: f64,
}

/// One server's resident memory over the run.
#[derive(Serialize)]
pub(super) struct ServerMemory {
    pub(super) url: String,
    pub(super) rss_start_mib: f64,
    pub(super) rss_peak_mib: f64,
    pub(super) rss_end_mib: f64,
}

/// The whole run.
#[derive(Serialize)]
pub(super) struct Report {
    pub(super) database: String,
    pub(super) servers: usize,
    pub(super) clients: usize,
    pub(super) seconds: f64,
    pub(super) calls: usize,
    pub(super) calls_per_second: f64,
    pub(super) livez_per_second: f64,
    pub(super) kinds: Vec<KindReport>,
    pub(super) errors: BTreeMap<String, u64>,
    pub(super) memory: Vec<ServerMemory>,
    pub(super) ledger_entries: u64,
    /// Every interval's figures.
    pub(super) samples: Vec<Sample>,
    /// How steady they were after the first interval.
    pub(super) steadiness: Option<Steadiness>,
    /// Each table's growth per 100,000 entries appended during the run.
    pub(super) growth: Vec<Growth>,
}

impl Report {
    /// The report for a terminal.
    pub(super) fn print(&self) {
        let r = self;
        println!(
            "{} server(s) on {}, {} clients, {:.0} s: {} calls, {:.0} calls/s (GET /livez alone: {:.0}/s, {:.1}x)",
            r.servers,
            r.database,
            r.clients,
            r.seconds,
            r.calls,
            r.calls_per_second,
            r.livez_per_second,
            r.livez_per_second / r.calls_per_second.max(1e-9)
        );
        println!(
            "{:<16} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "kind", "calls", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms"
        );
        for k in &r.kinds {
            println!(
                "{:<16} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
                serde_json::to_value(k.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                k.calls,
                k.per_second,
                k.p50_ms,
                k.p95_ms,
                k.p99_ms,
                k.max_ms
            );
        }
        if r.errors.is_empty() {
            println!("errors: none");
        }
        for (e, n) in &r.errors {
            println!("error {e}: {n}");
        }
        for m in &r.memory {
            println!(
                "server {}: resident {:.0} MiB at start, {:.0} MiB peak, {:.0} MiB at the end",
                m.url, m.rss_start_mib, m.rss_peak_mib, m.rss_end_mib
            );
        }
        println!("ledger: {} entries", r.ledger_entries);
        self.print_samples();
    }

    fn print_samples(&self) {
        if self.samples.len() > 1 {
            println!(
                "{:>7} {:>8} {:>10} {:>11} {:>8} {:>12}",
                "at s", "calls/s", "entries", "database", "wal", "resident MiB"
            );
            for s in &self.samples {
                let rss: Vec<String> = s.rss_mib.iter().map(|m| format!("{m:.0}")).collect();
                println!(
                    "{:>7.0} {:>8.0} {:>10} {:>7.0} MiB {:>8} {:>12}",
                    s.at_s,
                    s.calls_per_second,
                    s.ledger_entries,
                    s.database_mib,
                    s.wal_mib.map_or("-".into(), |w| format!("{w:.0} MiB")),
                    rss.join(" ")
                );
            }
        }
        if let Some(st) = &self.steadiness {
            println!(
                "after the first interval ({} samples): calls/s within {:.0}% of their median, resident memory within {:.0}%{}",
                st.samples,
                st.calls_per_second * 100.0,
                st.rss * 100.0,
                st.wal_max_mib.map_or(String::new(), |w| format!(
                    ", write-ahead log at most {w:.0} MiB"
                ))
            );
        }
        if !self.growth.is_empty() {
            println!(
                "{:<28} {:>12} {:>12} {:>10}",
                "growth per 100,000 entries", "rows MiB", "indexes MiB", "now MiB"
            );
            for g in &self.growth {
                println!(
                    "{:<28} {:>12.1} {:>12.1} {:>10.0}",
                    g.table, g.table_mib_per_100k, g.index_mib_per_100k, g.total_mib
                );
            }
        }
    }
}
