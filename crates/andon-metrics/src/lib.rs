//! DORA's four keys, computed from what Andon recorded (docs/metrics.md).
//!
//! - **Deployment frequency**: production deployments, and the days with at least one, per
//!   period.
//! - **Lead time for changes**: for each commit, from its author time to the first
//!   production deployment that brought it (a commit deployed twice counts once, at its
//!   first deployment); median and 90th percentile over the commits first deployed in the
//!   period.
//! - **Change failure rate**: production deployments of the period that failed or were
//!   rolled back, over the production deployments of the period; never above 100%.
//! - **Time to restore** (DORA's *failed deployment recovery time* since 2024): from a
//!   failure to its restoration, median over the failures of the period that were restored;
//!   failures not yet restored are counted apart.
//! - **Deployment rework rate** (DORA 2024): production deployments made while an earlier
//!   deployment of the same application and environment was failed and not yet restored (a
//!   rollback or a fix forward: unplanned work to fix a production incident), over the
//!   production deployments of the period.
//!
//! Each period also says how many of the facts it counts (a deployment's record, its
//! failures and restorations) arrived after the late window with an admin's reason, and,
//! once it has ended, how many entered the ledger after its end (docs/changes.md, "Time").
//!
//! Periods are UTC calendar days, ISO weeks (Monday), months and quarters. Pure: the caller
//! reads the deployments and says what time it is; nothing here reads a clock.

pub mod debt;
pub mod security;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// A production deployment as the metrics see it. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deploy {
    /// When it was deployed.
    pub at: i64,
    /// When it failed or was rolled back, if it did.
    pub failed_at: Option<i64>,
    /// When service was restored after that failure.
    pub restored_at: Option<i64>,
    /// Author times of the commits this deployment brought to production first.
    pub commit_times: Vec<i64>,
    /// The facts its figures rest on (its record, its failures and restorations), as they
    /// reached the ledger.
    #[serde(default)]
    pub arrivals: Vec<Arrival>,
    /// What it replaces: its application and environment. Deployments of one scope follow
    /// each other; rework is judged within a scope.
    #[serde(default)]
    pub scope: String,
    /// Made while an earlier deployment of its scope was failed and not yet restored
    /// ([`mark_rework`]).
    #[serde(default)]
    pub rework: bool,
}

/// How one fact reached the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival {
    /// When the ledger accepted it (Unix ms).
    pub recorded_at: i64,
    /// It arrived after the late window, allowed by an admin with a reason.
    pub late: bool,
}

/// The length of a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A UTC calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
    /// A calendar quarter.
    Quarter,
}

impl Period {
    /// From its name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "day" => Self::Day,
            "week" => Self::Week,
            "month" => Self::Month,
            "quarter" => Self::Quarter,
            _ => return None,
        })
    }

    /// The first day of the period containing `d`.
    fn start(self, d: Date) -> Date {
        match self {
            Self::Day => d,
            Self::Week => {
                let back = i64::from(d.weekday().to_monday_zero_offset());
                d.checked_sub(back.days()).unwrap_or(d)
            }
            Self::Month => d.first_of_month(),
            Self::Quarter => {
                let month = (d.month() - 1) / 3 * 3 + 1;
                Date::new(d.year(), month, 1).unwrap_or(d)
            }
        }
    }

    /// The first day of the next period.
    fn next(self, start: Date) -> Date {
        let span = match self {
            Self::Day => 1.day(),
            Self::Week => 1.week(),
            Self::Month => 1.month(),
            Self::Quarter => 3.months(),
        };
        start.checked_add(span).unwrap_or(start)
    }
}

/// A DORA performance band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Elite.
    Elite,
}

/// The four keys over one period (or the whole range).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Keys {
    /// First day (RFC 3339 date).
    pub start: String,
    /// First day after it.
    pub end: String,
    /// The part of the period the figures are measured over (RFC 3339): the period cut to
    /// the requested range and to the present. The total's is the requested range itself.
    pub measured_from: String,
    /// The end of the measured part (exclusive).
    pub measured_until: String,
    /// Days in the measured part: what deployment frequency divides by (0 for a period
    /// wholly in the future or outside the range).
    pub days: f64,
    /// Only part of the period is measured (it is under way, or the range cuts it): a
    /// count here is not comparable with a whole period's.
    #[serde(default)]
    pub partial: bool,
    /// Production deployments.
    pub deployments: u64,
    /// Days with at least one production deployment.
    pub deployment_days: u64,
    /// Commits first deployed in the period.
    pub changes: u64,
    /// Median lead time for changes, hours.
    pub lead_time_median_hours: Option<f64>,
    /// 90th percentile lead time, hours.
    pub lead_time_p90_hours: Option<f64>,
    /// Deployments of the period that failed or were rolled back.
    pub failed_deployments: u64,
    /// `failed_deployments / deployments`, 0 to 1.
    pub change_failure_rate: Option<f64>,
    /// Failures of the period restored.
    pub restored: u64,
    /// Failures of the period not restored (yet).
    pub unrestored: u64,
    /// Median time to restore, minutes.
    pub time_to_restore_median_minutes: Option<f64>,
    /// The same figure under the name DORA gives it since 2024.
    #[serde(default)]
    pub failed_deployment_recovery_time_median_minutes: Option<f64>,
    /// Deployments of the period made while an earlier one of the same scope was failed
    /// and not yet restored: rollbacks and fixes forward.
    #[serde(default)]
    pub rework_deployments: u64,
    /// `rework_deployments / deployments`, 0 to 1 (DORA 2024's deployment rework rate).
    #[serde(default)]
    pub deployment_rework_rate: Option<f64>,
    /// Facts counted in the period (deployments, failures, restorations) that arrived after
    /// the late window, each allowed by an admin with a reason.
    pub late: u64,
    /// Once the period has ended: how many of the facts counted in it entered the ledger
    /// after its end (null while it is still open).
    pub recorded_after_close: Option<u64>,
    /// The band of each key that has a value.
    pub bands: Bands,
}

/// The bands of the four keys (absent without data).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    /// Deployment frequency.
    pub deployment_frequency: Option<Band>,
    /// Lead time for changes.
    pub lead_time: Option<Band>,
    /// Change failure rate.
    pub change_failure_rate: Option<Band>,
    /// Time to restore.
    pub time_to_restore: Option<Band>,
    /// Failed deployment recovery time: time to restore's band, under its 2024 name.
    #[serde(default)]
    pub failed_deployment_recovery_time: Option<Band>,
}

/// The metrics of a range, per period and overall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The period length.
    pub period: Period,
    /// Each period of the range, empty ones included.
    pub periods: Vec<Keys>,
    /// The whole range.
    pub total: Keys,
    /// Security lead time, when the caller adds it (`GET /v1/metrics` does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<security::Security>,
}

/// The `q` quantile (0 to 1) of sorted values, nearest rank.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

pub(crate) fn date_of(ms: i64) -> Option<Date> {
    Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_zoned_datetime(TimeZone::UTC).date())
}

pub(crate) fn ms_of(d: Date) -> i64 {
    d.to_zoned_datetime(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// The longest month, in days: "at least once a month" is at least one deployment per 31
/// days on average, so one deployment in any calendar month is monthly.
pub const MONTH_DAYS: f64 = 31.0;

/// Deployment frequency band from deployments per day over `days` days (docs/metrics.md):
/// elite at least one a day on average (on demand), high at least one per 7 days, medium
/// at least one per [`MONTH_DAYS`], low below; none over no time at all.
pub fn frequency_band(deployments: u64, days: f64) -> Option<Band> {
    if days <= 0.0 {
        return None;
    }
    // Compared as deployments against days, not as a rounded rate.
    let n = deployments as f64;
    Some(if n >= days {
        Band::Elite
    } else if n * 7.0 >= days {
        Band::High
    } else if n * MONTH_DAYS >= days {
        Band::Medium
    } else {
        Band::Low
    })
}

/// Lead time band from the median in hours: under a day elite, a week high, a month medium.
pub fn lead_time_band(hours: f64) -> Band {
    if hours < 24.0 {
        Band::Elite
    } else if hours < 24.0 * 7.0 {
        Band::High
    } else if hours < 24.0 * 30.0 {
        Band::Medium
    } else {
        Band::Low
    }
}

/// Change failure rate band: at most 5% elite, 10% high, 15% medium.
pub fn failure_band(rate: f64) -> Band {
    if rate <= 0.05 {
        Band::Elite
    } else if rate <= 0.10 {
        Band::High
    } else if rate <= 0.15 {
        Band::Medium
    } else {
        Band::Low
    }
}

/// Time to restore band from the median in minutes: under an hour elite, a day high, a
/// week medium.
pub fn restore_band(minutes: f64) -> Band {
    if minutes < 60.0 {
        Band::Elite
    } else if minutes < 60.0 * 24.0 {
        Band::High
    } else if minutes < 60.0 * 24.0 * 7.0 {
        Band::Medium
    } else {
        Band::Low
    }
}

/// How many of the facts of `deploys` arrived late, and, when the period ending at
/// `end_ms` has ended by `now`, how many entered the ledger after that end.
pub fn arrivals(deploys: &[&Deploy], end_ms: i64, now: i64) -> (u64, Option<u64>) {
    let all = || deploys.iter().flat_map(|d| d.arrivals.iter());
    let late = all().filter(|a| a.late).count() as u64;
    let after = (end_ms <= now).then(|| all().filter(|a| a.recorded_at >= end_ms).count() as u64);
    (late, after)
}

/// A span of time in Unix ms, `[from, until)`.
#[derive(Clone, Copy, Debug)]
struct Span {
    from: i64,
    until: i64,
}

impl Span {
    /// This span cut to `other` (empty when they do not meet).
    fn within(self, other: Span) -> Span {
        let from = self.from.max(other.from);
        Span {
            from,
            until: self.until.min(other.until).max(from),
        }
    }

    fn days(self) -> f64 {
        (self.until - self.from) as f64 / 86_400_000.0
    }

    fn contains(self, at: i64) -> bool {
        at >= self.from && at < self.until
    }
}

fn rfc3339_ms(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The keys of the deployments in the period `[from, to)` (days), measured over `measured`,
/// closing at `closes` (Unix ms), as known at `now`.
fn keys(
    deploys: &[&Deploy],
    (from, to): (Date, Date),
    measured: Span,
    closes: i64,
    now: i64,
) -> Keys {
    let mut days: Vec<Date> = deploys.iter().filter_map(|d| date_of(d.at)).collect();
    days.sort();
    days.dedup();
    let mut leads: Vec<f64> = deploys
        .iter()
        .flat_map(|d| {
            d.commit_times
                .iter()
                .map(move |c| (d.at - c).max(0) as f64 / 3.6e6)
        })
        .collect();
    leads.sort_by(f64::total_cmp);
    let failed: Vec<&&Deploy> = deploys.iter().filter(|d| d.failed_at.is_some()).collect();
    let mut restores: Vec<f64> = failed
        .iter()
        .filter_map(|d| Some((d.restored_at? - d.failed_at?).max(0) as f64 / 60_000.0))
        .collect();
    restores.sort_by(f64::total_cmp);
    let n = deploys.len() as u64;
    let rate = (n > 0).then(|| failed.len() as f64 / n as f64);
    let rework = deploys.iter().filter(|d| d.rework).count() as u64;
    let lead = median(&leads);
    let restore = median(&restores);
    let span_days = measured.days();
    let (late, recorded_after_close) = arrivals(deploys, closes, now);
    Keys {
        start: from.to_string(),
        end: to.to_string(),
        measured_from: rfc3339_ms(measured.from),
        measured_until: rfc3339_ms(measured.until),
        days: span_days,
        partial: measured.from > ms_of(from) || measured.until < ms_of(to),
        deployments: n,
        deployment_days: days.len() as u64,
        changes: leads.len() as u64,
        lead_time_median_hours: lead,
        lead_time_p90_hours: quantile(&leads, 0.9),
        failed_deployments: failed.len() as u64,
        change_failure_rate: rate,
        restored: restores.len() as u64,
        unrestored: (failed.len() - restores.len()) as u64,
        time_to_restore_median_minutes: restore,
        failed_deployment_recovery_time_median_minutes: restore,
        rework_deployments: rework,
        deployment_rework_rate: (n > 0).then(|| rework as f64 / n as f64),
        late,
        recorded_after_close,
        bands: Bands {
            deployment_frequency: frequency_band(n, span_days),
            lead_time: lead.map(lead_time_band),
            change_failure_rate: rate.map(failure_band),
            time_to_restore: restore.map(restore_band),
            failed_deployment_recovery_time: restore.map(restore_band),
        },
    }
}

/// The four keys of `deploys` from `from_ms` (inclusive) to `to_ms` (exclusive), per
/// period, as known at `now`: every period touching the range is listed, empty ones too,
/// and each counts the deployments of its part inside the range and divides by that part's
/// days up to `now` (a period cut by the range, or not over yet, is not averaged over days
/// outside it). The total is the range itself.
pub fn report(deploys: &[Deploy], from_ms: i64, to_ms: i64, period: Period, now: i64) -> Report {
    let Some((start, end, spans)) = spans(from_ms, to_ms, period) else {
        return Report {
            period,
            periods: Vec::new(),
            total: Keys::default(),
            security: None,
        };
    };
    let range = Span {
        from: from_ms,
        until: to_ms,
    };
    let known = range.within(Span {
        from: from_ms,
        until: now.max(from_ms),
    });
    let periods = spans
        .into_iter()
        .map(|(p, q)| {
            let whole = Span {
                from: ms_of(p),
                until: ms_of(q),
            };
            let inside: Vec<&Deploy> = deploys
                .iter()
                .filter(|d| whole.within(range).contains(d.at))
                .collect();
            keys(&inside, (p, q), whole.within(known), whole.until, now)
        })
        .collect();
    let all: Vec<&Deploy> = deploys.iter().filter(|d| range.contains(d.at)).collect();
    Report {
        period,
        periods,
        total: keys(&all, (start, end), known, to_ms, now),
        security: None,
    }
}

/// Marks each deployment made while an earlier deployment of its scope was failed and not
/// yet restored (restored at or after it, or never): a rollback or a fix forward.
pub fn mark_rework(deploys: &mut [Deploy]) {
    let mut order: Vec<usize> = (0..deploys.len()).collect();
    order.sort_by_key(|&i| (deploys[i].at, i));
    let mut flags = vec![false; deploys.len()];
    for (k, &i) in order.iter().enumerate() {
        let d = &deploys[i];
        flags[i] = order[..k].iter().any(|&j| {
            let e = &deploys[j];
            e.scope == d.scope
                && e.failed_at.is_some_and(|f| f <= d.at)
                && e.restored_at.is_none_or(|r| r >= d.at)
        });
    }
    for (d, f) in deploys.iter_mut().zip(flags) {
        d.rework = f;
    }
}

/// The periods covering `[from_ms, to_ms)`, widened to whole periods: the first day, the
/// day after the last period, and each period's first day and the next period's.
pub(crate) type Spans = (Date, Date, Vec<(Date, Date)>);

pub(crate) fn spans(from_ms: i64, to_ms: i64, period: Period) -> Option<Spans> {
    let (first, last) = (date_of(from_ms)?, date_of(to_ms.saturating_sub(1))?);
    let start = period.start(first);
    let end = period.next(period.start(last));
    let mut out = Vec::new();
    let mut p = start;
    while p < end {
        let q = period.next(p);
        out.push((p, q));
        if q <= p {
            break;
        }
        p = q;
    }
    Some((start, end, out))
}
