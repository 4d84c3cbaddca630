//! Admission: the effect of `admission.*` entries, and the reads the webhook and the API make.

use andon_domain::admission::{AdmissionEvent, Cluster};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op as _, StoreError};
use crate::read::get;
use crate::store::Store;

/// The rows an `admission.*` entry writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AdmissionEffect {
    /// A cluster registered or changed: it replaces the earlier row.
    Cluster {
        /// The cluster (its `token` is never stored).
        cluster: Cluster,
        /// SHA-256 (hex) of the token its API server sends.
        token_sha256: String,
    },
    /// A workload refused, one audit mode would refuse, or one a break-glass grant admitted
    /// (`grant` set).
    Refused(Box<AdmissionEvent>),
}

/// Writes a cluster or a refusal.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    e: &AdmissionEffect,
) -> Result<(), StoreError> {
    match e {
        AdmissionEffect::Cluster {
            cluster: c,
            token_sha256,
        } => {
            sqlx::query("DELETE FROM admission_clusters WHERE name = $1")
                .bind(c.name.clone())
                .execute(&mut **tx)
                .await
                .op("replacing an admission cluster")?;
            sqlx::query(
                "INSERT INTO admission_clusters (name, ledger_idx, environment, mode, max_decision_age_days, token_sha256) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(c.name.clone())
            .bind(idx)
            .bind(c.environment.clone())
            .bind(c.mode.clone())
            .bind(i64::from(c.max_decision_age_days))
            .bind(token_sha256.clone())
            .execute(&mut **tx)
            .await
            .op("recording an admission cluster")?;
        }
        AdmissionEffect::Refused(ev) => {
            sqlx::query(
                "INSERT INTO admission_events (ledger_idx, cluster, enforced, uid, operation, kind, namespace, name, username, at, images, grant_used) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(idx)
            .bind(ev.cluster.clone())
            .bind(i64::from(ev.enforced))
            .bind(ev.uid.clone())
            .bind(ev.operation.clone())
            .bind(ev.kind.clone())
            .bind(ev.namespace.clone())
            .bind(ev.name.clone())
            .bind(ev.user.clone())
            .bind(ev.at)
            .bind(serde_json::to_string(&ev.images).unwrap_or_else(|_| "[]".into()))
            .bind(
                ev.grant
                    .as_ref()
                    .and_then(|g| serde_json::to_string(g).ok()),
            )
            .execute(&mut **tx)
            .await
            .op("recording an admission refusal")?;
        }
    }
    Ok(())
}

fn cluster_row(r: &AnyRow) -> Result<Cluster, StoreError> {
    Ok(Cluster {
        name: get(r, "name")?,
        environment: get(r, "environment")?,
        mode: get(r, "mode")?,
        max_decision_age_days: get::<i64>(r, "max_decision_age_days")? as u32,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        token: None,
    })
}

const CLUSTER_SELECT: &str = "SELECT name, ledger_idx, environment, mode, max_decision_age_days, token_sha256 FROM admission_clusters";

impl Store {
    /// A cluster with the SHA-256 of its token.
    pub async fn admission_cluster(
        &self,
        name: &str,
    ) -> Result<Option<(Cluster, String)>, StoreError> {
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CLUSTER_SELECT} WHERE name = $1"
        )))
        .bind(name.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading an admission cluster")?
        else {
            return Ok(None);
        };
        Ok(Some((cluster_row(&r)?, get(&r, "token_sha256")?)))
    }

    /// Every registered cluster, by name.
    pub async fn admission_clusters(&self) -> Result<Vec<Cluster>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CLUSTER_SELECT} ORDER BY name"
        )))
        .fetch_all(&self.pool)
        .await
        .op("listing admission clusters")?
        .iter()
        .map(cluster_row)
        .collect()
    }

    /// Refusals, of one cluster or all, newest first, at most `limit`.
    pub async fn admission_events(
        &self,
        cluster: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AdmissionEvent>, StoreError> {
        let base = "SELECT ledger_idx, cluster, enforced, uid, operation, kind, namespace, name, username, at, images, grant_used FROM admission_events";
        let sql = match cluster {
            Some(_) => format!("{base} WHERE cluster = $1 ORDER BY ledger_idx DESC LIMIT {limit}"),
            None => format!("{base} ORDER BY ledger_idx DESC LIMIT {limit}"),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(c) = cluster {
            q = q.bind(c.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("listing admission refusals")?
            .iter()
            .map(|r| {
                let images: String = get(r, "images")?;
                let grant: Option<String> = get(r, "grant_used")?;
                Ok(AdmissionEvent {
                    ledger_index: get::<i64>(r, "ledger_idx")? as u64,
                    cluster: get(r, "cluster")?,
                    enforced: get::<i64>(r, "enforced")? != 0,
                    uid: get(r, "uid")?,
                    operation: get(r, "operation")?,
                    kind: get(r, "kind")?,
                    namespace: get(r, "namespace")?,
                    name: get(r, "name")?,
                    user: get(r, "username")?,
                    at: get(r, "at")?,
                    images: serde_json::from_str(&images).map_err(|e| StoreError::Corrupt {
                        what: "admission_events.images".into(),
                        detail: e.to_string(),
                    })?,
                    grant: grant.and_then(|g| serde_json::from_str(&g).ok()),
                })
            })
            .collect()
    }
}
