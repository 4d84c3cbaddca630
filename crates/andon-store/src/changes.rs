//! Change records and their approvals: their rows, written in the ledger batch's
//! transaction, and the reads over them (docs/changes.md). A change-management effect of an
//! entry may also record a deployment or raise an alert: `apply` hands those to
//! `deployments` and `alerts`.

use andon_domain::change::{
    Alert, AlertUpdate, Approval, Change, ChangeStatus, Deployment, DeploymentEvent,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op, corrupt};
use crate::read::get;
use crate::{Store, StoreError, alerts, deployments};

/// A change-management effect of one ledger entry, applied in index order.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeEffect {
    /// A change record opened.
    Change(Box<Change>),
    /// A change record rewritten: reclassified, its fields completed, approved by the gate
    /// that allowed it (a standard change), or superseded. Its approvals are kept apart.
    Update(Box<Change>),
    /// A change approved or rejected.
    Approval(Approval),
    /// A deployment recorded, with the change record it opened (a production deployment
    /// nothing gated) and the alert it raised (a gate bypass), in the same entry.
    Deployment {
        /// The deployment.
        deployment: Box<Deployment>,
        /// A change record opened by the deployment itself.
        opened: Option<Box<Change>>,
        /// An alert raised by it.
        alert: Option<Alert>,
        /// The commits it brought to production first, with their author times (Unix ms).
        commits: Vec<(String, Option<i64>)>,
        /// The deployment it rolls back (inferred: it redeploys an earlier artifact), which
        /// is marked rolled back and restored at this deployment's time.
        rolls_back: Option<String>,
    },
    /// A deployment's state changed.
    DeploymentEvent(DeploymentEvent),
    /// An alert raised.
    Alert(Alert),
    /// Something happened to an alert (acknowledged, resolved, seen again).
    AlertUpdate(AlertUpdate),
    /// A deployment made suspect by telemetry, with the alert saying why.
    Suspect {
        /// The deployment.
        deployment: String,
        /// When the spike began (Unix ms).
        at: i64,
        /// The alert.
        alert: Alert,
    },
}

/// Applies one effect of the entry at `idx`, accepted at `at`.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    at: i64,
    effect: &ChangeEffect,
) -> Result<(), StoreError> {
    match effect {
        ChangeEffect::Change(c) => insert_change(tx, idx, at, c).await,
        ChangeEffect::Update(c) => update_change(tx, idx, c).await,
        ChangeEffect::Approval(a) => approve(tx, idx, at, a).await,
        ChangeEffect::Deployment {
            deployment,
            opened,
            alert,
            commits,
            rolls_back,
        } => {
            if let Some(c) = opened {
                insert_change(tx, idx, at, c).await?;
            }
            deployments::insert(tx, idx, deployment, commits, rolls_back.as_deref()).await?;
            if let Some(a) = alert {
                alerts::insert(tx, idx, at, a).await?;
            }
            Ok(())
        }
        ChangeEffect::DeploymentEvent(e) => deployments::deployment_event(tx, idx, e).await,
        ChangeEffect::Alert(a) => alerts::insert(tx, idx, at, a).await,
        ChangeEffect::AlertUpdate(u) => alerts::insert_update(tx, idx, u).await,
        ChangeEffect::Suspect {
            deployment,
            at: since,
            alert,
        } => {
            alerts::insert(tx, idx, at, alert).await?;
            deployments::mark_suspect(tx, deployment, *since).await
        }
    }
}

async fn insert_change(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    at: i64,
    c: &Change,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO changes (id, ledger_idx, application, environment, artifact_name, artifact_digest, change_type, class, status, requested_by, approvals_required, approver_group, emergency_reason, review_due_at, reviewed_at, detail, created_at, updated_idx, planned_start, planned_end) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15, $16, $17, $18, $19)",
    )
    .bind(c.id.clone())
    .bind(idx)
    .bind(c.application.clone())
    .bind(c.environment.clone())
    .bind(c.artifact_name.clone())
    .bind(c.artifact_digest.clone())
    .bind(c.change_type.clone())
    .bind(c.class.as_str())
    .bind(c.status.as_str())
    .bind(c.requested_by.clone())
    .bind(i64::from(c.classification.approvals))
    .bind(c.classification.approver_group.clone())
    .bind(c.emergency_reason.clone())
    .bind(c.review_due_at)
    .bind(detail(c))
    .bind(at)
    .bind(idx)
    .bind(planned(c.fields.planned_start.as_deref()))
    .bind(planned(c.fields.planned_end.as_deref()))
    .execute(&mut **tx)
    .await
    .op("opening a change")?;
    Ok(())
}

async fn update_change(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    c: &Change,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE changes SET change_type = $2, class = $3, status = $4, approvals_required = $5, approver_group = $6, emergency_reason = $7, review_due_at = $8, detail = $9, planned_start = $10, planned_end = $11, updated_idx = $12 WHERE id = $1",
    )
    .bind(c.id.clone())
    .bind(c.change_type.clone())
    .bind(c.class.as_str())
    .bind(c.status.as_str())
    .bind(i64::from(c.classification.approvals))
    .bind(c.classification.approver_group.clone())
    .bind(c.emergency_reason.clone())
    .bind(c.review_due_at)
    .bind(detail(c))
    .bind(planned(c.fields.planned_start.as_deref()))
    .bind(planned(c.fields.planned_end.as_deref()))
    .bind(idx)
    .execute(&mut **tx)
    .await
    .op("updating a change")?;
    Ok(())
}

/// The change's `detail` column: its classification and the fields the pipeline filled.
fn detail(c: &Change) -> String {
    serde_json::json!({"classification": c.classification, "fields": c.fields}).to_string()
}

/// A planned time as Unix ms (the server checked it is RFC 3339).
fn planned(t: Option<&str>) -> Option<i64> {
    t.and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_millisecond())
}

/// Records an approval or rejection, and moves the change: a rejection ends a pending
/// change; enough distinct approvers approve it; the first approval of an emergency change
/// is its review.
async fn approve(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    at: i64,
    a: &Approval,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO change_approvals (ledger_idx, change_id, approver, verdict, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(idx)
    .bind(a.change.clone())
    .bind(a.approver.clone())
    .bind(if a.approve { "approve" } else { "reject" })
    .bind(a.comment.clone())
    .bind(at)
    .execute(&mut **tx)
    .await
    .op("recording an approval")?;
    let change = a.change.clone();
    if a.approve {
        sqlx::query(
            "UPDATE changes SET status = 'approved', updated_idx = $2 WHERE id = $1 AND status = 'pending' \
             AND approvals_required <= (SELECT COUNT(DISTINCT approver) FROM change_approvals WHERE change_id = $1 AND verdict = 'approve')",
        )
        .bind(change.clone())
        .bind(idx)
        .execute(&mut **tx)
        .await
        .op("approving a change")?;
        sqlx::query(
            "UPDATE changes SET reviewed_at = $3, updated_idx = $2 WHERE id = $1 AND class = 'emergency' AND reviewed_at IS NULL",
        )
        .bind(change)
        .bind(idx)
        .bind(at)
        .execute(&mut **tx)
        .await
        .op("reviewing an emergency change")?;
    } else {
        sqlx::query(
            "UPDATE changes SET status = 'rejected', updated_idx = $2 WHERE id = $1 AND status IN ('pending', 'approved')",
        )
        .bind(change)
        .bind(idx)
        .execute(&mut **tx)
        .await
        .op("rejecting a change")?;
    }
    Ok(())
}

const CHANGE_SELECT: &str = "SELECT id, ledger_idx, application, environment, artifact_name, artifact_digest, change_type, class, status, requested_by, emergency_reason, review_due_at, reviewed_at, detail, created_at FROM changes";

fn change_row(r: &AnyRow) -> Result<Change, StoreError> {
    let detail: String = get(r, "detail")?;
    let detail: serde_json::Value =
        serde_json::from_str(&detail).map_err(|e| corrupt("changes.detail", e))?;
    let parse = |k: &str| -> Result<serde_json::Value, StoreError> {
        Ok(detail.get(k).cloned().unwrap_or_default())
    };
    let class: String = get(r, "class")?;
    let status: String = get(r, "status")?;
    Ok(Change {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        application: get(r, "application")?,
        environment: get(r, "environment")?,
        artifact_name: get(r, "artifact_name")?,
        artifact_digest: get(r, "artifact_digest")?,
        change_type: get(r, "change_type")?,
        class: serde_json::from_value(serde_json::Value::String(class.clone()))
            .map_err(|_| corrupt("changes.class", class))?,
        status: ChangeStatus::parse(&status).ok_or_else(|| corrupt("changes.status", &status))?,
        requested_by: get(r, "requested_by")?,
        emergency_reason: get(r, "emergency_reason")?,
        review_due_at: get(r, "review_due_at")?,
        reviewed_at: get(r, "reviewed_at")?,
        classification: serde_json::from_value(parse("classification")?)
            .map_err(|e| corrupt("changes.detail.classification", e))?,
        fields: serde_json::from_value(parse("fields")?)
            .map_err(|e| corrupt("changes.detail.fields", e))?,
        created_at: get(r, "created_at")?,
        approvals: Vec::new(),
    })
}

impl Store {
    /// One change with its approvals.
    pub async fn change(&self, id: &str) -> Result<Option<Change>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CHANGE_SELECT} WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading a change")?;
        let Some(row) = row else { return Ok(None) };
        let mut c = change_row(&row)?;
        c.approvals = self.approvals(&c.id).await?;
        Ok(Some(c))
    }

    async fn approvals(&self, change: &str) -> Result<Vec<Approval>, StoreError> {
        sqlx::query(
            "SELECT ledger_idx, change_id, approver, verdict, comment, created_at FROM change_approvals WHERE change_id = $1 ORDER BY ledger_idx",
        )
        .bind(change.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading approvals")?
        .iter()
        .map(approval_row)
        .collect()
    }

    /// The approvals of several changes in one query, by change, each in order.
    async fn approvals_of(
        &self,
        changes: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<Approval>>, StoreError> {
        let mut out: std::collections::HashMap<String, Vec<Approval>> = Default::default();
        for chunk in changes.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT ledger_idx, change_id, approver, verdict, comment, created_at FROM change_approvals WHERE change_id IN ({}) ORDER BY ledger_idx",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .op("reading approvals")?
                .iter()
            {
                let a = approval_row(r)?;
                out.entry(a.change.clone()).or_default().push(a);
            }
        }
        Ok(out)
    }

    /// The latest change for an artifact in an environment that has not deployed, been
    /// bypassed or superseded (a rejected one is found: it stays rejected).
    pub async fn open_change(
        &self,
        application: &str,
        environment: &str,
        artifact_digest: &str,
    ) -> Result<Option<Change>, StoreError> {
        // The row itself, not its id and then the row: one statement fewer on every
        // production gate.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CHANGE_SELECT} WHERE artifact_digest = $1 AND environment = $2 AND application = $3 AND status IN ('pending', 'approved', 'rejected') ORDER BY ledger_idx DESC LIMIT 1"
        )))
        .bind(artifact_digest.to_owned())
        .bind(environment.to_owned())
        .bind(application.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("finding an open change")?;
        let Some(row) = row else { return Ok(None) };
        let mut c = change_row(&row)?;
        c.approvals = self.approvals(&c.id).await?;
        Ok(Some(c))
    }

    /// Changes, newest first, optionally of one application.
    pub async fn changes(
        &self,
        application: Option<&str>,
        environment: Option<&str>,
        sort: crate::Sort,
        before_index: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Change>, StoreError> {
        let mut sql = String::from(CHANGE_SELECT);
        let mut clauses = Vec::new();
        if application.is_some() {
            clauses.push(format!("application = ${}", clauses.len() + 1));
        }
        if environment.is_some() {
            clauses.push(format!("environment = ${}", clauses.len() + 1));
        }
        if before_index.is_some() {
            clauses.push(sort.after("changes", &format!("${}", clauses.len() + 1)));
        }
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(&sort.order_by());
        sql.push_str(&format!(" LIMIT {}", limit.clamp(1, 1000)));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(a) = application {
            q = q.bind(a.to_owned());
        }
        if let Some(e) = environment {
            q = q.bind(e.to_owned());
        }
        if let Some(i) = before_index {
            q = q.bind(i as i64);
        }
        let rows = q.fetch_all(&self.pool).await.op("listing changes")?;
        let mut out = rows.iter().map(change_row).collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<String> = out.iter().map(|c| c.id.clone()).collect();
        let mut approvals = self.approvals_of(&ids).await?;
        for c in &mut out {
            c.approvals = approvals.remove(&c.id).unwrap_or_default();
        }
        Ok(out)
    }

    /// Emergency changes deployed or approved whose review is overdue at `now_ms` and not
    /// yet alerted.
    pub async fn overdue_reviews(&self, now_ms: i64) -> Result<Vec<Change>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CHANGE_SELECT} WHERE class = 'emergency' AND reviewed_at IS NULL AND review_due_at < $1 \
             AND id NOT IN (SELECT subject FROM alerts WHERE kind = 'emergency_review_overdue') ORDER BY ledger_idx"
        )))
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .op("finding overdue reviews")?;
        rows.iter().map(change_row).collect()
    }
}

fn approval_row(r: &AnyRow) -> Result<Approval, StoreError> {
    Ok(Approval {
        change: get(r, "change_id")?,
        approver: get(r, "approver")?,
        approve: get::<String>(r, "verdict")? == "approve",
        comment: get(r, "comment")?,
        at: get(r, "created_at")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        provenance: None,
    })
}
