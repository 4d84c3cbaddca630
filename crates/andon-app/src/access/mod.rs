//! Break-glass access: requests, grants, standing accounts and the debt they add up to.

use andon_domain::EntryKind;
use andon_metrics::Period;
use andon_metrics::debt::{Access, AccessKind};
use andon_store::Effect;

use crate::input::random_id;
use crate::ledger::sequencer::Fact;

use crate::{App, AppError};

/// Raises `access_debt_rising` when an application's debt this week has passed last
/// week's (once per application and week). Called when debt grows: a production grant, a
/// production account use.
pub async fn check_debt(app: &App, application: &str) -> Result<(), AppError> {
    let now = app.now();
    // Two weeks back, so last week is read whole (the spans start on a Monday).
    let from = now - 14 * 86_400_000;
    let rows = app
        .store()
        .debt_rows(Some(application), None, from, now + 1)
        .await?;
    let accesses: Vec<Access> = rows.iter().map(access_of).collect();
    let report = andon_metrics::debt::debt(&accesses, from, now + 1, Period::Week);
    let (Some(andon_metrics::debt::Trend::Rising), [.., before, this]) =
        (report.trend, report.periods.as_slice())
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
    let alert = andon_domain::change::Alert {
        id: random_id("A")?,
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
    };
    app.append(Fact::admin(
        EntryKind::AlertRaised,
        "andon",
        serde_json::to_value(&alert).map_err(|e| AppError::unavailable(e.to_string()))?,
        Effect::Change(andon_store::ChangeEffect::Alert(alert)),
    ))
    .await?;
    Ok(())
}

/// One row of the debt as the metric counts it.
pub fn access_of(r: &andon_store::DebtRow) -> Access {
    Access {
        at: r.at,
        kind: match r.kind.as_str() {
            "use" => AccessKind::AccountUse,
            "write" => AccessKind::WriteGrant,
            _ => AccessKind::ReadGrant,
        },
    }
}
