//! Deployments: their rows, recorded in the ledger batch's transaction with the commits
//! they brought and the state changes reported later, and the reads over them, among them
//! the delivery metrics' input (docs/changes.md).

use andon_domain::change::{Deployment, DeploymentEvent, DeploymentState};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op, corrupt};
use crate::read::{get, late};
use crate::{Store, StoreError};

/// Records a deployment in the entry at `idx`: its row (marking the change it carries out
/// deployed), the deployment it rolls back, and the commits it brought to production first
/// with their author times (Unix ms).
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    deployment: &Deployment,
    commits: &[(String, Option<i64>)],
    rolls_back: Option<&str>,
) -> Result<(), StoreError> {
    insert_deployment(tx, idx, deployment).await?;
    if let Some(old) = rolls_back {
        sqlx::query(
            "UPDATE deployments SET state = 'rolled_back', failed_at = COALESCE(failed_at, $1), restored_at = COALESCE(restored_at, $1) WHERE id = $2",
        )
        .bind(deployment.deployed_at)
        .bind(old.to_owned())
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
    Ok(())
}

async fn insert_deployment(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    d: &Deployment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployments (id, ledger_idx, application, environment, production, artifact_name, artifact_digest, decision_id, change_id, run, recorded_by, bypass, source_commit, deployed_at, state, failed_at, restored_at, late_reason, late_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, NULL, $16, $17)",
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
    .bind(d.late.as_ref().map(|l| l.reason.clone()))
    .bind(d.late.as_ref().map(|l| l.allowed_by.clone()))
    .execute(&mut **tx)
    .await
    .op("recording a deployment")?;
    if let Some(change) = &d.change {
        // Deployed without an allowing decision, the change is a bypass, not a deployment
        // of what was authorised.
        let status = if d.bypass { "bypassed" } else { "deployed" };
        sqlx::query("UPDATE changes SET status = $3, updated_idx = $1 WHERE id = $2")
            .bind(idx)
            .bind(change.clone())
            .bind(status)
            .execute(&mut **tx)
            .await
            .op("marking a change deployed")?;
    }
    Ok(())
}

/// Records a deployment's change of state in the entry at `idx`.
pub(crate) async fn deployment_event(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    e: &DeploymentEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO deployment_events (ledger_idx, deployment_id, state, at, actor, note, late_reason, late_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(idx)
    .bind(e.deployment.clone())
    .bind(e.state.as_str())
    .bind(e.at)
    .bind(e.actor.clone())
    .bind(e.note.clone())
    .bind(e.late.as_ref().map(|l| l.reason.clone()))
    .bind(e.late.as_ref().map(|l| l.allowed_by.clone()))
    .execute(&mut **tx)
    .await
    .op("recording a deployment event")?;
    if let Some(l) = &e.late {
        sqlx::query(
            "UPDATE deployments SET state_late_reason = $1, state_late_by = $2 WHERE id = $3",
        )
        .bind(l.reason.clone())
        .bind(l.allowed_by.clone())
        .bind(e.deployment.clone())
        .execute(&mut **tx)
        .await
        .op("marking a deployment's state change late")?;
    }
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

/// Marks a deployment suspect since `since` (Unix ms), when telemetry saw a spike after it.
pub(crate) async fn mark_suspect(
    tx: &mut Transaction<'_, Any>,
    deployment: &str,
    since: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE deployments SET suspect_at = COALESCE(suspect_at, $1) WHERE id = $2")
        .bind(since)
        .bind(deployment.to_owned())
        .execute(&mut **tx)
        .await
        .op("marking a deployment suspect")?;
    Ok(())
}

/// A production deployment as the delivery metrics read it. Times are Unix ms.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDeployment {
    /// Its application and environment, one line each.
    pub scope: String,
    /// When it was deployed.
    pub deployed_at: i64,
    /// When it failed or was rolled back.
    pub failed_at: Option<i64>,
    /// When service was restored.
    pub restored_at: Option<i64>,
    /// Author times of the commits it brought to production first.
    pub commit_times: Vec<i64>,
    /// The facts its figures rest on (its record, then its failures, rollbacks and
    /// restorations): when each entered the ledger (its own time for a row with no entry,
    /// as rows seeded straight into the tables have), and whether it arrived after the late
    /// window.
    pub arrivals: Vec<(i64, bool)>,
}

/// A computed `late` column, 0 or 1.
fn flag(r: &AnyRow) -> Result<bool, StoreError> {
    Ok(get::<i64>(r, "late")? != 0)
}

const DEPLOYMENT_SELECT: &str = "SELECT id, ledger_idx, application, environment, production, artifact_name, artifact_digest, decision_id, change_id, run, recorded_by, bypass, source_commit, deployed_at, state, failed_at, restored_at, suspect_at, late_reason, late_by, state_late_reason, state_late_by FROM deployments";

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
        late: late(r, "")?,
        state_late: late(r, "state_")?,
    })
}

impl Store {
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
    /// in `sort`'s order; `before_index` pages.
    pub async fn deployments(
        &self,
        application: Option<&str>,
        environment: Option<&str>,
        sort: crate::Sort,
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
            sql.push_str(&format!(" AND {}", sort.after("deployments", &next())));
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
        q.fetch_all(&self.pool)
            .await
            .op("listing deployments")?
            .iter()
            .map(deployment_row)
            .collect()
    }

    /// Who recorded the deployments of change `change` (of `application`, whose index the
    /// lookup uses), each once.
    pub async fn change_deployers(
        &self,
        application: &str,
        change: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT DISTINCT recorded_by FROM deployments WHERE application = $1 AND change_id = $2 ORDER BY recorded_by",
        )
        .bind(application.to_owned())
        .bind(change.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading who deployed a change")?
        .iter()
        .map(|r| get(r, "recorded_by"))
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
            "SELECT d.ledger_idx, d.application, d.environment, d.deployed_at, d.failed_at, d.restored_at, \
             CAST(CASE WHEN d.late_reason IS NULL THEN 0 ELSE 1 END AS BIGINT) AS late, COALESCE(l.created_at, d.deployed_at) AS recorded_at \
             FROM deployments d LEFT JOIN ledger_entries l ON l.idx = d.ledger_idx \
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
                scope: format!(
                    "{}\n{}",
                    get::<String>(r, "application")?,
                    get::<String>(r, "environment")?
                ),
                deployed_at: get(r, "deployed_at")?,
                failed_at: get(r, "failed_at")?,
                restored_at: get(r, "restored_at")?,
                commit_times: Vec::new(),
                arrivals: vec![(get(r, "recorded_at")?, flag(r)?)],
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
        let events = bind(format!(
            "SELECT d.ledger_idx, CAST(CASE WHEN e.late_reason IS NULL THEN 0 ELSE 1 END AS BIGINT) AS late, COALESCE(l.created_at, e.at) AS recorded_at \
             FROM deployment_events e JOIN deployments d ON d.id = e.deployment_id \
             LEFT JOIN ledger_entries l ON l.idx = e.ledger_idx WHERE {filter} ORDER BY e.ledger_idx"
        ))
        .fetch_all(&self.pool)
        .await
        .op("reading deployment events for metrics")?;
        for r in &events {
            if let Some(&i) = at.get(&get::<i64>(r, "ledger_idx")?) {
                out[i].arrivals.push((get(r, "recorded_at")?, flag(r)?));
            }
        }
        Ok(out)
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

    /// How many deployments of an application to an environment were recorded with a
    /// deployment time in `[from, to)`, and how many of them bypassed the gate.
    pub async fn deployment_counts(
        &self,
        application: &str,
        environment: &str,
        from: i64,
        to: i64,
    ) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(bypass), 0) AS BIGINT) AS bypassed FROM deployments \
             WHERE application = $1 AND environment = $2 AND deployed_at >= $3 AND deployed_at < $4",
        )
        .bind(application.to_owned())
        .bind(environment.to_owned())
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await
        .op("counting deployments")?;
        Ok((
            get::<i64>(&row, "n")? as u64,
            get::<i64>(&row, "bypassed")? as u64,
        ))
    }
}
