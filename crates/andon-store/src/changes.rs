//! Deployments, change records, approvals and alerts: their index rows, written in the
//! ledger batch's transaction, and the reads over them (docs/changes.md).

use andon_domain::change::{
    Alert, AlertUpdate, Approval, Change, ChangeStatus, Deployment, DeploymentEvent,
    DeploymentState,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::Op;
use crate::read::get;
use crate::{Store, StoreError};

/// A change-management effect of one ledger entry, applied in index order.
#[derive(Clone, Debug)]
pub enum ChangeEffect {
    /// A change record opened.
    Change(Box<Change>),
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

fn corrupt(what: &str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        detail: detail.to_string(),
    }
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
            insert_deployment(tx, idx, deployment).await?;
            if let Some(old) = rolls_back {
                sqlx::query(
                    "UPDATE deployments SET state = 'rolled_back', failed_at = COALESCE(failed_at, $1), restored_at = COALESCE(restored_at, $1) WHERE id = $2",
                )
                .bind(deployment.deployed_at)
                .bind(old.clone())
                .execute(&mut **tx)
                .await
                .op("marking a deployment rolled back")?;
            }
            for (sha, time) in commits {
                sqlx::query(
                    "INSERT INTO deployment_commits (deployment_id, application, sha, committed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(deployment.id.clone())
                .bind(deployment.application.clone())
                .bind(sha.clone())
                .bind(*time)
                .execute(&mut **tx)
                .await
                .op("recording a deployment's commits")?;
            }
            if let Some(a) = alert {
                insert_alert(tx, idx, at, a).await?;
            }
            Ok(())
        }
        ChangeEffect::DeploymentEvent(e) => deployment_event(tx, idx, e).await,
        ChangeEffect::Alert(a) => insert_alert(tx, idx, at, a).await,
        ChangeEffect::AlertUpdate(u) => {
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
        ChangeEffect::Suspect {
            deployment,
            at: since,
            alert,
        } => {
            insert_alert(tx, idx, at, alert).await?;
            sqlx::query(
                "UPDATE deployments SET suspect_at = COALESCE(suspect_at, $1) WHERE id = $2",
            )
            .bind(*since)
            .bind(deployment.clone())
            .execute(&mut **tx)
            .await
            .op("marking a deployment suspect")?;
            Ok(())
        }
    }
}

async fn insert_change(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    at: i64,
    c: &Change,
) -> Result<(), StoreError> {
    let detail = serde_json::json!({
        "classification": c.classification, "fields": c.fields,
    });
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
    .bind(detail.to_string())
    .bind(at)
    .bind(idx)
    .bind(planned(c.fields.planned_start.as_deref()))
    .bind(planned(c.fields.planned_end.as_deref()))
    .execute(&mut **tx)
    .await
    .op("opening a change")?;
    Ok(())
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

async fn insert_deployment(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    d: &Deployment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployments (id, ledger_idx, application, environment, production, artifact_name, artifact_digest, decision_id, change_id, run, recorded_by, bypass, source_commit, deployed_at, state, failed_at, restored_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, NULL)",
    )
    .bind(d.id.clone())
    .bind(idx)
    .bind(d.application.clone())
    .bind(d.environment.clone())
    .bind(i64::from(d.production))
    .bind(d.artifact_name.clone())
    .bind(d.artifact_digest.clone())
    .bind(d.decision.clone())
    .bind(d.change.clone())
    .bind(d.run.clone())
    .bind(d.recorded_by.clone())
    .bind(i64::from(d.bypass))
    .bind(d.source_commit.clone())
    .bind(d.deployed_at)
    .bind(d.state.as_str())
    .execute(&mut **tx)
    .await
    .op("recording a deployment")?;
    if let Some(change) = &d.change {
        sqlx::query("UPDATE changes SET status = 'deployed', updated_idx = $1 WHERE id = $2")
            .bind(idx)
            .bind(change.clone())
            .execute(&mut **tx)
            .await
            .op("marking a change deployed")?;
    }
    Ok(())
}

async fn deployment_event(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    e: &DeploymentEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployment_events (ledger_idx, deployment_id, state, at, actor, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(idx)
    .bind(e.deployment.clone())
    .bind(e.state.as_str())
    .bind(e.at)
    .bind(e.actor.clone())
    .bind(e.note.clone())
    .execute(&mut **tx)
    .await
    .op("recording a deployment event")?;
    // The first failure and the restoration after it are what the delivery metrics read;
    // a failure after a restoration starts over.
    let sql = match e.state {
        DeploymentState::Failed | DeploymentState::RolledBack => {
            "UPDATE deployments SET state = $1, failed_at = CASE WHEN failed_at IS NULL OR restored_at IS NOT NULL THEN $2 ELSE failed_at END, restored_at = NULL WHERE id = $3"
        }
        DeploymentState::Restored => {
            "UPDATE deployments SET state = $1, restored_at = $2 WHERE id = $3"
        }
        DeploymentState::Deployed => return Ok(()),
    };
    sqlx::query(sql)
        .bind(e.state.as_str())
        .bind(e.at)
        .bind(e.deployment.clone())
        .execute(&mut **tx)
        .await
        .op("updating a deployment")?;
    Ok(())
}

async fn insert_alert(
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

/// A production deployment as the delivery metrics read it. Times are Unix ms.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDeployment {
    /// When it was deployed.
    pub deployed_at: i64,
    /// When it failed or was rolled back.
    pub failed_at: Option<i64>,
    /// When service was restored.
    pub restored_at: Option<i64>,
    /// Author times of the commits it brought to production first.
    pub commit_times: Vec<i64>,
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

const DEPLOYMENT_SELECT: &str = "SELECT id, ledger_idx, application, environment, production, artifact_name, artifact_digest, decision_id, change_id, run, recorded_by, bypass, source_commit, deployed_at, state, failed_at, restored_at, suspect_at FROM deployments";

fn deployment_row(r: &AnyRow) -> Result<Deployment, StoreError> {
    let state: String = get(r, "state")?;
    Ok(Deployment {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        application: get(r, "application")?,
        environment: get(r, "environment")?,
        production: get::<i64>(r, "production")? != 0,
        artifact_name: get(r, "artifact_name")?,
        artifact_digest: get(r, "artifact_digest")?,
        decision: get(r, "decision_id")?,
        change: get(r, "change_id")?,
        run: get(r, "run")?,
        recorded_by: get(r, "recorded_by")?,
        bypass: get::<i64>(r, "bypass")? != 0,
        source_commit: get(r, "source_commit")?,
        deployed_at: get(r, "deployed_at")?,
        state: DeploymentState::parse(&state)
            .ok_or_else(|| corrupt("deployments.state", &state))?,
        failed_at: get(r, "failed_at")?,
        restored_at: get(r, "restored_at")?,
        suspect_at: get(r, "suspect_at")?,
    })
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

    /// The latest change for an artifact in an environment that has not deployed yet.
    pub async fn open_change(
        &self,
        application: &str,
        environment: &str,
        artifact_digest: &str,
    ) -> Result<Option<Change>, StoreError> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM changes WHERE artifact_digest = $1 AND environment = $2 AND application = $3 AND status <> 'deployed' ORDER BY ledger_idx DESC LIMIT 1",
        )
        .bind(artifact_digest.to_owned())
        .bind(environment.to_owned())
        .bind(application.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("finding an open change")?;
        match id {
            Some(id) => self.change(&id).await,
            None => Ok(None),
        }
    }

    /// Changes, newest first, optionally of one application.
    pub async fn changes(
        &self,
        application: Option<&str>,
        environment: Option<&str>,
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
            clauses.push(format!("ledger_idx < ${}", clauses.len() + 1));
        }
        if !clauses.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&clauses.join(" AND "));
        }
        sql.push_str(&format!(
            " ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 1000)
        ));
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

    /// One deployment.
    pub async fn deployment(&self, id: &str) -> Result<Option<Deployment>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading a deployment")?
        .as_ref()
        .map(deployment_row)
        .transpose()
    }

    /// Deployments of an application (all environments when `environment` is `None`),
    /// newest first; `before_index` pages.
    pub async fn deployments(
        &self,
        application: Option<&str>,
        environment: Option<&str>,
        before_index: Option<u64>,
        limit: u32,
    ) -> Result<Vec<Deployment>, StoreError> {
        let mut sql = format!("{DEPLOYMENT_SELECT} WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if application.is_some() {
            sql.push_str(&format!(" AND application = {}", next()));
        }
        if environment.is_some() {
            sql.push_str(&format!(" AND environment = {}", next()));
        }
        if before_index.is_some() {
            sql.push_str(&format!(" AND ledger_idx < {}", next()));
        }
        sql.push_str(&format!(
            " ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 1000)
        ));
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
        q.fetch_all(&self.pool)
            .await
            .op("listing deployments")?
            .iter()
            .map(deployment_row)
            .collect()
    }

    /// Whether this artifact was deployed to this environment of the application before.
    pub async fn deployed_before(
        &self,
        application: &str,
        environment: &str,
        artifact_digest: &str,
    ) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deployments WHERE application = $1 AND environment = $2 AND artifact_digest = $3",
        )
        .bind(application.to_owned())
        .bind(environment.to_owned())
        .bind(artifact_digest.to_owned())
        .fetch_one(&self.pool)
        .await
        .op("looking for an earlier deployment")?;
        Ok(n > 0)
    }

    /// The latest production deployment of an application deployed at or before `at_ms`.
    pub async fn production_deployment_at(
        &self,
        application: &str,
        at_ms: i64,
    ) -> Result<Option<Deployment>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE application = $1 AND production = 1 AND deployed_at <= $2 ORDER BY deployed_at DESC, ledger_idx DESC LIMIT 1"
        )))
        .bind(application.to_owned())
        .bind(at_ms)
        .fetch_optional(&self.pool)
        .await
        .op("finding the deployment before an incident")?
        .as_ref()
        .map(deployment_row)
        .transpose()
    }

    /// The latest production deployment of an application before ledger index `before`.
    pub async fn last_production_deployment(
        &self,
        application: &str,
        before: u64,
    ) -> Result<Option<Deployment>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE application = $1 AND production = 1 AND ledger_idx < $2 ORDER BY ledger_idx DESC LIMIT 1"
        )))
        .bind(application.to_owned())
        .bind(before as i64)
        .fetch_optional(&self.pool)
        .await
        .op("finding the last production deployment")?
        .as_ref()
        .map(deployment_row)
        .transpose()
    }

    /// Production deployments of a change type since `since_ms` (for standard eligibility):
    /// (deployments, failures, restored, total minutes from failure to restoration).
    pub async fn change_type_history(
        &self,
        application: &str,
        change_type: &str,
        since_ms: i64,
    ) -> Result<(u64, u64, u64, f64), StoreError> {
        let rows = sqlx::query(
            "SELECT d.failed_at, d.restored_at FROM deployments d JOIN changes c ON c.id = d.change_id \
             WHERE d.application = $1 AND c.change_type = $2 AND d.production = 1 AND d.deployed_at >= $3",
        )
        .bind(application.to_owned())
        .bind(change_type.to_owned())
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .op("reading a change type's history")?;
        let (mut failures, mut restored, mut minutes) = (0, 0, 0.0);
        for r in &rows {
            let failed: Option<i64> = get(r, "failed_at")?;
            let back: Option<i64> = get(r, "restored_at")?;
            if let Some(f) = failed {
                failures += 1;
                if let Some(b) = back {
                    restored += 1;
                    minutes += (b - f).max(0) as f64 / 60_000.0;
                }
            }
        }
        Ok((rows.len() as u64, failures, restored, minutes))
    }

    /// Which of `shas` an earlier production deployment of the application brought.
    pub async fn deployed_commits(
        &self,
        application: &str,
        shas: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for chunk in shas.chunks(500) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(format!(
                "SELECT DISTINCT sha FROM deployment_commits WHERE application = $1 AND sha IN ({})",
                marks.join(", ")
            )))
            .bind(application.to_owned());
            for s in chunk {
                q = q.bind(s.clone());
            }
            out.extend(
                q.fetch_all(&self.pool)
                    .await
                    .op("reading deployed commits")?,
            );
        }
        Ok(out)
    }

    /// Production deployments of an application, or of a team's applications, deployed in
    /// `[from, to)`, with the author times of the commits each brought first: the input of
    /// the delivery metrics.
    pub async fn metric_deployments(
        &self,
        application: Option<&str>,
        team: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<MetricDeployment>, StoreError> {
        // Two narrow reads of integers rather than one join repeating each deployment's
        // columns and text id per commit: the rows cross sqlx's Any driver one value at a
        // time, and that is where a team's year of history spent its time.
        let scope = if application.is_some() {
            " AND d.application = $3"
        } else if team.is_some() {
            " AND d.application IN (SELECT name FROM applications WHERE team = $3)"
        } else {
            ""
        };
        let filter =
            format!("d.production = 1 AND d.deployed_at >= $1 AND d.deployed_at < $2{scope}");
        let bind = |sql: String| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
            if let Some(x) = application.or(team) {
                q = q.bind(x.to_owned());
            }
            q
        };
        let rows = bind(format!(
            "SELECT d.ledger_idx, d.deployed_at, d.failed_at, d.restored_at FROM deployments d \
             WHERE {filter} ORDER BY d.deployed_at, d.ledger_idx"
        ))
        .fetch_all(&self.pool)
        .await
        .op("reading deployments for metrics")?;
        let mut out = Vec::with_capacity(rows.len());
        let mut at = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            at.insert(get::<i64>(r, "ledger_idx")?, out.len());
            out.push(MetricDeployment {
                deployed_at: get(r, "deployed_at")?,
                failed_at: get(r, "failed_at")?,
                restored_at: get(r, "restored_at")?,
                commit_times: Vec::new(),
            });
        }
        let commits = bind(format!(
            "SELECT d.ledger_idx, c.committed_at FROM deployment_commits c \
             JOIN deployments d ON d.id = c.deployment_id \
             WHERE {filter} AND c.committed_at IS NOT NULL"
        ))
        .fetch_all(&self.pool)
        .await
        .op("reading deployment commits for metrics")?;
        for r in &commits {
            if let Some(&i) = at.get(&get::<i64>(r, "ledger_idx")?) {
                out[i].commit_times.push(get(r, "committed_at")?);
            }
        }
        Ok(out)
    }

    /// Whether an allowing decision exists for this artifact and environment; its id.
    pub async fn allowing_decision(
        &self,
        artifact_digest: &str,
        environment: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT id FROM decisions WHERE artifact_digest = $1 AND environment = $2 AND allow = 1 ORDER BY ledger_idx DESC LIMIT 1",
        )
        .bind(artifact_digest.to_owned())
        .bind(environment.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("finding an allowing decision")
    }

    /// The latest decision for this artifact and environment, allowing or not; its id.
    pub async fn latest_decision(
        &self,
        artifact_digest: &str,
        environment: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT id FROM decisions WHERE artifact_digest = $1 AND environment = $2 ORDER BY ledger_idx DESC LIMIT 1",
        )
        .bind(artifact_digest.to_owned())
        .bind(environment.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("finding the latest decision")
    }

    /// The current deployment of each application in an environment (its latest recorded
    /// one), or of one application.
    pub async fn current_deployments(
        &self,
        environment: &str,
        application: Option<&str>,
    ) -> Result<Vec<Deployment>, StoreError> {
        let only = if application.is_some() {
            " AND application = $2"
        } else {
            ""
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE ledger_idx IN (SELECT MAX(ledger_idx) FROM deployments WHERE environment = $1{only} GROUP BY application) ORDER BY application"
        )))
        .bind(environment.to_owned());
        if let Some(a) = application {
            q = q.bind(a.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("reading current deployments")?
            .iter()
            .map(deployment_row)
            .collect()
    }

    /// Deployments of an application to an environment deployed from `from` to `to`, both
    /// included, oldest first.
    pub async fn deployments_between(
        &self,
        application: &str,
        environment: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Deployment>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{DEPLOYMENT_SELECT} WHERE application = $1 AND environment = $2 AND deployed_at >= $3 AND deployed_at <= $4 ORDER BY deployed_at LIMIT 1000"
        )))
        .bind(application.to_owned())
        .bind(environment.to_owned())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .op("listing deployments in a span")?
        .iter()
        .map(deployment_row)
        .collect()
    }

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

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .op("pinging the database")?;
        Ok(())
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

fn approval_row(r: &AnyRow) -> Result<Approval, StoreError> {
    Ok(Approval {
        change: get(r, "change_id")?,
        approver: get(r, "approver")?,
        approve: get::<String>(r, "verdict")? == "approve",
        comment: get(r, "comment")?,
        at: get(r, "created_at")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
    })
}
