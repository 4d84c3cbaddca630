//! DORA's four keys per period for an application or a team (docs/metrics.md), from the
//! recorded deployments, their failures and restorations, and their commits' times; each
//! period also counts the facts that arrived late and, once it has ended, those recorded
//! after it closed (docs/changes.md, "Time"). Beside them, the deployment rework rate and
//! the security lead time of the vulnerability items.

use andon_domain::query::metrics::MetricsQuery;
use andon_metrics::security::{DrillRun, Fix, Open};
use andon_metrics::{Arrival, Deploy, Period, Report};

use crate::input::instant;
use crate::{Actor, App, AppError};

/// The default range: the last 90 days.
const DEFAULT_DAYS: i64 = 90;
/// The longest range, in days (a year of daily periods and some margin).
const MAX_DAYS: i64 = 800;
/// One day in milliseconds.
const DAY_MS: i64 = 86_400_000;

/// `GET /v1/metrics?application=|team=&period=day|week|month|quarter&since=&until=`.
pub async fn metrics(app: &App, _actor: &Actor, q: MetricsQuery) -> Result<Report, AppError> {
    let now = app.now();
    let (period, since, until) = range(&q, now)?;
    let apps = app.store().applications().await?;
    let known = match (&q.application, &q.team) {
        (Some(a), _) => apps.iter().any(|x| &x.name == a),
        (_, Some(t)) => apps.iter().any(|x| &x.team == t),
        _ => false,
    };
    if !known {
        return Err(AppError::not_found(match (&q.application, &q.team) {
            (Some(a), _) => format!("no application {a}"),
            (_, t) => format!("no team {}", t.as_deref().unwrap_or("")),
        }));
    }
    let rows = app
        .store()
        .metric_deployments(q.application.as_deref(), q.team.as_deref(), since, until)
        .await?;
    let mut deploys: Vec<Deploy> = rows
        .into_iter()
        .map(|d| Deploy {
            scope: d.scope,
            rework: false,
            at: d.deployed_at,
            failed_at: d.failed_at,
            restored_at: d.restored_at,
            commit_times: d.commit_times,
            arrivals: d
                .arrivals
                .into_iter()
                .map(|(recorded_at, late)| Arrival { recorded_at, late })
                .collect(),
        })
        .collect();
    andon_metrics::mark_rework(&mut deploys);
    let mut report = andon_metrics::report(&deploys, since, until, period, now);
    let items = app
        .store()
        .metric_vuln_items(q.application.as_deref(), q.team.as_deref(), since, until)
        .await?;
    let (mut fixes, mut open) = (Vec::new(), Vec::new());
    for i in items {
        if i.is_open() {
            open.push(Open {
                detected_at: i.detected_at,
                priority: i.priority,
                due_at: i.due_at,
            });
        } else if let Some(deployed_at) = i.fix_deployed_at.or(i.closed_at) {
            fixes.push(Fix {
                detected_at: i.detected_at,
                built_at: i.fix_built_at,
                deployed_at,
                due_at: i.due_at,
            });
        }
    }
    let mut security = andon_metrics::security::security(&fixes, &open, since, until, period, now);
    let runs: Vec<DrillRun> = app
        .store()
        .metric_drills(q.application.as_deref(), q.team.as_deref(), since, until)
        .await?
        .into_iter()
        .map(|(finished_at, time_to_production_ms)| DrillRun {
            finished_at,
            time_to_production_ms,
        })
        .collect();
    security.drills = andon_metrics::security::drills(&runs, since, until);
    report.security = Some(security);
    Ok(report)
}

/// The query's scope, period and range checked: (period, since, until) in Unix ms, `until`
/// being `now` when the query does not say.
fn range(q: &MetricsQuery, now: i64) -> Result<(Period, i64, i64), AppError> {
    if q.application.is_some() == q.team.is_some() {
        return Err(AppError::bad_request(
            "invalid_scope",
            "name either an application or a team",
        ));
    }
    let period = match q.period.as_deref() {
        None => Period::Week,
        Some(p) => Period::parse(p).ok_or_else(|| {
            AppError::bad_request(
                "invalid_period",
                format!("period {p:?} is not one of day, week, month, quarter"),
            )
        })?,
    };
    let until = match &q.until {
        Some(u) => instant(u)?,
        None => now,
    };
    let since = match &q.since {
        Some(s) => instant(s)?,
        None => until - DEFAULT_DAYS * DAY_MS,
    };
    if since >= until || until - since > MAX_DAYS * DAY_MS {
        return Err(AppError::bad_request(
            "invalid_range",
            format!("since must be before until, at most {MAX_DAYS} days apart"),
        ));
    }
    Ok((period, since, until))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(application: Option<&str>, team: Option<&str>) -> MetricsQuery {
        MetricsQuery {
            application: application.map(Into::into),
            team: team.map(Into::into),
            period: None,
            since: None,
            until: None,
        }
    }

    fn code(r: Result<(Period, i64, i64), AppError>) -> &'static str {
        r.expect_err("refused").code
    }

    #[test]
    fn the_scope_is_an_application_or_a_team() {
        assert_eq!(code(range(&query(None, None), 0)), "invalid_scope");
        assert_eq!(
            code(range(&query(Some("shop"), Some("pay")), 0)),
            "invalid_scope"
        );
        assert!(range(&query(Some("shop"), None), DAY_MS * 365).is_ok());
        assert!(range(&query(None, Some("pay")), DAY_MS * 365).is_ok());
    }

    #[test]
    fn by_default_weeks_of_the_last_ninety_days() {
        let now = 1_000 * DAY_MS;
        let (period, since, until) = range(&query(Some("shop"), None), now).expect("ok");
        assert!(matches!(period, Period::Week));
        assert_eq!((since, until), (now - 90 * DAY_MS, now));
    }

    #[test]
    fn periods_and_ranges_are_checked() {
        let mut q = query(Some("shop"), None);
        q.period = Some("fortnight".into());
        assert_eq!(code(range(&q, DAY_MS)), "invalid_period");
        q.period = Some("day".into());
        q.since = Some("2024-01-02".into());
        q.until = Some("2024-01-01".into());
        assert_eq!(code(range(&q, DAY_MS)), "invalid_range");
        q.since = Some("2020-01-01".into());
        q.until = Some("2024-01-01".into());
        assert_eq!(code(range(&q, DAY_MS)), "invalid_range");
        q.since = Some("2023-12-01".into());
        q.until = Some("2024-01-01T00:00:00Z".into());
        let (_, since, until) = range(&q, DAY_MS).expect("a month of days");
        assert_eq!(until - since, 31 * DAY_MS);
    }
}
