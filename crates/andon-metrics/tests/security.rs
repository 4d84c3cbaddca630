//! Security lead time computed by hand: fixes per week, the median and 90th percentile
//! from detection to the fix in production, where the time went, and the open items by age
//! and priority.

use andon_metrics::Period;
use andon_metrics::security::{Fix, Open, security};

fn t(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("time").as_millisecond()
}

const H: i64 = 3_600_000;

#[test]
fn lead_times_are_counted_in_the_week_the_fix_reached_production() {
    let monday = t("2026-11-02T00:00:00Z");
    let fix = |detected: i64, built: Option<i64>, deployed: i64, due: i64| Fix {
        detected_at: monday + detected * H,
        built_at: built.map(|b| monday + b * H),
        deployed_at: monday + deployed * H,
        due_at: monday + due * H,
    };
    let fixes = [
        // Week 1: 10 h (built after 4 h), 20 h (built after 8 h), 30 h (never seen built).
        fix(0, Some(4), 10, 24),
        fix(2, Some(10), 22, 24),
        fix(10, None, 40, 24),
        // Week 2 (its fix deployed on 9 November): 200 h, late.
        fix(0, Some(150), 200, 120),
        // Deployed after the range: not counted.
        fix(0, Some(1), 24 * 30, 24),
    ];
    let now = t("2026-11-16T00:00:00Z");
    let open = [
        Open {
            detected_at: now - 2 * H,
            priority: "P1".into(),
            due_at: now + 22 * H,
        },
        Open {
            detected_at: now - 3 * 24 * H,
            priority: "P2".into(),
            due_at: now - H,
        },
        Open {
            detected_at: now - 40 * 24 * H,
            priority: "P3".into(),
            due_at: now - 10 * 24 * H,
        },
    ];
    let s = security(&fixes, &open, monday, now, Period::Week, now);
    assert_eq!(s.periods.len(), 2);
    let w1 = &s.periods[0];
    assert_eq!(
        (w1.start.as_str(), w1.fixed, w1.within_deadline),
        ("2026-11-02", 3, 2)
    );
    assert_eq!(w1.lead_time_median_hours, Some(20.0));
    assert_eq!(w1.lead_time_p90_hours, Some(30.0));
    // Detection to built: 4 h and 8 h; built to deployed: 6 h and 12 h.
    assert_eq!(w1.detect_to_built_median_hours, Some(6.0));
    assert_eq!(w1.built_to_deployed_median_hours, Some(9.0));
    let w2 = &s.periods[1];
    assert_eq!((w2.fixed, w2.within_deadline), (1, 0));
    assert_eq!(w2.lead_time_median_hours, Some(200.0));
    assert_eq!(s.total.fixed, 4);
    // 10, 20, 30, 200: the median between the middle two, the 90th percentile the 4th.
    assert_eq!(s.total.lead_time_median_hours, Some(25.0));
    assert_eq!(s.total.lead_time_p90_hours, Some(200.0));
    assert_eq!((s.open, s.overdue), (3, 2));
    assert_eq!(
        (
            s.open_by_age.under_1_day,
            s.open_by_age.days_1_to_7,
            s.open_by_age.days_7_to_30,
            s.open_by_age.over_30_days
        ),
        (1, 1, 0, 1)
    );
    assert_eq!(
        s.open_by_priority.into_iter().collect::<Vec<_>>(),
        [("P1".into(), 1), ("P2".into(), 1), ("P3".into(), 1)]
    );
}

#[test]
fn drills_are_counted_apart_with_their_time_to_production() {
    use andon_metrics::security::{DrillRun, drills};
    let from = t("2026-11-01T00:00:00Z");
    let to = t("2026-12-01T00:00:00Z");
    let run = |finished: &str, ttp_minutes: Option<i64>| DrillRun {
        finished_at: t(finished),
        time_to_production_ms: ttp_minutes.map(|m| m * 60_000),
    };
    let runs = [
        run("2026-11-03T15:00:00Z", Some(30)),
        run("2026-11-10T15:00:00Z", Some(90)),
        run("2026-11-17T15:00:00Z", Some(60)),
        // Never reached production: counted as finished, not in the times.
        run("2026-11-24T15:00:00Z", None),
        // Outside the range.
        run("2026-10-31T23:59:59Z", Some(5)),
        run("2026-12-01T00:00:00Z", Some(5)),
    ];
    let d = drills(&runs, from, to);
    assert_eq!((d.finished, d.reached_production), (4, 3));
    // 0.5 h, 1 h, 1.5 h: median 1 h; nearest-rank p90 of three is the third.
    assert_eq!(d.time_to_production_median_hours, Some(1.0));
    assert_eq!(d.time_to_production_p90_hours, Some(1.5));
    assert_eq!(drills(&[], from, to), Default::default());
}
