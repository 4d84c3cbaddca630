//! Latency figures of the benchmarks.

use std::time::Duration;

/// The `p` quantile (0 to 1) of sorted latencies, in milliseconds (0 when there are none).
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}
