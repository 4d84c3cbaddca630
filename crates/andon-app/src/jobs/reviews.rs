//! Emergency changes whose review is overdue: one alert each.

use andon_domain::EntryKind;
use andon_domain::change::Alert;
use andon_store::{ChangeEffect, Effect};

use crate::input::{random_id, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{App, AppError};

/// Raises an alert for every emergency change whose review is overdue (once each).
pub async fn raise_overdue(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let overdue = app.store().overdue_reviews(now).await?;
    for c in &overdue {
        let alert = Alert {
            id: random_id("A")?,
            ledger_index: 0,
            kind: "emergency_review_overdue".into(),
            severity: "high".into(),
            application: Some(c.application.clone()),
            environment: Some(c.environment.clone()),
            subject: c.id.clone(),
            message: format!(
                "the review of emergency change {} ({}) was due at {}",
                c.id,
                c.emergency_reason.as_deref().unwrap_or(""),
                rfc3339(c.review_due_at).unwrap_or_default()
            ),
            created_at: 0,
            links: vec![
                format!("/v1/changes/{}", c.id),
                format!("/v1/changes/{}/rfc.md", c.id),
            ],
            ..Default::default()
        };
        app.append(Fact::admin(
            EntryKind::AlertRaised,
            "andon",
            serde_json::to_value(&alert).map_err(|e| AppError::unavailable(e.to_string()))?,
            Effect::Change(ChangeEffect::Alert(alert)),
        ))
        .await?;
    }
    Ok(overdue.len())
}
