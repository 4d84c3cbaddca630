//! The four keys on a hand-computed scenario: three ISO weeks, the middle one empty, a
//! failure restored, a failure not restored yet, a redeployment that brings no new commit.

use andon_metrics::{Arrival, Band, Deploy, Period, report};

fn t(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().expect("time").as_millisecond()
}

/// The application and environment every deployment of the scenario replaces.
const SCOPE: &str = "shop\nproduction";

/// When the scenario is read: after all of it.
const NOW: i64 = 1_800_000_000_000;

fn scenario() -> Vec<Deploy> {
    vec![
        // Week of 2 November: commits 24 h and 2 h old.
        Deploy {
            at: t("2026-11-02T10:00:00Z"),
            failed_at: None,
            restored_at: None,
            commit_times: vec![t("2026-11-01T10:00:00Z"), t("2026-11-02T08:00:00Z")],
            arrivals: Vec::new(),
            scope: SCOPE.into(),
            rework: false,
        },
        // A 6 h old commit; failed an hour later, restored 30 minutes after.
        Deploy {
            at: t("2026-11-03T12:00:00Z"),
            failed_at: Some(t("2026-11-03T13:00:00Z")),
            restored_at: Some(t("2026-11-03T13:30:00Z")),
            commit_times: vec![t("2026-11-03T06:00:00Z")],
            arrivals: Vec::new(),
            scope: SCOPE.into(),
            rework: false,
        },
        // The same commits deployed again (nothing new to count); failed, not restored yet.
        Deploy {
            at: t("2026-11-05T09:00:00Z"),
            failed_at: Some(t("2026-11-05T10:00:00Z")),
            restored_at: None,
            commit_times: vec![],
            arrivals: Vec::new(),
            scope: SCOPE.into(),
            rework: false,
        },
        // Week of 16 November: commits 168 h and 24 h old.
        Deploy {
            at: t("2026-11-17T09:00:00Z"),
            failed_at: None,
            restored_at: None,
            commit_times: vec![t("2026-11-10T09:00:00Z"), t("2026-11-16T09:00:00Z")],
            arrivals: Vec::new(),
            scope: SCOPE.into(),
            rework: false,
        },
    ]
}

#[test]
fn weekly_keys_match_the_hand_computation() {
    let r = report(
        &scenario(),
        t("2026-11-02T00:00:00Z"),
        t("2026-11-23T00:00:00Z"),
        Period::Week,
        NOW,
    );
    assert_eq!(r.periods.len(), 3);
    let [w1, w2, w3] = [&r.periods[0], &r.periods[1], &r.periods[2]];
    assert_eq!(
        (w1.start.as_str(), w1.end.as_str()),
        ("2026-11-02", "2026-11-09")
    );

    assert_eq!((w1.deployments, w1.deployment_days, w1.changes), (3, 3, 3));
    assert_eq!(w1.lead_time_median_hours, Some(6.0));
    assert_eq!(w1.lead_time_p90_hours, Some(24.0));
    assert_eq!(w1.failed_deployments, 2);
    assert!((w1.change_failure_rate.expect("cfr") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!((w1.restored, w1.unrestored), (1, 1));
    assert_eq!(w1.time_to_restore_median_minutes, Some(30.0));
    assert_eq!(
        w1.bands.deployment_frequency,
        Some(Band::High),
        "3 in 7 days"
    );
    assert_eq!(w1.bands.lead_time, Some(Band::Elite));
    assert_eq!(w1.bands.change_failure_rate, Some(Band::Low));
    assert_eq!(w1.bands.time_to_restore, Some(Band::Elite));

    // The empty week: nothing deployed, no rate, no lead time.
    assert_eq!(
        (w2.deployments, w2.changes, w2.failed_deployments),
        (0, 0, 0)
    );
    assert_eq!(w2.change_failure_rate, None);
    assert_eq!(w2.lead_time_median_hours, None);
    assert_eq!(w2.bands.deployment_frequency, Some(Band::Low));
    assert_eq!(w2.bands.change_failure_rate, None);

    assert_eq!((w3.deployments, w3.changes), (1, 2));
    assert_eq!(w3.lead_time_median_hours, Some(96.0));
    assert_eq!(w3.lead_time_p90_hours, Some(168.0));
    assert_eq!(w3.change_failure_rate, Some(0.0));
    assert_eq!(w3.bands.lead_time, Some(Band::High));
    assert_eq!(w3.bands.change_failure_rate, Some(Band::Elite));
    assert_eq!(w3.time_to_restore_median_minutes, None);

    let all = &r.total;
    assert_eq!(
        (all.deployments, all.deployment_days, all.changes),
        (4, 4, 5)
    );
    assert_eq!(all.lead_time_median_hours, Some(24.0));
    assert_eq!(all.lead_time_p90_hours, Some(168.0));
    assert_eq!(all.change_failure_rate, Some(0.5));
    assert_eq!(
        all.bands.lead_time,
        Some(Band::High),
        "24 h is not under a day"
    );
    assert_eq!(
        all.bands.deployment_frequency,
        Some(Band::High),
        "4 in 21 days"
    );
}

#[test]
fn periods_are_calendar_days_months_and_quarters() {
    let d = scenario();
    let (from, to) = (t("2026-11-02T00:00:00Z"), t("2026-11-23T00:00:00Z"));
    let days = report(&d, from, to, Period::Day, NOW);
    assert_eq!(days.periods.len(), 21);
    assert_eq!(days.periods.iter().map(|p| p.deployments).sum::<u64>(), 4);
    assert_eq!(days.periods[1].deployments, 1, "3 November");
    let months = report(&d, from, to, Period::Month, NOW);
    assert_eq!(months.periods.len(), 1);
    assert_eq!(months.periods[0].start, "2026-11-01");
    assert_eq!(months.periods[0].end, "2026-12-01");
    let quarters = report(&d, from, to, Period::Quarter, NOW);
    assert_eq!(quarters.periods[0].start, "2026-10-01");
    assert_eq!(quarters.periods[0].end, "2027-01-01");
    // The failure rate is never above 100%, whatever happened.
    assert!(
        days.periods
            .iter()
            .all(|p| p.change_failure_rate.is_none_or(|r| r <= 1.0))
    );
}

#[test]
fn a_closed_period_says_what_arrived_late_and_after_it_closed() {
    let arrived = |at: &str, late| Arrival {
        recorded_at: t(at),
        late,
    };
    let mut d = scenario();
    // The first deployment was recorded as it happened.
    d[0].arrivals = vec![arrived("2026-11-02T10:00:05Z", false)];
    // The second was recorded a month later with an admin's reason; its failure and
    // restoration on time.
    d[1].arrivals = vec![
        arrived("2026-12-03T09:00:00Z", true),
        arrived("2026-11-03T13:00:01Z", false),
        arrived("2026-11-03T13:30:01Z", false),
    ];
    // The third within the window, but after its week had closed (a Sunday-night deploy
    // recorded on Monday morning).
    d[2].arrivals = vec![arrived("2026-11-09T06:00:00Z", false)];
    d[3].arrivals = vec![arrived("2026-11-17T09:00:01Z", false)];
    let (from, to) = (t("2026-11-02T00:00:00Z"), t("2026-11-23T00:00:00Z"));
    let r = report(&d, from, to, Period::Week, t("2026-11-20T00:00:00Z"));
    let [w1, w2, w3] = [&r.periods[0], &r.periods[1], &r.periods[2]];
    assert_eq!((w1.late, w1.recorded_after_close), (1, Some(2)));
    assert_eq!((w2.late, w2.recorded_after_close), (0, Some(0)));
    assert_eq!(
        (w3.late, w3.recorded_after_close),
        (0, None),
        "the third week is still open"
    );
    assert_eq!((r.total.late, r.total.recorded_after_close), (1, None));
    // Asked again once everything has closed, the total counts them too.
    let later = report(&d, from, to, Period::Week, t("2027-01-01T00:00:00Z"));
    assert_eq!(
        later.total.recorded_after_close,
        Some(1),
        "only the deployment recorded in December came after the whole range"
    );
    assert_eq!(later.periods[0].recorded_after_close, Some(2));
}

/// A deployment at `at` with nothing else known.
fn deployed(at: i64) -> Deploy {
    Deploy {
        at,
        failed_at: None,
        restored_at: None,
        commit_times: Vec::new(),
        arrivals: Vec::new(),
        scope: SCOPE.into(),
        rework: false,
    }
}

#[test]
fn the_range_is_measured_alike_whatever_the_period() {
    // Two deployments a week over a 90-day window that starts on a Thursday and ends on a
    // Wednesday: the total must not depend on how the window is cut into periods.
    let (from, to) = (t("2026-09-03T00:00:00Z"), t("2026-12-02T00:00:00Z"));
    let d: Vec<Deploy> = (0..26)
        .map(|i| deployed(from + i * 3 * 86_400_000 + 3_600_000))
        .collect();
    let totals: Vec<_> = [Period::Day, Period::Week, Period::Month, Period::Quarter]
        .into_iter()
        .map(|p| report(&d, from, to, p, NOW).total)
        .collect();
    for total in &totals {
        assert_eq!(total.deployments, 26);
        assert_eq!(total.days, 90.0);
        assert_eq!(total.bands.deployment_frequency, Some(Band::High));
        assert_eq!(total.measured_from, "2026-09-03T00:00:00Z");
        assert_eq!(total.measured_until, "2026-12-02T00:00:00Z");
    }
    // The first quarter is cut by the window: its deployments are those from 3 September
    // on, divided by the 28 days from 3 September to 1 October.
    let q = report(&d, from, to, Period::Quarter, NOW);
    assert_eq!(q.periods[0].start, "2026-07-01");
    assert_eq!(q.periods[0].days, 28.0);
    assert_eq!(q.periods[0].deployments, 10);
    assert_eq!(q.periods[0].measured_from, "2026-09-03T00:00:00Z");
}

#[test]
fn the_period_under_way_is_measured_up_to_now() {
    // Monday and Tuesday of a week read on Wednesday at noon: two deployments in 2.5 days
    // are high, not "two in seven days".
    let monday = t("2026-11-30T00:00:00Z");
    let d = vec![deployed(monday + 3_600_000), deployed(monday + 86_400_000)];
    let now = t("2026-12-02T12:00:00Z");
    let r = report(&d, monday, now + 86_400_000, Period::Week, now);
    assert_eq!(r.periods.len(), 1);
    assert_eq!(r.periods[0].days, 2.5);
    assert_eq!(r.periods[0].measured_until, "2026-12-02T12:00:00Z");
    assert_eq!(r.total.days, 2.5);
    assert_eq!(r.periods[0].bands.deployment_frequency, Some(Band::High));
    // A period entirely in the future has no days and no band.
    let ahead = report(&d, monday, t("2026-12-15T00:00:00Z"), Period::Week, now);
    assert_eq!(ahead.periods.len(), 3);
    assert_eq!(ahead.periods[2].days, 0.0);
    assert_eq!(ahead.periods[2].bands.deployment_frequency, None);
}

#[test]
fn one_deployment_in_any_calendar_month_is_monthly() {
    for (month, next) in [
        ("2026-01-01", "2026-02-01"),
        ("2026-02-01", "2026-03-01"),
        ("2026-04-01", "2026-05-01"),
        ("2026-12-01", "2027-01-01"),
    ] {
        let (from, to) = (
            t(&format!("{month}T00:00:00Z")),
            t(&format!("{next}T00:00:00Z")),
        );
        let r = report(&[deployed(from + 1)], from, to, Period::Month, NOW);
        assert_eq!(
            r.periods[0].bands.deployment_frequency,
            Some(Band::Medium),
            "one deployment in the month of {month}"
        );
    }
    let (from, to) = (t("2026-01-01T00:00:00Z"), t("2026-03-01T00:00:00Z"));
    let r = report(&[deployed(from + 1)], from, to, Period::Month, NOW);
    assert_eq!(
        r.total.bands.deployment_frequency,
        Some(Band::Low),
        "1 in 59 days"
    );
    assert_eq!(
        r.periods[1].bands.deployment_frequency,
        Some(Band::Low),
        "none in February"
    );
}

#[test]
fn rework_is_a_deployment_made_while_an_earlier_one_is_failed() {
    let mut deploys = scenario();
    // Another application's failure is not this one's rework.
    let mut other = deployed(t("2026-11-05T11:00:00Z"));
    other.scope = "ledger\nproduction".into();
    deploys.push(other);
    andon_metrics::mark_rework(&mut deploys);
    let flags: Vec<bool> = deploys.iter().map(|d| d.rework).collect();
    // 3 November's failure was restored before 5 November's deployment; 5 November's was
    // never restored, so 17 November's deployment is a fix forward.
    assert_eq!(flags, [false, false, false, true, false]);
    let r = report(
        &deploys,
        t("2026-11-02T00:00:00Z"),
        t("2026-11-23T00:00:00Z"),
        Period::Week,
        NOW,
    );
    assert_eq!(r.total.rework_deployments, 1);
    assert_eq!(r.total.deployment_rework_rate, Some(0.2));
    assert_eq!(r.periods[2].rework_deployments, 1);
    assert_eq!(r.periods[2].deployment_rework_rate, Some(1.0));
    assert_eq!(r.periods[0].deployment_rework_rate, Some(0.0));
    // DORA's 2024 name for time to restore: the same figure and band.
    assert_eq!(
        r.total.failed_deployment_recovery_time_median_minutes,
        Some(30.0)
    );
    assert_eq!(
        r.total.bands.failed_deployment_recovery_time,
        r.total.bands.time_to_restore
    );
    // A rollback: made at the moment the failed deployment is restored.
    let mut failed = deployed(t("2026-11-20T10:00:00Z"));
    failed.failed_at = Some(t("2026-11-20T11:00:00Z"));
    failed.restored_at = Some(t("2026-11-20T11:05:00Z"));
    let rollback = deployed(t("2026-11-20T11:05:00Z"));
    let after = deployed(t("2026-11-20T12:00:00Z"));
    let mut three = vec![failed, rollback, after];
    andon_metrics::mark_rework(&mut three);
    let flags: Vec<bool> = three.iter().map(|d| d.rework).collect();
    assert_eq!(flags, [false, true, false]);
}
