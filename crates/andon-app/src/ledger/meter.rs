//! Latency histograms in Prometheus' shape, and the ledger's append meter.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histograms, seconds.
const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A Prometheus histogram.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    count: u64,
    sum: f64,
    buckets: [u64; BOUNDS.len()],
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        self.count += 1;
        self.sum += s;
        for (b, bound) in self.buckets.iter_mut().zip(BOUNDS) {
            if s <= bound {
                *b += 1;
            }
        }
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum of the observations, seconds.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// The buckets, each with the observations in it alone (above the previous bound, at or
    /// below its own), the last one unbounded: the form OpenMetrics encoders sum up.
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        let mut out = Vec::with_capacity(BOUNDS.len() + 1);
        let mut below = 0;
        for (bound, at_or_below) in BOUNDS.iter().zip(self.buckets) {
            out.push((*bound, at_or_below - below));
            below = at_or_below;
        }
        out.push((f64::INFINITY, self.count - below));
        out
    }

    /// Writes the histogram in Prometheus' text format as `name` with `labels`.
    pub fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (b, bound) in self.buckets.iter().zip(BOUNDS) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {b}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// How long ledger appends took, from hand-over to the sequencer to the durable receipt.
#[derive(Debug, Default)]
pub struct AppendMeter(Mutex<Histogram>);

impl AppendMeter {
    /// Records one append.
    pub fn observe(&self, d: Duration) {
        if let Ok(mut h) = self.0.lock() {
            h.observe(d);
        }
    }

    /// The histogram so far.
    pub fn snapshot(&self) -> Histogram {
        self.0.lock().map(|h| h.clone()).unwrap_or_default()
    }
}
