//! Alerts: their rows, raised and updated in the ledger batch's transaction, and the reads
//! that fold each alert's updates into where it stands (docs/changes.md).

use andon_domain::change::{Alert, AlertUpdate};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op, corrupt};
use crate::read::get;
use crate::{Store, StoreError};

/// Raises an alert in the entry at `idx`, accepted at `at`.
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    at: i64,
    a: &Alert,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alerts (id, ledger_idx, kind, severity, application, environment, subject, message, created_at, links) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(a.id.clone())
    .bind(idx)
    .bind(a.kind.clone())
    .bind(a.severity.clone())
    .bind(a.application.clone())
    .bind(a.environment.clone())
    .bind(a.subject.clone())
    .bind(a.message.clone())
    .bind(at)
    .bind(serde_json::to_string(&a.links).unwrap_or_else(|_| "[]".into()))
    .execute(&mut **tx)
    .await
    .op("raising an alert")?;
    Ok(())
}

/// Records something that happened to an alert (acknowledged, resolved, seen again) in the
/// entry at `idx`.
pub(crate) async fn insert_update(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    u: &AlertUpdate,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alert_updates (ledger_idx, alert_id, action, actor, at, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(idx)
    .bind(u.alert.clone())
    .bind(u.action.clone())
    .bind(u.actor.clone())
    .bind(u.at)
    .bind(u.note.clone())
    .execute(&mut **tx)
    .await
    .op("updating an alert")?;
    Ok(())
}

const ALERT_COLUMNS: &str =
    "id, ledger_idx, kind, severity, application, environment, subject, message, created_at, links";

fn alert_row(r: &AnyRow) -> Result<Alert, StoreError> {
    Ok(Alert {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        kind: get(r, "kind")?,
        severity: get(r, "severity")?,
        application: get(r, "application")?,
        environment: get(r, "environment")?,
        subject: get(r, "subject")?,
        message: get(r, "message")?,
        created_at: get(r, "created_at")?,
        links: serde_json::from_str(&get::<String>(r, "links")?)
            .map_err(|e| corrupt("alerts.links", e))?,
        state: "open".into(),
        ..Default::default()
    })
}

impl Store {
    /// Alerts, newest first, with what happened to them.
    pub async fn alerts(&self, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let alerts = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 10_000)
        )))
        .fetch_all(&self.pool)
        .await
        .op("listing alerts")?
        .iter()
        .map(alert_row)
        .collect::<Result<Vec<_>, _>>()?;
        self.with_updates(alerts).await
    }

    /// Alerts not resolved, counted by severity.
    pub async fn open_alert_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        sqlx::query(
            "SELECT severity, COUNT(*) AS n FROM alerts a WHERE NOT EXISTS \
             (SELECT 1 FROM alert_updates u WHERE u.alert_id = a.id AND u.action = 'resolved') \
             GROUP BY severity ORDER BY severity",
        )
        .fetch_all(&self.pool)
        .await
        .op("counting open alerts")?
        .iter()
        .map(|r| Ok((get(r, "severity")?, get::<i64>(r, "n")?.max(0) as u64)))
        .collect()
    }

    /// Open alerts (not resolved) counted by kind and severity.
    pub async fn open_alerts_by_kind(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        sqlx::query(
            "SELECT kind, severity, COUNT(*) AS n FROM alerts a WHERE NOT EXISTS \
             (SELECT 1 FROM alert_updates u WHERE u.alert_id = a.id AND u.action = 'resolved') \
             GROUP BY kind, severity ORDER BY kind, severity",
        )
        .fetch_all(&self.pool)
        .await
        .op("counting open alerts")?
        .iter()
        .map(|r| {
            Ok((
                get(r, "kind")?,
                get(r, "severity")?,
                get::<i64>(r, "n")?.max(0) as u64,
            ))
        })
        .collect()
    }

    /// The latest alert of a kind about a subject.
    pub async fn alert_about(
        &self,
        kind: &str,
        subject: &str,
    ) -> Result<Option<Alert>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM alerts WHERE kind = $1 AND subject = $2 ORDER BY ledger_idx DESC LIMIT 1",
        )
        .bind(kind.to_owned())
        .bind(subject.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("finding an alert")?;
        match id {
            Some(id) => self.alert(&id).await,
            None => Ok(None),
        }
    }

    /// One alert, with what happened to it.
    pub async fn alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let found = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading an alert")?
        .as_ref()
        .map(alert_row)
        .transpose()?;
        Ok(match found {
            Some(a) => self.with_updates(vec![a]).await?.pop(),
            None => None,
        })
    }

    /// Folds each alert's updates into its state, acknowledgement, resolution and last
    /// sighting.
    async fn with_updates(&self, mut alerts: Vec<Alert>) -> Result<Vec<Alert>, StoreError> {
        for chunk in alerts.chunks_mut(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT alert_id, action, actor, at FROM alert_updates WHERE alert_id IN ({}) ORDER BY ledger_idx",
                marks.join(", ")
            )));
            for a in chunk.iter() {
                q = q.bind(a.id.clone());
            }
            let rows = q.fetch_all(&self.pool).await.op("reading alert updates")?;
            for r in &rows {
                let id: String = get(r, "alert_id")?;
                let Some(a) = chunk.iter_mut().find(|a| a.id == id) else {
                    continue;
                };
                let (action, actor, at): (String, String, i64) =
                    (get(r, "action")?, get(r, "actor")?, get(r, "at")?);
                match action.as_str() {
                    "acknowledged" => {
                        a.acknowledged_by = Some(actor);
                        a.acknowledged_at = Some(at);
                        if a.resolved_at.is_none() {
                            a.state = "acknowledged".into();
                        }
                    }
                    "resolved" => {
                        a.resolved_by = Some(actor);
                        a.resolved_at = Some(at);
                        a.state = "resolved".into();
                    }
                    _ => a.last_seen_at = Some(at),
                }
            }
        }
        Ok(alerts)
    }
}
