//! Alerts: one model for every source, and their updates.

use andon_domain::EntryKind;
use andon_domain::change::{Alert, AlertUpdate};
use andon_store::{ChangeEffect, Effect};
use serde_json::json;

use crate::ledger::sequencer::Fact;
use crate::{App, AppError};

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
    actor: &str,
    alert: &str,
    action: &str,
    note: Option<String>,
) -> Result<(), AppError> {
    let u = AlertUpdate {
        alert: alert.to_owned(),
        action: action.to_owned(),
        actor: actor.to_owned(),
        at: app.now(),
        note,
    };
    app.append(Fact::admin(
        EntryKind::AlertUpdated,
        actor,
        json!(u),
        Effect::Change(ChangeEffect::AlertUpdate(u.clone())),
    ))
    .await?;
    Ok(())
}
