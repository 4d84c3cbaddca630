//! Read queries over policies, decisions and waivers.

use serde::Serialize;
use sqlx::any::AnyRow;

use crate::error::Op;
use crate::read::get;
use crate::{Store, StoreError};

/// The answer of [`Store::gathered_since`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatherMark {
    /// The ledger's size when asked: what a gather that starts now has seen at least.
    pub size: u64,
    /// Something a gate gathers about the artifact may have been written since.
    pub changed: bool,
    /// Something a gate reads about the application and environment (waivers, policies,
    /// drills, the risk level, hardening scans) may have been written since.
    pub context_changed: bool,
    /// A change record of the artifact, or an approval of one, may have been written since.
    pub change_changed: bool,
}

/// What [`Store::gathered_since`] asks about: an application, one of its artifacts, and the
/// ledger size each kept read was made at (0: nothing kept, so changed).
#[derive(Clone, Copy, Debug)]
pub struct GateKept<'a> {
    /// The application.
    pub application: &'a str,
    /// The artifact's digest, `sha256:<hex>`, as change records name it.
    pub artifact_digest: &'a str,
    /// The gather of the artifact's facts was read at this size.
    pub gather: u64,
    /// The application's and environment's context was read at this size.
    pub context: u64,
    /// The artifact's open change record was read at this size.
    pub change: u64,
}

impl GateKept<'_> {
    /// The same question with every read made at `size`: whether anything was written
    /// since a read at `size`.
    pub fn all_at(self, size: u64) -> Self {
        Self {
            gather: size,
            context: size,
            change: size,
            ..self
        }
    }
}

/// A published policy bundle (without its text).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyRow {
    /// SHA-256 of the bundle.
    pub version: String,
    /// Name.
    pub name: String,
    /// Applications it applies to (empty: all).
    pub applications: Vec<String>,
    /// Environments it applies to (empty: all).
    pub environments: Vec<String>,
    /// The ledger entry that published it.
    pub ledger_index: u64,
    /// When (Unix ms).
    pub created_at: i64,
}

/// A recorded decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionRow {
    /// SHA-256 of the envelope.
    pub id: String,
    /// Ledger index.
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Environment.
    pub environment: String,
    /// `sha256:<hex>`.
    pub artifact_digest: String,
    /// Allowed.
    pub allow: bool,
    /// Policy version used.
    pub policy_version: String,
    /// When (Unix ms).
    pub created_at: i64,
    /// The signed decision (DSSE envelope JSON).
    #[serde(skip)]
    pub envelope: Vec<u8>,
}

/// A waiver and where it stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WaiverRow {
    /// Id.
    pub id: String,
    /// Application.
    pub application: String,
    /// Control id.
    pub control: String,
    /// Vulnerability id, for a waiver of one finding.
    pub vulnerability: Option<String>,
    /// Why.
    pub reason: String,
    /// Ticket.
    pub ticket: String,
    /// Who asked.
    pub requested_by: String,
    /// Length once approved (ms).
    pub duration_ms: i64,
    /// Ledger index of the request.
    pub requested_index: u64,
    /// When requested (Unix ms).
    pub requested_at: i64,
    /// Who approved.
    pub approved_by: Option<String>,
    /// Ledger index of the approval.
    pub approved_index: Option<u64>,
    /// When approved (Unix ms).
    pub approved_at: Option<i64>,
    /// When it expires (Unix ms).
    pub expires_at: Option<i64>,
}

fn list(row: &AnyRow, col: &str) -> Result<Vec<String>, StoreError> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        what: format!("policies.{col}"),
        detail: e.to_string(),
    })
}

fn waiver_row(r: &AnyRow) -> Result<WaiverRow, StoreError> {
    Ok(WaiverRow {
        id: get(r, "id")?,
        application: get(r, "application")?,
        control: get(r, "control")?,
        vulnerability: get(r, "vulnerability")?,
        reason: get(r, "reason")?,
        ticket: get(r, "ticket")?,
        requested_by: get(r, "requested_by")?,
        duration_ms: get(r, "duration_ms")?,
        requested_index: get::<i64>(r, "requested_idx")? as u64,
        requested_at: get(r, "requested_at")?,
        approved_by: get(r, "approved_by")?,
        approved_index: get::<Option<i64>>(r, "approved_idx")?.map(|i| i as u64),
        approved_at: get(r, "approved_at")?,
        expires_at: get(r, "expires_at")?,
    })
}

const WAIVER_SELECT: &str = "SELECT id, application, control, vulnerability, reason, ticket, requested_by, duration_ms, requested_idx, requested_at, approved_by, approved_idx, approved_at, expires_at FROM waivers";

impl Store {
    /// Every published policy, oldest first.
    pub async fn policies(&self) -> Result<Vec<PolicyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, name, applications, environments, ledger_idx, created_at FROM policies ORDER BY ledger_idx",
        )
        .fetch_all(&self.pool)
        .await
        .op("listing policies")?;
        rows.iter()
            .map(|r| {
                Ok(PolicyRow {
                    version: get(r, "version")?,
                    name: get(r, "name")?,
                    applications: list(r, "applications")?,
                    environments: list(r, "environments")?,
                    ledger_index: get::<i64>(r, "ledger_idx")? as u64,
                    created_at: get(r, "created_at")?,
                })
            })
            .collect()
    }

    /// A policy bundle's bytes by version.
    pub async fn policy_bundle(&self, version: &str) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT bundle FROM policies WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await
            .op("reading a policy")
    }

    /// The decisions of an application (in one environment, or all) made in `[from, to)`
    /// (Unix ms), oldest first, at most `limit`.
    pub async fn decisions_between(
        &self,
        application: &str,
        environment: Option<&str>,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<DecisionRow>, StoreError> {
        let sql = format!(
            "SELECT id, ledger_idx, application, environment, artifact_digest, allow, policy_version, created_at, envelope \
             FROM decisions WHERE application = $1 AND created_at >= $2 AND created_at < $3{} ORDER BY ledger_idx LIMIT {}",
            if environment.is_some() {
                " AND environment = $4"
            } else {
                ""
            },
            limit.clamp(1, 100_000)
        );
        let mut q = self
            .search(sql)
            .bind(application.to_owned())
            .bind(from)
            .bind(to);
        if let Some(e) = environment {
            q = q.bind(e.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("reading decisions")?
            .iter()
            .map(decision_row)
            .collect()
    }

    /// How many decisions of an application (in one environment, or all) were made in
    /// `[from, to)` (Unix ms), and how many of them allowed the release.
    pub async fn decision_outcomes(
        &self,
        application: &str,
        environment: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<(u64, u64), StoreError> {
        let sql = format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(allow), 0) AS BIGINT) AS allowed FROM decisions \
             WHERE application = $1 AND created_at >= $2 AND created_at < $3{}",
            if environment.is_some() {
                " AND environment = $4"
            } else {
                ""
            },
        );
        let mut q = self
            .search(sql)
            .bind(application.to_owned())
            .bind(from)
            .bind(to);
        if let Some(e) = environment {
            q = q.bind(e.to_owned());
        }
        let row = q.fetch_one(&self.pool).await.op("counting decisions")?;
        let n = get::<i64>(&row, "n")?;
        let allowed = get::<i64>(&row, "allowed")?;
        Ok((n.max(0) as u64, allowed.max(0) as u64))
    }

    /// Whether anything a gate gathers about `kept.application`'s artifacts may have been
    /// written at ledger index `kept.gather` or later, whether anything it reads about the
    /// application and its environments may have been written at `kept.context` or later,
    /// whether a change record of the artifact or an approval of one may have been written at
    /// `kept.change` or later, and the ledger's size now, in one statement. The artifact's
    /// part: the application's evidence (its subjects and commits are written with it), and
    /// the source-control tables whatever wrote them (a webhook, or a review attested by
    /// another application of the same repository). The context: the application's waivers
    /// (requested or approved), every policy, the application's risk level and finished
    /// drills, and hardening scans of any application. The change: the artifact's change
    /// records (opened, updated, approved, rejected, reviewed, deployed) and approvals. Each is
    /// a probe of an index by ledger index, or by artifact.
    pub async fn gathered_since(&self, kept: GateKept<'_>) -> Result<GatherMark, StoreError> {
        let probe = |t: &str, filter: &str, at: &str| {
            format!(" + (SELECT COUNT(*) FROM (SELECT 1 FROM {t} WHERE {filter}{at} LIMIT 1) {t})")
        };
        let scm: String = [
            "scm_commits",
            "scm_changes",
            "scm_reviews",
            "scm_deployments",
            "scm_tickets",
        ]
        .iter()
        .map(|t| probe(t, "", "ledger_idx >= $2"))
        .collect();
        let context: String = [
            probe(
                "waivers",
                "application = $1 AND ",
                "(requested_idx >= $3 OR approved_idx >= $3)",
            ),
            probe("policies", "", "ledger_idx >= $3"),
            probe(
                "application_risks",
                "application = $1 AND ",
                "ledger_idx >= $3",
            ),
            probe("drills", "application = $1 AND ", "finished_idx >= $3"),
            probe("evidence", "predicate_type = $4 AND ", "ledger_idx >= $3"),
        ]
        .concat();
        // Every write of a change record sets its `updated_idx`; an approval that does not
        // settle the change writes only its own row.
        let change: String = [
            probe("changes", "artifact_digest = $5 AND ", "updated_idx >= $6"),
            probe(
                "change_approvals",
                "change_id IN (SELECT id FROM changes WHERE artifact_digest = $5) AND ",
                "ledger_idx >= $6",
            ),
        ]
        .concat();
        let sql = format!(
            "SELECT COALESCE((SELECT MAX(idx) FROM ledger_entries), -1) + 1 AS size, \
             (SELECT COUNT(*) FROM (SELECT 1 FROM evidence WHERE application = $1 AND ledger_idx >= $2 LIMIT 1) e){scm} AS changed, \
             0{context} AS context_changed, 0{change} AS change_changed"
        );
        let at = |n: u64| n.min(i64::MAX as u64) as i64;
        // Planned for its values: only then does PostgreSQL know that `since` is near the
        // end of every table and each count one step down an index.
        let row = self
            .search(sql)
            .bind(kept.application.to_owned())
            .bind(at(kept.gather))
            .bind(at(kept.context))
            .bind(andon_domain::HARDENING_PREDICATE_V1)
            .bind(kept.artifact_digest.to_owned())
            .bind(at(kept.change))
            .fetch_one(&self.pool)
            .await
            .op("asking what changed since a gate gathered")?;
        Ok(GatherMark {
            size: get::<i64>(&row, "size")?.max(0) as u64,
            changed: get::<i64>(&row, "changed")? > 0,
            context_changed: get::<i64>(&row, "context_changed")? > 0,
            change_changed: get::<i64>(&row, "change_changed")? > 0,
        })
    }

    /// The application's approved waivers, whether or not they are still in force, by id:
    /// [`Store::active_waivers`] is these, filtered by their expiry.
    pub async fn approved_waivers(&self, application: &str) -> Result<Vec<WaiverRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WAIVER_SELECT} WHERE application = $1 AND approved_by IS NOT NULL ORDER BY id"
        )))
        .bind(application.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading approved waivers")?;
        rows.iter().map(waiver_row).collect()
    }

    /// A decision by id.
    pub async fn decision(&self, id: &str) -> Result<Option<DecisionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, ledger_idx, application, environment, artifact_digest, allow, policy_version, created_at, envelope FROM decisions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .op("reading a decision")?;
        row.as_ref().map(decision_row).transpose()
    }

    /// Which of these decision ids (each the SHA-256 of a signed envelope) are recorded: one
    /// statement for a batch's decisions (none for none).
    pub async fn decisions_recorded(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT id FROM decisions WHERE id IN ({})", marks.join(","));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await.op("finding decisions")? {
                out.insert(get(&r, "id")?);
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

    /// A waiver by id.
    pub async fn waiver(&self, id: &str) -> Result<Option<WaiverRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WAIVER_SELECT} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .op("reading a waiver")?;
        row.as_ref().map(waiver_row).transpose()
    }

    /// Waivers, newest first; of one application when given.
    pub async fn waivers(&self, application: Option<&str>) -> Result<Vec<WaiverRow>, StoreError> {
        let rows = match application {
            Some(a) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{WAIVER_SELECT} WHERE application = $1 ORDER BY requested_idx DESC"
                )))
                .bind(a)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{WAIVER_SELECT} ORDER BY requested_idx DESC"
                )))
                .fetch_all(&self.pool)
                .await
            }
        }
        .op("listing waivers")?;
        rows.iter().map(waiver_row).collect()
    }

    /// Approved waivers of an application in force at `now_ms`.
    pub async fn active_waivers(
        &self,
        application: &str,
        now_ms: i64,
    ) -> Result<Vec<WaiverRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{WAIVER_SELECT} WHERE application = $1 AND approved_by IS NOT NULL AND expires_at > $2 ORDER BY id"
        )))
        .bind(application)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .op("reading waivers in force")?;
        rows.iter().map(waiver_row).collect()
    }
}

fn decision_row(r: &sqlx::any::AnyRow) -> Result<DecisionRow, StoreError> {
    Ok(DecisionRow {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        application: get(r, "application")?,
        environment: get(r, "environment")?,
        artifact_digest: get(r, "artifact_digest")?,
        allow: get::<i64>(r, "allow")? != 0,
        policy_version: get(r, "policy_version")?,
        created_at: get(r, "created_at")?,
        envelope: get(r, "envelope")?,
    })
}
