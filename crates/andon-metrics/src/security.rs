//! Security lead time (docs/metrics.md, "Security lead time"): how long a vulnerability
//! found running in production takes to leave it, from its detection to its fix deployed,
//! per period, with where the time goes (detection to the fix built, built to deployed) and
//! the items still open by age and priority. Pure: the caller reads the items and says what
//! time it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Period, median, ms_of, quantile, spans};

/// An item closed as fixed. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// When it was detected.
    pub detected_at: i64,
    /// When its fix was built, when Andon saw it built.
    pub built_at: Option<i64>,
    /// When the fix ran in production (its `fix_deployed` step, else its close).
    pub deployed_at: i64,
    /// When it was due.
    pub due_at: i64,
}

/// An item still open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Open {
    /// When it was detected.
    pub detected_at: i64,
    /// `P1` to `P4`.
    pub priority: String,
    /// When it is due.
    pub due_at: i64,
}

/// Lead times over one period (or the whole range).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadTimes {
    /// First day (RFC 3339 date).
    pub start: String,
    /// First day after it.
    pub end: String,
    /// Items whose fix reached production in the period.
    pub fixed: u64,
    /// Of them, fixed by their deadline.
    pub within_deadline: u64,
    /// Median detection to fix deployed, hours.
    pub lead_time_median_hours: Option<f64>,
    /// 90th percentile, hours (nearest rank).
    pub lead_time_p90_hours: Option<f64>,
    /// Median detection to fix built, hours, over the fixes Andon saw built.
    pub detect_to_built_median_hours: Option<f64>,
    /// Median fix built to fix deployed, hours.
    pub built_to_deployed_median_hours: Option<f64>,
}

/// Open items by age at the time of the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ages {
    /// Detected less than a day ago.
    pub under_1_day: u64,
    /// One to seven days.
    pub days_1_to_7: u64,
    /// Seven to thirty days.
    pub days_7_to_30: u64,
    /// Over thirty days.
    pub over_30_days: u64,
}

/// Security lead time of a range, per period and overall, and what is open now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Security {
    /// Each period of the range.
    pub periods: Vec<LeadTimes>,
    /// The whole range.
    pub total: LeadTimes,
    /// Items open now.
    pub open: u64,
    /// Of them, past their deadline.
    pub overdue: u64,
    /// Open items by age.
    pub open_by_age: Ages,
    /// Open items by priority.
    pub open_by_priority: BTreeMap<String, u64>,
    /// The drills that finished in the range, beside the real fixes.
    #[serde(default)]
    pub drills: Drills,
}

/// A finished drill (a game day). Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrillRun {
    /// When it finished.
    pub finished_at: i64,
    /// From its start to its first production deployment, if it reached production.
    pub time_to_production_ms: Option<i64>,
}

/// Drills over the whole range: how fast a rehearsed change reached production.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Drills {
    /// Drills finished in the range.
    pub finished: u64,
    /// Of them, those whose change reached production.
    pub reached_production: u64,
    /// Median start to production, hours.
    pub time_to_production_median_hours: Option<f64>,
    /// 90th percentile, hours (nearest rank).
    pub time_to_production_p90_hours: Option<f64>,
}

/// The drills of `runs` that finished in `[from_ms, to_ms)`.
pub fn drills(runs: &[DrillRun], from_ms: i64, to_ms: i64) -> Drills {
    let inside: Vec<&DrillRun> = runs
        .iter()
        .filter(|d| d.finished_at >= from_ms && d.finished_at < to_ms)
        .collect();
    let mut hours: Vec<f64> = inside
        .iter()
        .filter_map(|d| Some(d.time_to_production_ms?.max(0) as f64 / HOUR_MS))
        .collect();
    hours.sort_by(f64::total_cmp);
    Drills {
        finished: inside.len() as u64,
        reached_production: hours.len() as u64,
        time_to_production_median_hours: median(&hours),
        time_to_production_p90_hours: quantile(&hours, 0.9),
    }
}

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: i64 = 86_400_000;

fn lead_times(fixes: &[&Fix], start: String, end: String) -> LeadTimes {
    let hours = |from: i64, to: i64| (to - from).max(0) as f64 / HOUR_MS;
    let sorted = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v
    };
    let leads = sorted(
        fixes
            .iter()
            .map(|f| hours(f.detected_at, f.deployed_at))
            .collect(),
    );
    let built = sorted(
        fixes
            .iter()
            .filter_map(|f| Some(hours(f.detected_at, f.built_at?)))
            .collect(),
    );
    let shipped = sorted(
        fixes
            .iter()
            .filter_map(|f| Some(hours(f.built_at?, f.deployed_at)))
            .collect(),
    );
    LeadTimes {
        start,
        end,
        fixed: fixes.len() as u64,
        within_deadline: fixes.iter().filter(|f| f.deployed_at <= f.due_at).count() as u64,
        lead_time_median_hours: median(&leads),
        lead_time_p90_hours: quantile(&leads, 0.9),
        detect_to_built_median_hours: median(&built),
        built_to_deployed_median_hours: median(&shipped),
    }
}

/// The security lead time of the fixes deployed in `[from_ms, to_ms)`, per period (each
/// fix counts in the period its fix reached production), and the `open` items as of `now`.
pub fn security(
    fixes: &[Fix],
    open: &[Open],
    from_ms: i64,
    to_ms: i64,
    period: Period,
    now: i64,
) -> Security {
    let inside = |f: &&Fix, from: i64, to: i64| {
        f.deployed_at >= from.max(from_ms) && f.deployed_at < to.min(to_ms)
    };
    let (periods, total) = match spans(from_ms, to_ms, period) {
        Some((start, end, spans)) => {
            let periods = spans
                .into_iter()
                .map(|(p, q)| {
                    let these: Vec<&Fix> = fixes
                        .iter()
                        .filter(|f| inside(f, ms_of(p), ms_of(q)))
                        .collect();
                    lead_times(&these, p.to_string(), q.to_string())
                })
                .collect();
            let all: Vec<&Fix> = fixes.iter().filter(|f| inside(f, from_ms, to_ms)).collect();
            (
                periods,
                lead_times(&all, start.to_string(), end.to_string()),
            )
        }
        None => (Vec::new(), LeadTimes::default()),
    };
    let mut out = Security {
        periods,
        total,
        open: open.len() as u64,
        overdue: open.iter().filter(|o| o.due_at <= now).count() as u64,
        ..Security::default()
    };
    for o in open {
        let age = now - o.detected_at;
        let bucket = match age {
            a if a < DAY_MS => &mut out.open_by_age.under_1_day,
            a if a < 7 * DAY_MS => &mut out.open_by_age.days_1_to_7,
            a if a < 30 * DAY_MS => &mut out.open_by_age.days_7_to_30,
            _ => &mut out.open_by_age.over_30_days,
        };
        *bucket += 1;
        *out.open_by_priority.entry(o.priority.clone()).or_default() += 1;
    }
    out
}
