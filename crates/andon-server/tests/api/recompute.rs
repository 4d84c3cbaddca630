//! DORA's four keys recomputed by an auditor from the raw facts the API serves, on
//! generated histories: pushes whose commits are stamped in several time zones (so their
//! text order is not their order), releases, production and staging deployments, rollbacks
//! to older artifacts, failures restored and failures left open, deployments landing on
//! period edges; then every figure of `GET /v1/metrics` (per period and over the range, by
//! day, week, month and quarter, over ranges cut mid-period and running into the future)
//! against the same figures computed here, by the definitions of docs/metrics.md, from
//! `GET /v1/deployments` and the push payloads in `GET /v1/ledger/entries`. Both backends.

use std::collections::{HashMap, HashSet};

use andon_domain::api::{DeploymentRequest, DeploymentStateRequest};
use andon_domain::change::Deployment;
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use base64::Engine as _;
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ToSpan};
use serde_json::Value;

use crate::common::release::{World, world_with};
use crate::common::{at_ms, github, push_timed};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Offsets commits are stamped in, in hours (an author's laptop anywhere).
const ZONES: [i32; 5] = [0, 9, -5, 5, -8];

/// A small deterministic generator (xorshift64): a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// `ms` as RFC 3339 in a fixed offset of `hours` (`Z` for UTC), as a laptop would stamp it.
fn stamp(ms: i64, hours: i32) -> String {
    let t = Timestamp::from_millisecond(ms).expect("time");
    if hours == 0 {
        return t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    let zone = TimeZone::fixed(Offset::from_hours(hours as i8).expect("offset"));
    t.to_zoned_datetime(zone)
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn rfc3339(ms: i64) -> String {
    Timestamp::from_millisecond(ms).expect("time").to_string()
}

/// The next UTC midnight after `ms`.
fn next_midnight(ms: i64) -> i64 {
    (ms / DAY + 1) * DAY
}

/// Drives a history of about 75 days through the API, the server's clock moved to each
/// fact's time first; returns the time it ends at.
fn generate(w: &World, clock: &Clock, seed: u64) -> i64 {
    let mut rng = Rng(seed);
    let admin = &w.h.admin;
    let mut now = at_ms("2026-08-06T00:00:00Z");
    let end = now + 75 * DAY;
    let (mut last_sha, mut artifacts) = (None::<String>, Vec::<String>::new());
    let mut open: Vec<String> = Vec::new();
    let mut n = 0u32;
    while now < end {
        n += 1;
        now = if rng.chance(15) {
            // On a period's edge: midnight, or the last millisecond before it.
            next_midnight(now) - i64::from(rng.chance(50))
        } else {
            now + HOUR + rng.below(30 * HOUR as u64)
        };
        clock.set_ms(now);
        match rng.below(10) {
            0..=3 => {
                // 1 to 4 commits made in order over the last three days, stamped in any
                // zone; now and then one rebased (its author time older than the one before).
                let count = 1 + rng.below(4);
                let mut at = now - 3 * DAY + rng.below(2 * DAY as u64);
                let commits: Vec<(String, String, String)> = (0..count)
                    .map(|i| {
                        at += 60_000 + rng.below(8 * HOUR as u64);
                        let made = if rng.chance(15) { at - 2 * DAY } else { at };
                        let zone = ZONES[rng.below(ZONES.len() as u64) as usize];
                        let sha = format!("{:016x}{:016x}{:08x}", rng.next(), rng.next(), n);
                        (sha, format!("PAY-{n}-{i} work"), stamp(made.min(now), zone))
                    })
                    .collect();
                let refs: Vec<(&str, &str, &str)> = commits
                    .iter()
                    .map(|(s, m, t)| (s.as_str(), m.as_str(), t.as_str()))
                    .collect();
                github(
                    &w.h,
                    "push",
                    &format!("push-{n}"),
                    &push_timed("refs/heads/main", &refs),
                )
                .expect("push");
                last_sha = commits.last().map(|c| c.0.clone());
            }
            4..=5 => {
                if let Some(sha) = &last_sha {
                    artifacts.push(w.release_from(&format!("pay-{n}"), sha));
                }
            }
            6..=7 if !artifacts.is_empty() => {
                // The newest build; sometimes an older one (a rollback); sometimes staging.
                let artifact = if artifacts.len() > 1 && rng.chance(20) {
                    &artifacts[rng.below(artifacts.len() as u64 - 1) as usize]
                } else {
                    &artifacts[artifacts.len() - 1]
                };
                let environment = if rng.chance(10) {
                    "staging"
                } else {
                    "production"
                };
                let r = admin
                    .record_deployment(&DeploymentRequest {
                        application: "pay".into(),
                        artifact: artifact.clone(),
                        environment: environment.into(),
                        deployed_at: Some(rfc3339(now)),
                        ..Default::default()
                    })
                    .expect("recorded");
                if let Some(old) = r["rolls_back"].as_str() {
                    open.retain(|d| d != old);
                }
                if environment == "production" {
                    open.push(r["deployment"]["id"].as_str().expect("id").to_owned());
                }
            }
            8 => {
                // The latest production deployment fails; restored within minutes to days,
                // or not at all.
                if let Some(id) = open.pop() {
                    mark(w, &id, "failed", now);
                    if rng.chance(70) {
                        now += 5 * 60_000 + rng.below(2 * DAY as u64);
                        clock.set_ms(now);
                        mark(w, &id, "restored", now);
                    }
                }
            }
            _ => {}
        }
    }
    now
}

fn mark(w: &World, id: &str, state: &str, at: i64) {
    w.h.admin
        .deployment_state(
            id,
            &DeploymentStateRequest {
                state: state.into(),
                at: Some(rfc3339(at)),
                note: None,
                late: None,
            },
        )
        .expect("marked");
}

/// The raw facts: production deployments as listed, in ledger order, and every pushed
/// commit's author time (Unix ms) and place in the repository's push history, read from
/// the push payloads the ledger keeps.
struct Facts {
    deployments: Vec<Deployment>,
    commits: Vec<(String, i64)>,
}

fn facts(w: &World) -> Facts {
    let mut deployments: Vec<Deployment> =
        w.h.admin
            .deployments(Some("pay"), None)
            .expect("deployments")
            .into_iter()
            .filter(|d| d.production)
            .collect();
    deployments.sort_by_key(|d| d.ledger_index);
    let mut commits = Vec::new();
    let mut start = 0;
    loop {
        let page = w.h.admin.entries(start, 1000).expect("entries").entries;
        let Some(last) = page.last().map(|e| e.index) else {
            break;
        };
        for e in page.iter().filter(|e| e.kind == "scm.event") {
            let doc = base64::engine::general_purpose::STANDARD
                .decode(e.document.as_deref().expect("the payload"))
                .expect("base64");
            let payload: Value = serde_json::from_slice(&doc).expect("json");
            for c in payload["commits"].as_array().into_iter().flatten() {
                let at = c["timestamp"].as_str().expect("timestamp");
                commits.push((c["id"].as_str().expect("id").to_owned(), at_ms(at)));
            }
        }
        start = last + 1;
    }
    Facts {
        deployments,
        commits,
    }
}

/// The author times of the commits each production deployment brought first, by ledger
/// index: on one branch a deployment of source commit `s` contains every commit pushed up
/// to `s`, and brings those no earlier deployment contained.
fn brought(f: &Facts) -> HashMap<u64, Vec<i64>> {
    let place: HashMap<&str, usize> = f
        .commits
        .iter()
        .enumerate()
        .map(|(i, (sha, _))| (sha.as_str(), i))
        .collect();
    let mut deployed = HashSet::new();
    let mut out = HashMap::new();
    for d in &f.deployments {
        let upto = d.source_commit.as_deref().and_then(|s| place.get(s));
        let mut times = Vec::new();
        if let Some(&upto) = upto {
            for (i, (_, at)) in f.commits.iter().enumerate().take(upto + 1) {
                if deployed.insert(i) {
                    times.push(*at);
                }
            }
        }
        out.insert(d.ledger_index, times);
    }
    out
}

fn period_start(period: &str, d: Date) -> Date {
    match period {
        "day" => d,
        "week" => d - i64::from(d.weekday().to_monday_zero_offset()).days(),
        "month" => d.first_of_month(),
        _ => Date::new(d.year(), (d.month() - 1) / 3 * 3 + 1, 1).expect("quarter"),
    }
}

fn period_next(period: &str, d: Date) -> Date {
    d + match period {
        "day" => 1.day(),
        "week" => 1.week(),
        "month" => 1.month(),
        _ => 3.months(),
    }
}

fn date(ms: i64) -> Date {
    Timestamp::from_millisecond(ms)
        .expect("time")
        .to_zoned_datetime(TimeZone::UTC)
        .date()
}

fn midnight(d: Date) -> i64 {
    d.to_zoned_datetime(TimeZone::UTC)
        .expect("midnight")
        .timestamp()
        .as_millisecond()
}

fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The bands of docs/metrics.md, as an auditor reads the table.
fn bands(
    deployments: usize,
    days: f64,
    lead: Option<f64>,
    cfr: Option<f64>,
    ttr: Option<f64>,
) -> Value {
    let n = deployments as f64;
    let frequency = (days > 0.0).then_some({
        if n >= days {
            "elite"
        } else if n * 7.0 >= days {
            "high"
        } else if n * 31.0 >= days {
            "medium"
        } else {
            "low"
        }
    });
    let by = |v: Option<f64>, limits: [f64; 3], strict: bool| {
        v.map(|v| {
            let under = |l: f64| if strict { v < l } else { v <= l };
            if under(limits[0]) {
                "elite"
            } else if under(limits[1]) {
                "high"
            } else if under(limits[2]) {
                "medium"
            } else {
                "low"
            }
        })
    };
    serde_json::json!({
        "deployment_frequency": frequency,
        "lead_time": by(lead, [24.0, 168.0, 720.0], true),
        "change_failure_rate": by(cfr, [0.05, 0.10, 0.15], false),
        "time_to_restore": by(ttr, [60.0, 1440.0, 10080.0], true),
    })
}

/// The keys of the deployments in `[from, until)`, frequency measured over `measured` ms.
fn keys(
    f: &Facts,
    first: &HashMap<u64, Vec<i64>>,
    from: i64,
    until: i64,
    measured: (i64, i64),
) -> Value {
    let inside: Vec<&Deployment> = f
        .deployments
        .iter()
        .filter(|d| d.deployed_at >= from && d.deployed_at < until)
        .collect();
    let days: HashSet<Date> = inside.iter().map(|d| date(d.deployed_at)).collect();
    let mut leads: Vec<f64> = inside
        .iter()
        .flat_map(|d| {
            first[&d.ledger_index]
                .iter()
                .map(move |c| (d.deployed_at - c).max(0) as f64 / HOUR as f64)
        })
        .collect();
    leads.sort_by(f64::total_cmp);
    let failed: Vec<&&Deployment> = inside.iter().filter(|d| d.failed_at.is_some()).collect();
    let mut restores: Vec<f64> = failed
        .iter()
        .filter_map(|d| Some((d.restored_at? - d.failed_at?).max(0) as f64 / 60_000.0))
        .collect();
    restores.sort_by(f64::total_cmp);
    let cfr = (!inside.is_empty()).then(|| failed.len() as f64 / inside.len() as f64);
    let span_days = (measured.1 - measured.0) as f64 / DAY as f64;
    serde_json::json!({
        "deployments": inside.len(),
        "deployment_days": days.len(),
        "changes": leads.len(),
        "lead_time_median_hours": median(&leads),
        "lead_time_p90_hours": nearest_rank(&leads, 0.9),
        "failed_deployments": failed.len(),
        "change_failure_rate": cfr,
        "restored": restores.len(),
        "unrestored": failed.len() - restores.len(),
        "time_to_restore_median_minutes": median(&restores),
        "days": span_days,
        "measured_from": rfc3339(measured.0),
        "measured_until": rfc3339(measured.1),
        "bands": bands(inside.len(), span_days, median(&leads), cfr, median(&restores)),
    })
}

/// What `GET /v1/metrics` must answer for `period` over `[since, until)` read at `now`.
fn expected(f: &Facts, period: &str, since: i64, until: i64, now: i64) -> (Vec<Value>, Value) {
    let first = brought(f);
    let known_until = until.min(now).max(since);
    let mut periods = Vec::new();
    let mut p = period_start(period, date(since));
    let last = date(until - 1);
    while p <= last {
        let q = period_next(period, p);
        let (a, b) = (midnight(p).max(since), midnight(q).min(until));
        // The part already lived (empty for a period still ahead).
        let measured = (a, midnight(q).min(known_until).max(a));
        let mut k = keys(f, &first, a, b, measured);
        k["start"] = p.to_string().into();
        k["end"] = q.to_string().into();
        periods.push(k);
        p = q;
    }
    (periods, keys(f, &first, since, until, (since, known_until)))
}

/// The figures compared: every count, rate, median and band, to a billionth.
fn same(got: &Value, want: &Value, what: &str) {
    let Value::Object(fields) = want else {
        unreachable!("an object")
    };
    for (k, v) in fields {
        let g = &got[k];
        match (g, v) {
            (Value::Number(a), Value::Number(b)) => {
                let (a, b) = (a.as_f64().expect("a"), b.as_f64().expect("b"));
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{what}: {k} is {a}, recomputed {b}\n{got:#}"
                );
            }
            (Value::Object(_), Value::Object(_)) => same(g, v, &format!("{what} {k}")),
            _ => assert_eq!(g, v, "{what}: {k}\n{got:#}"),
        }
    }
}

fn the_keys_recompute_from_the_raw_facts(b: Backend) {
    for seed in [0x5eed_0001_u64, 0x0dd_ba11] {
        let clock = Clock::manual(at_ms("2026-08-06T00:00:00Z"));
        let w = world_with(b, |c| c.clock = clock.clone());
        let now = generate(&w, &clock, seed);
        let f = facts(&w);
        let commits = f.commits.len();
        let counted: usize = brought(&f).values().map(Vec::len).sum();
        assert!(
            f.deployments.len() >= 8 && commits >= 20 && counted >= 10,
            "seed {seed:#x}: a history too thin to prove anything ({} deployments, {commits} commits, {counted} deployed)",
            f.deployments.len()
        );
        assert!(
            f.deployments
                .iter()
                .any(|d| d.failed_at.is_some() && d.restored_at.is_none()),
            "seed {seed:#x}: no failure left open"
        );
        let start = at_ms("2026-08-06T00:00:00Z");
        let ranges = [
            // From a Thursday to two days into the future.
            (start, now + 2 * DAY),
            // Cut mid-week and mid-month, at odd hours.
            (start + 13 * DAY + 5 * HOUR, start + 50 * DAY + 17 * HOUR),
        ];
        for (since, until) in ranges {
            for period in ["day", "week", "month", "quarter"] {
                let r =
                    w.ci.metrics(&[
                        ("application", "pay".to_owned()),
                        ("period", period.to_owned()),
                        ("since", rfc3339(since)),
                        ("until", rfc3339(until)),
                    ])
                    .expect("metrics");
                let (periods, total) = expected(&f, period, since, until, now);
                let got = r["periods"].as_array().expect("periods");
                assert_eq!(got.len(), periods.len(), "seed {seed:#x} {period}");
                for (g, p) in got.iter().zip(&periods) {
                    same(g, p, &format!("seed {seed:#x} {period} {}", p["start"]));
                }
                same(
                    &r["total"],
                    &total,
                    &format!("seed {seed:#x} {period} total"),
                );
            }
        }
    }
}

both_backends!(the_keys_recompute_from_the_raw_facts);
