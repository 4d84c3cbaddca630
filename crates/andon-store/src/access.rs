//! Production access and drift: access requests and grants, the standing access register,
//! runtime snapshots (docs/access.md). Rows written in the ledger batch's transaction, and
//! the reads over them.

use andon_domain::access::{
    AccessLevel, AccessRequest, AccessStatus, AccountUse, Snapshot, StandingAccount,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op, corrupt};
use crate::read::{get, late};
use crate::{Store, StoreError};

/// An access effect of one ledger entry, applied in index order.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessEffect {
    /// A request.
    Requested(Box<AccessRequest>),
    /// A request approved (the grant starts at `at`, ends at `expires_at`) or rejected.
    Decided {
        /// The request.
        id: String,
        /// Approved or not.
        approve: bool,
        /// By whom.
        by: String,
        /// When.
        at: i64,
        /// With what comment.
        comment: Option<String>,
        /// When the grant ends (approved only).
        expires_at: Option<i64>,
    },
    /// A grant revoked early.
    Revoked {
        /// The request.
        id: String,
        /// By whom.
        by: String,
        /// When.
        at: i64,
    },
    /// A grant's expiry recorded.
    Expired {
        /// The request.
        id: String,
    },
    /// A standing account registered.
    AccountRegistered(Box<StandingAccount>),
    /// A standing account retired.
    AccountRetired {
        /// Its name.
        name: String,
        /// When.
        at: i64,
    },
    /// A standing account used.
    AccountUsed(AccountUse),
    /// What an environment runs.
    Snapshot(Box<Snapshot>),
}

/// Applies one effect of the entry at `idx`.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    effect: &AccessEffect,
) -> Result<(), StoreError> {
    match effect {
        AccessEffect::Requested(r) => {
            sqlx::query(
                "INSERT INTO access_requests (id, ledger_idx, application, environment, production, level, reason, ticket, requested_by, minutes, requested_at, status) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending')",
            )
            .bind(r.id.clone())
            .bind(idx)
            .bind(r.application.clone())
            .bind(r.environment.clone())
            .bind(i64::from(r.production))
            .bind(r.level.as_str())
            .bind(r.reason.clone())
            .bind(r.ticket.clone())
            .bind(r.requested_by.clone())
            .bind(i64::from(r.minutes))
            .bind(r.requested_at)
            .execute(&mut **tx)
            .await
            .op("recording an access request")?;
        }
        AccessEffect::Decided {
            id,
            approve,
            by,
            at,
            comment,
            expires_at,
        } => {
            sqlx::query(
                "UPDATE access_requests SET status = $1, decided_by = $2, decided_at = $3, comment = $4, expires_at = $5 WHERE id = $6 AND status = 'pending'",
            )
            .bind(if *approve { "granted" } else { "rejected" })
            .bind(by.clone())
            .bind(*at)
            .bind(comment.clone())
            .bind(*expires_at)
            .bind(id.clone())
            .execute(&mut **tx)
            .await
            .op("deciding an access request")?;
        }
        AccessEffect::Revoked { id, by, at } => {
            sqlx::query(
                "UPDATE access_requests SET revoked_by = $1, revoked_at = $2 WHERE id = $3 AND revoked_at IS NULL",
            )
            .bind(by.clone())
            .bind(*at)
            .bind(id.clone())
            .execute(&mut **tx)
            .await
            .op("revoking a grant")?;
        }
        AccessEffect::Expired { id } => {
            sqlx::query(
                "UPDATE access_requests SET expired_idx = $1 WHERE id = $2 AND expired_idx IS NULL",
            )
            .bind(idx)
            .bind(id.clone())
            .execute(&mut **tx)
            .await
            .op("recording a grant's expiry")?;
        }
        AccessEffect::AccountRegistered(a) => {
            sqlx::query(
                "INSERT INTO standing_accounts (name, ledger_idx, environment, production, application, owners, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(a.name.clone())
            .bind(idx)
            .bind(a.environment.clone())
            .bind(i64::from(a.production))
            .bind(a.application.clone())
            .bind(serde_json::to_string(&a.owners).unwrap_or_else(|_| "[]".into()))
            .bind(a.registered_at)
            .execute(&mut **tx)
            .await
            .op("registering a standing account")?;
        }
        AccessEffect::AccountRetired { name, at } => {
            sqlx::query(
                "UPDATE standing_accounts SET retired_at = $1 WHERE name = $2 AND retired_at IS NULL",
            )
            .bind(*at)
            .bind(name.clone())
            .execute(&mut **tx)
            .await
            .op("retiring a standing account")?;
        }
        AccessEffect::AccountUsed(u) => {
            sqlx::query(
                "INSERT INTO account_uses (ledger_idx, account, application, environment, production, at, actor, source, late_reason, late_by) \
                 SELECT $1, name, application, environment, production, $2, $3, $4, $6, $7 FROM standing_accounts WHERE name = $5",
            )
            .bind(idx)
            .bind(u.at)
            .bind(u.actor.clone())
            .bind(u.source.clone())
            .bind(u.account.clone())
            .bind(u.late.as_ref().map(|l| l.reason.clone()))
            .bind(u.late.as_ref().map(|l| l.allowed_by.clone()))
            .execute(&mut **tx)
            .await
            .op("recording a standing account's use")?;
        }
        AccessEffect::Snapshot(s) => {
            sqlx::query(
                "INSERT INTO runtime_snapshots (ledger_idx, environment, application, source, taken_at, reported_by, workloads, late_reason, late_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(idx)
            .bind(s.environment.clone())
            .bind(s.application.clone())
            .bind(s.source.clone())
            .bind(s.taken_at)
            .bind(s.reported_by.clone())
            .bind(serde_json::to_string(&s.workloads).unwrap_or_else(|_| "[]".into()))
            .bind(s.late.as_ref().map(|l| l.reason.clone()))
            .bind(s.late.as_ref().map(|l| l.allowed_by.clone()))
            .execute(&mut **tx)
            .await
            .op("storing a runtime snapshot")?;
        }
    }
    Ok(())
}

const REQUEST_SELECT: &str = "SELECT id, ledger_idx, application, environment, production, level, reason, ticket, requested_by, minutes, requested_at, status, decided_by, decided_at, comment, expires_at, revoked_by, revoked_at, expired_idx FROM access_requests";

fn request_row(r: &AnyRow) -> Result<AccessRequest, StoreError> {
    let level: String = get(r, "level")?;
    let status: String = get(r, "status")?;
    Ok(AccessRequest {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        application: get(r, "application")?,
        environment: get(r, "environment")?,
        production: get::<i64>(r, "production")? != 0,
        level: AccessLevel::parse(&level)
            .ok_or_else(|| corrupt("access_requests.level", &level))?,
        reason: get(r, "reason")?,
        ticket: get(r, "ticket")?,
        requested_by: get(r, "requested_by")?,
        minutes: get::<i64>(r, "minutes")?.clamp(0, i64::from(u32::MAX)) as u32,
        requested_at: get(r, "requested_at")?,
        status: AccessStatus::parse(&status)
            .ok_or_else(|| corrupt("access_requests.status", &status))?,
        decided_by: get(r, "decided_by")?,
        decided_at: get(r, "decided_at")?,
        comment: get(r, "comment")?,
        expires_at: get(r, "expires_at")?,
        revoked_by: get(r, "revoked_by")?,
        revoked_at: get(r, "revoked_at")?,
        expired_index: get::<Option<i64>>(r, "expired_idx")?.map(|i| i as u64),
    })
}

const ACCOUNT_SELECT: &str = "SELECT a.name, a.ledger_idx, a.environment, a.production, a.application, a.owners, a.registered_at, a.retired_at, \
     (SELECT COUNT(*) FROM account_uses u WHERE u.account = a.name) AS uses FROM standing_accounts a";

fn account_row(r: &AnyRow) -> Result<StandingAccount, StoreError> {
    let owners: String = get(r, "owners")?;
    Ok(StandingAccount {
        name: get(r, "name")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        environment: get(r, "environment")?,
        production: get::<i64>(r, "production")? != 0,
        application: get(r, "application")?,
        owners: serde_json::from_str(&owners)
            .map_err(|e| corrupt("standing_accounts.owners", e))?,
        registered_at: get(r, "registered_at")?,
        retired_at: get(r, "retired_at")?,
        uses: get::<i64>(r, "uses")?.max(0) as u64,
    })
}

fn snapshot_row(r: &AnyRow) -> Result<Snapshot, StoreError> {
    let workloads: String = get(r, "workloads")?;
    Ok(Snapshot {
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        environment: get(r, "environment")?,
        application: get(r, "application")?,
        source: get(r, "source")?,
        taken_at: get(r, "taken_at")?,
        reported_by: get(r, "reported_by")?,
        workloads: serde_json::from_str(&workloads)
            .map_err(|e| corrupt("runtime_snapshots.workloads", e))?,
        late: late(r, "")?,
    })
}

/// A debt input row: when, what kind (`use`, `read`, `write`), for which application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebtRow {
    /// When (Unix ms).
    pub at: i64,
    /// `use`, `read` or `write`.
    pub kind: String,
    /// A use that arrived after the late window, allowed by an admin.
    pub late: bool,
    /// When it entered the ledger (Unix ms; a grant's decision time).
    pub recorded_at: i64,
}

impl Store {
    /// One access request.
    pub async fn access_request(&self, id: &str) -> Result<Option<AccessRequest>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REQUEST_SELECT} WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading an access request")?
        .as_ref()
        .map(request_row)
        .transpose()
    }

    /// Access requests, newest first, optionally of one application and environment.
    pub async fn access_requests(
        &self,
        application: Option<&str>,
        environment: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let mut sql = format!("{REQUEST_SELECT} WHERE 1 = 1");
        let mut n = 0;
        for (col, v) in [("application", application), ("environment", environment)] {
            if v.is_some() {
                n += 1;
                sql.push_str(&format!(" AND {col} = ${n}"));
            }
        }
        sql.push_str(&format!(
            " ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 1000)
        ));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in [application, environment].into_iter().flatten() {
            q = q.bind(v.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("listing access requests")?
            .iter()
            .map(request_row)
            .collect()
    }

    /// Grants of an environment that were valid at some time in `[from, to]`.
    pub async fn grants_during(
        &self,
        environment: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REQUEST_SELECT} WHERE environment = $1 AND status = 'granted' AND decided_at <= $2 AND expires_at > $3 ORDER BY decided_at"
        )))
        .bind(environment.to_owned())
        .bind(to)
        .bind(from)
        .fetch_all(&self.pool)
        .await
        .op("reading grants")?;
        Ok(rows
            .iter()
            .map(request_row)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|g| g.valid_during(from, to))
            .collect())
    }

    /// Grants that ended by expiry at or before `now` whose expiry is not recorded yet.
    pub async fn unrecorded_expiries(&self, now: i64) -> Result<Vec<AccessRequest>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{REQUEST_SELECT} WHERE status = 'granted' AND expired_idx IS NULL AND revoked_at IS NULL AND expires_at <= $1 ORDER BY expires_at LIMIT 1000"
        )))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .op("finding expired grants")?
        .iter()
        .map(request_row)
        .collect()
    }

    /// One standing account.
    pub async fn standing_account(
        &self,
        name: &str,
    ) -> Result<Option<StandingAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ACCOUNT_SELECT} WHERE a.name = $1"
        )))
        .bind(name.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading a standing account")?
        .as_ref()
        .map(account_row)
        .transpose()
    }

    /// Every standing account, with its use count.
    pub async fn standing_accounts(&self) -> Result<Vec<StandingAccount>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ACCOUNT_SELECT} ORDER BY a.name"
        )))
        .fetch_all(&self.pool)
        .await
        .op("listing standing accounts")?
        .iter()
        .map(account_row)
        .collect()
    }

    /// What adds Production Access Debt in `[from, to)` in production: grants (`read`,
    /// `write`, at their grant time) and standing account uses (`use`), of one application,
    /// of a team's applications, or of everything.
    pub async fn debt_rows(
        &self,
        application: Option<&str>,
        team: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<DebtRow>, StoreError> {
        let scope = if application.is_some() {
            " AND application = $3"
        } else if team.is_some() {
            " AND application IN (SELECT name FROM applications WHERE team = $3)"
        } else {
            ""
        };
        let uscope = scope.replacen(" AND application", " AND u.application", 1);
        let sql = format!(
            "SELECT decided_at AS at, level AS kind, CAST(0 AS BIGINT) AS late, decided_at AS recorded_at FROM access_requests \
             WHERE production = 1 AND status = 'granted' AND decided_at >= $1 AND decided_at < $2{scope} \
             UNION ALL \
             SELECT u.at, 'use' AS kind, CAST(CASE WHEN u.late_reason IS NULL THEN 0 ELSE 1 END AS BIGINT) AS late, COALESCE(l.created_at, u.at) AS recorded_at \
             FROM account_uses u LEFT JOIN ledger_entries l ON l.idx = u.ledger_idx \
             WHERE u.production = 1 AND u.at >= $1 AND u.at < $2{uscope}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        if let Some(x) = application.or(team) {
            q = q.bind(x.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("reading access debt")?
            .iter()
            .map(|r| {
                Ok(DebtRow {
                    at: get(r, "at")?,
                    kind: get(r, "kind")?,
                    late: get::<i64>(r, "late")? != 0,
                    recorded_at: get(r, "recorded_at")?,
                })
            })
            .collect()
    }

    /// The latest snapshots of an environment, newest first.
    pub async fn snapshots(
        &self,
        environment: &str,
        limit: u32,
    ) -> Result<Vec<Snapshot>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT ledger_idx, environment, application, source, taken_at, reported_by, workloads, late_reason, late_by FROM runtime_snapshots \
             WHERE environment = $1 ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .bind(environment.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("listing snapshots")?
        .iter()
        .map(snapshot_row)
        .collect()
    }

    /// Which of `digests` an allowed (not bypassing) deployment put in `environment`.
    pub async fn allowed_digests(
        &self,
        environment: &str,
        digests: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        for chunk in digests.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT DISTINCT artifact_digest FROM deployments WHERE environment = $1 AND bypass = 0 AND artifact_digest IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql))
                .bind(environment.to_owned());
            for d in chunk {
                q = q.bind(d.clone());
            }
            out.extend(
                q.fetch_all(&self.pool)
                    .await
                    .op("finding allowed deployments")?,
            );
        }
        Ok(out)
    }
}
