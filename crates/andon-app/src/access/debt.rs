//! Production Access Debt (docs/access.md): grants and standing-account uses in
//! production, weighted and summed per period, with their trend; and the alert when an
//! application's debt rises week on week.

use andon_domain::query::access::DebtQuery;
use andon_metrics::Period;
use andon_metrics::debt::{Access, AccessKind, DebtReport, Trend};

use super::known_application;
use crate::alerts::{NewAlert, raise};
use crate::input::instant;
use crate::{Actor, App, AppError};

/// A day, in ms.
const DAY_MS: i64 = 86_400_000;

/// Raises `access_debt_rising` when an application's debt this week has passed last
/// week's (once per application and week). Called when debt grows: a production grant, a
/// production account use.
pub async fn check_debt(app: &App, application: &str) -> Result<(), AppError> {
    let now = app.now();
    // Two weeks back, so last week is read whole (the spans start on a Monday).
    let from = now - 14 * DAY_MS;
    let rows = app
        .store()
        .debt_rows(Some(application), None, from, now + 1)
        .await?;
    let accesses: Vec<Access> = rows.iter().map(access_of).collect();
    let report = andon_metrics::debt::debt(&accesses, from, now + 1, Period::Week, now);
    let (Some(Trend::Rising), [.., before, this]) = (report.trend, report.periods.as_slice())
    else {
        return Ok(());
    };
    let subject = format!("{application}:{}", this.start);
    if app
        .store()
        .alert_raised_since("access_debt_rising", &subject, 0)
        .await?
    {
        return Ok(());
    }
    raise(
        app,
        NewAlert {
            kind: "access_debt_rising".into(),
            severity: "medium".into(),
            application: Some(application.to_owned()),
            subject,
            message: format!(
                "Production Access Debt of {application} this week ({}) is {} points, up from {} last week ({} account uses, {} write and {} read grants so far)",
                this.start,
                this.points,
                before.points,
                this.account_uses,
                this.write_grants,
                this.read_grants
            ),
            links: vec![format!(
                "/v1/access/debt?application={application}&period=week"
            )],
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// One row of the debt as the metric counts it.
pub fn access_of(r: &andon_store::DebtRow) -> Access {
    Access {
        at: r.at,
        late: r.late,
        recorded_at: r.recorded_at,
        kind: match r.kind.as_str() {
            "use" => AccessKind::AccountUse,
            "write" => AccessKind::WriteGrant,
            _ => AccessKind::ReadGrant,
        },
    }
}

/// The period a query names (`week` when none), or `invalid_period`.
fn period(p: Option<&str>) -> Result<Period, AppError> {
    match p {
        None => Ok(Period::Week),
        Some(p) => Period::parse(p).ok_or_else(|| {
            AppError::bad_request(
                "invalid_period",
                format!("period is day, week, month or quarter, not {p:?}"),
            )
        }),
    }
}

/// The span a query names: until `until` (`now` when none), from `since` (90 days before
/// when none); since before until, at most 800 days apart (`invalid_range`).
fn span(since: Option<&str>, until: Option<&str>, now: i64) -> Result<(i64, i64), AppError> {
    let until = match until {
        Some(u) => instant(u)?,
        None => now,
    };
    let since = match since {
        Some(s) => instant(s)?,
        None => until - 90 * DAY_MS,
    };
    if since >= until || until - since > 800 * DAY_MS {
        return Err(AppError::bad_request(
            "invalid_range",
            "since is before until, at most 800 days apart",
        ));
    }
    Ok((since, until))
}

/// `GET /v1/access/debt`: Production Access Debt per period, with its trend, of an
/// application, a team, or (neither) the whole organisation.
pub async fn debt(app: &App, _actor: &Actor, q: DebtQuery) -> Result<DebtReport, AppError> {
    if q.application.is_some() && q.team.is_some() {
        return Err(AppError::bad_request(
            "invalid_scope",
            "ask for an application or a team, not both",
        ));
    }
    let store = app.store();
    if let Some(a) = &q.application {
        known_application(app, a).await?;
    }
    if let Some(t) = &q.team
        && !store.applications().await?.iter().any(|a| &a.team == t)
    {
        return Err(AppError::not_found(format!("no team {t}")));
    }
    let period = period(q.period.as_deref())?;
    let (since, until) = span(q.since.as_deref(), q.until.as_deref(), app.now())?;
    let rows = store
        .debt_rows(q.application.as_deref(), q.team.as_deref(), since, until)
        .await?;
    let accesses: Vec<Access> = rows.iter().map(access_of).collect();
    Ok(andon_metrics::debt::debt(
        &accesses,
        since,
        until,
        period,
        app.now(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_a_week_unless_named() {
        assert_eq!(period(None).unwrap(), Period::Week);
        assert_eq!(period(Some("quarter")).unwrap(), Period::Quarter);
        let e = period(Some("year")).unwrap_err();
        assert_eq!(e.code, "invalid_period");
        assert_eq!(
            e.message,
            "period is day, week, month or quarter, not \"year\""
        );
    }

    #[test]
    fn the_span_defaults_to_ninety_days_to_now_and_is_bounded() {
        let now = 1_000 * DAY_MS;
        assert_eq!(span(None, None, now).unwrap(), (now - 90 * DAY_MS, now));
        assert_eq!(
            span(Some("1970-01-02"), Some("1970-01-03"), now).unwrap(),
            (DAY_MS, 2 * DAY_MS)
        );
        assert_eq!(
            span(Some("1970-01-03"), Some("1970-01-03"), now)
                .unwrap_err()
                .code,
            "invalid_range"
        );
        assert!(span(Some("1970-01-01"), None, now).is_err());
        assert_eq!(
            span(Some("yesterday"), None, now).unwrap_err().code,
            "invalid_time"
        );
    }

    #[test]
    fn a_debt_row_counts_as_its_kind() {
        let row = |kind: &str| andon_store::DebtRow {
            at: 5,
            kind: kind.into(),
            late: kind == "use",
            recorded_at: 7,
        };
        assert_eq!(access_of(&row("use")).kind, AccessKind::AccountUse);
        assert_eq!(access_of(&row("write")).kind, AccessKind::WriteGrant);
        assert_eq!(access_of(&row("read")).kind, AccessKind::ReadGrant);
        assert_eq!(access_of(&row("use")).at, 5);
        assert!(access_of(&row("use")).late);
        assert_eq!(access_of(&row("read")).recorded_at, 7);
    }
}
