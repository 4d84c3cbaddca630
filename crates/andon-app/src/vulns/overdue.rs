//! Items past their deadline: one `vulnerability_sla_overdue` alert each, raised once.

use crate::alerts::NewAlert;
use crate::input::rfc3339;
use crate::{App, AppError};

/// Raises an alert for every open item past its deadline that has none yet; answers how
/// many were raised.
pub async fn raise(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let mut new = Vec::new();
    for item in app.store().overdue_vuln_items(now).await? {
        let subject = format!("vuln-item:{}", item.id);
        if app
            .store()
            .alert_about("vulnerability_sla_overdue", &subject)
            .await?
            .is_some()
        {
            continue;
        }
        let late_hours = (now - item.due_at) / 3_600_000;
        new.push(NewAlert {
            kind: "vulnerability_sla_overdue".into(),
            severity: if item.priority == "P1" {
                "high"
            } else {
                "medium"
            }
            .into(),
            application: Some(item.application.clone()),
            environment: None,
            subject,
            message: format!(
                "{} ({} {}) in {} (team {}) was due {} and is {} ({} h late)",
                item.vulnerability,
                item.priority,
                item.severity,
                item.application,
                item.team,
                rfc3339(Some(item.due_at)).unwrap_or_default(),
                item.state.replace('_', " "),
                late_hours
            ),
            links: vec![
                format!("/v1/vulnerabilities/items/{}", item.id),
                format!("/v1/vulnerabilities/impact?id={}", item.vulnerability),
            ],
            suspect: None,
        });
    }
    Ok(crate::alerts::raise_all(app, new).await?.len())
}
