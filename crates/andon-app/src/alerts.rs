//! Alerts (docs/alerts.md): one model for every source. Raised by the rules (one
//! [`raise`] for all of them), listed and filtered, acknowledged and resolved by people,
//! each step a ledger entry.

use andon_domain::change::{Alert, AlertUpdate};
use andon_domain::query::access::AlertsQuery;
use andon_domain::{EntryKind, Role};
use andon_store::{ChangeEffect, Effect};
use serde_json::json;

use crate::input::{check_text, random_id};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// An alert to raise, as its source describes it; [`raise`] gives it an id and a ledger
/// entry.
#[derive(Clone, Debug, Default)]
pub struct NewAlert {
    /// `gate_bypass`, `unauthorized_change`, `error_spike`, ...
    pub kind: String,
    /// `high`, `medium` or `low`.
    pub severity: String,
    /// The application concerned, if one is.
    pub application: Option<String>,
    /// The environment concerned, if one is.
    pub environment: Option<String>,
    /// What it is about (a deployment or change id, `environment:digest`, ...): the key a
    /// rule looks for before raising the same alert again.
    pub subject: String,
    /// What happened, in a sentence.
    pub message: String,
    /// Where the evidence is: API paths.
    pub links: Vec<String>,
    /// The deployment this alert marks suspect, and from when (Unix ms): the alert and the
    /// mark are one ledger entry.
    pub suspect: Option<(String, i64)>,
}

/// The ledger fact that raises `alert` (by `andon`), marking `suspect` if there is one.
fn raising(alert: &Alert, suspect: Option<(String, i64)>) -> Result<Fact, AppError> {
    let mut body = serde_json::to_value(alert).map_err(|e| AppError::unavailable(e.to_string()))?;
    let effect = match suspect {
        Some((deployment, at)) => {
            body["suspect"] = json!(deployment);
            ChangeEffect::Suspect {
                deployment,
                at,
                alert: alert.clone(),
            }
        }
        None => ChangeEffect::Alert(alert.clone()),
    };
    Ok(Fact::admin(
        EntryKind::AlertRaised,
        "andon",
        body,
        Effect::Change(effect),
    ))
}

/// Raises one alert: a fresh `A-` id and an `alert_raised` entry. Returns the alert as
/// recorded, with its ledger index.
pub async fn raise(app: &App, alert: NewAlert) -> Result<Alert, AppError> {
    let mut raised = raise_all(app, vec![alert]).await?;
    raised
        .pop()
        .ok_or_else(|| AppError::unavailable("the ledger sequencer gave no receipt"))
}

/// Raises several alerts in one hand-over to the sequencer (they can share a commit), in
/// order. Returns them as recorded, with their ledger indexes.
pub async fn raise_all(app: &App, new: Vec<NewAlert>) -> Result<Vec<Alert>, AppError> {
    let mut alerts = Vec::with_capacity(new.len());
    let mut facts = Vec::with_capacity(new.len());
    for n in new {
        let alert = Alert {
            id: random_id("A")?,
            ledger_index: 0,
            kind: n.kind,
            severity: n.severity,
            application: n.application,
            environment: n.environment,
            subject: n.subject,
            message: n.message,
            created_at: 0,
            links: n.links,
            ..Default::default()
        };
        facts.push(raising(&alert, n.suspect)?);
        alerts.push(alert);
    }
    let receipts = app.append_all(facts).await?;
    for (a, r) in alerts.iter_mut().zip(&receipts) {
        a.ledger_index = r.ledger_index;
    }
    Ok(alerts)
}

/// The alert `id`, or `not_found`.
pub async fn find(app: &App, id: &str) -> Result<Alert, AppError> {
    app.store()
        .alert(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no alert {id}")))
}

/// Appends an update to an alert (also used by the rules: `seen`).
pub async fn update(
    app: &App,
    who: impl Into<crate::ledger::fact::Who>,
    alert: &str,
    action: &str,
    note: Option<String>,
) -> Result<(), AppError> {
    let who = who.into();
    let u = AlertUpdate {
        alert: alert.to_owned(),
        action: action.to_owned(),
        actor: who.name().to_owned(),
        at: app.now(),
        note,
    };
    app.append(Fact::admin(
        EntryKind::AlertUpdated,
        who,
        json!(u),
        Effect::Change(ChangeEffect::AlertUpdate(u.clone())),
    ))
    .await?;
    Ok(())
}

/// The states an alert can be in.
const STATES: [&str; 3] = ["open", "acknowledged", "resolved"];

/// Whether `a` is one the query asks for (its limit aside).
fn wanted(q: &AlertsQuery, a: &Alert) -> bool {
    q.state.as_ref().is_none_or(|s| &a.state == s)
        && q.kind.as_ref().is_none_or(|k| &a.kind == k)
        && q.severity.as_ref().is_none_or(|k| &a.severity == k)
        && q.application
            .as_ref()
            .is_none_or(|x| a.application.as_ref() == Some(x))
}

/// `GET /v1/alerts`: alerts, newest first, filtered by state, kind, application and
/// severity.
pub async fn list(app: &App, _actor: &Actor, q: AlertsQuery) -> Result<Vec<Alert>, AppError> {
    if let Some(s) = &q.state
        && !STATES.contains(&s.as_str())
    {
        return Err(AppError::bad_request(
            "invalid_state",
            "state is open, acknowledged or resolved",
        ));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
    let filtered =
        q.state.is_some() || q.kind.is_some() || q.application.is_some() || q.severity.is_some();
    let all = app
        .store()
        .alerts(if filtered { 10_000 } else { limit as u32 })
        .await?;
    Ok(all
        .into_iter()
        .filter(|a| wanted(&q, a))
        .take(limit)
        .collect())
}

/// `GET /v1/alerts/{id}`.
pub async fn show(app: &App, _actor: &Actor, id: &str) -> Result<Alert, AppError> {
    find(app, id).await
}

/// Refuses a caller who may not acknowledge or resolve alerts (admins and approvers may).
/// The HTTP layer asks before it reads the body, so such a caller hears 403 whatever it
/// sent.
pub fn may_update(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin, Role::Approver])
}

/// Whether an alert in `state` may take `action` (`acknowledged` or `resolved`): a
/// resolved alert is done, an acknowledged one is only resolved.
fn may_become(state: &str, action: &str) -> bool {
    !(state == "resolved" || (action == "acknowledged" && state == "acknowledged"))
}

/// Records `action` on alert `id` with an optional note; returns the alert as it is now.
async fn act(
    app: &App,
    actor: &Actor,
    id: &str,
    action: &str,
    note: Option<String>,
) -> Result<Alert, AppError> {
    may_update(actor)?;
    if let Some(n) = &note {
        check_text(n, "a note")?;
    }
    let a = find(app, id).await?;
    if !may_become(&a.state, action) {
        return Err(AppError::conflict(format!("{id} is already {}", a.state)));
    }
    update(app, actor, id, action, note).await?;
    find(app, id).await
}

/// `POST /v1/alerts/{id}/acknowledge`: someone is on it.
pub async fn acknowledge(
    app: &App,
    actor: &Actor,
    id: &str,
    note: Option<String>,
) -> Result<Alert, AppError> {
    act(app, actor, id, "acknowledged", note).await
}

/// `POST /v1/alerts/{id}/resolve`: dealt with.
pub async fn resolve(
    app: &App,
    actor: &Actor,
    id: &str,
    note: Option<String>,
) -> Result<Alert, AppError> {
    act(app, actor, id, "resolved", note).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> AlertsQuery {
        AlertsQuery {
            state: None,
            kind: None,
            application: None,
            severity: None,
            limit: None,
            format: None,
        }
    }

    #[test]
    fn an_alert_moves_forward_only() {
        assert!(may_become("open", "acknowledged"));
        assert!(may_become("open", "resolved"));
        assert!(may_become("acknowledged", "resolved"));
        assert!(!may_become("acknowledged", "acknowledged"));
        assert!(!may_become("resolved", "resolved"));
        assert!(!may_become("resolved", "acknowledged"));
    }

    #[test]
    fn every_filter_given_must_match() {
        let a = Alert {
            kind: "gate_bypass".into(),
            severity: "high".into(),
            application: Some("shop".into()),
            state: "open".into(),
            ..Default::default()
        };
        assert!(wanted(&query(), &a));
        let shop_high = AlertsQuery {
            application: Some("shop".into()),
            severity: Some("high".into()),
            ..query()
        };
        assert!(wanted(&shop_high, &a));
        let other_app = AlertsQuery {
            application: Some("billing".into()),
            ..query()
        };
        assert!(!wanted(&other_app, &a));
        let resolved = AlertsQuery {
            state: Some("resolved".into()),
            ..query()
        };
        assert!(!wanted(&resolved, &a));
        let no_app = Alert {
            application: None,
            ..a
        };
        assert!(!wanted(&shop_high, &no_app));
    }
}
