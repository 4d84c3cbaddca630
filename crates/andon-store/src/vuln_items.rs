//! Vulnerability items: the effect of `vuln.*` entries, and the reads that track them.

use andon_domain::vuln_items::{ItemEvent, VulnItem};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

use crate::error::{Op as _, StoreError};
use crate::read::get;
use crate::store::Store;

/// The rows a `vuln.*` entry writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VulnEffect {
    /// An item opens, in state `detected`.
    Detected(Box<VulnItem>),
    /// An item moves on: `fix_built` (with the artifact and evidence), `fix_deployed` or
    /// `closed` (with the reason).
    Advanced {
        /// The item.
        item: String,
        /// The state entered.
        state: String,
        /// When (Unix ms).
        at: i64,
        /// What moved it.
        detail: String,
        /// For `fix_built`: the fixed artifact.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        artifact: Option<String>,
        /// For `fix_built`: the SBOM evidence showing the fix.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        evidence: Option<String>,
        /// For `closed`: why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

impl VulnEffect {
    /// The item the effect is about.
    pub fn item(&self) -> &str {
        match self {
            VulnEffect::Detected(i) => &i.id,
            VulnEffect::Advanced { item, .. } => item,
        }
    }
}

fn json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Writes an item's opening or transition, and its event row.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    e: &VulnEffect,
) -> Result<(), StoreError> {
    let (item, state, at, detail) = match e {
        VulnEffect::Detected(i) => {
            sqlx::query(
                "INSERT INTO vuln_items (id, ledger_idx, application, team, vulnerability, aliases, advisories, \
                 severity, priority, state, detected_at, due_at, artifacts, updated_idx) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'detected', $10, $11, $12, $2)",
            )
            .bind(i.id.clone())
            .bind(idx)
            .bind(i.application.clone())
            .bind(i.team.clone())
            .bind(i.vulnerability.clone())
            .bind(json(&i.aliases))
            .bind(json(&i.advisories))
            .bind(i.severity.clone())
            .bind(i.priority.clone())
            .bind(i.detected_at)
            .bind(i.due_at)
            .bind(json(&i.artifacts))
            .execute(&mut **tx)
            .await
            .op("opening a vulnerability item")?;
            let detail = format!(
                "{} {} severity, {} due; running in production as {}",
                i.vulnerability,
                i.severity,
                i.priority,
                i.artifacts.join(", ")
            );
            (i.id.clone(), "detected", i.detected_at, detail)
        }
        VulnEffect::Advanced {
            item,
            state,
            at,
            detail,
            artifact,
            evidence,
            reason,
        } => {
            let sql = match state.as_str() {
                "fix_built" => {
                    "UPDATE vuln_items SET state = $1, updated_idx = $2, fix_built_at = $3, \
                     fix_artifact = $4, fix_evidence = $5 WHERE id = $6"
                }
                "fix_deployed" => {
                    "UPDATE vuln_items SET state = $1, updated_idx = $2, fix_deployed_at = $3, \
                     fix_artifact = COALESCE(fix_artifact, $4), fix_evidence = COALESCE(fix_evidence, $5) WHERE id = $6"
                }
                _ => {
                    "UPDATE vuln_items SET state = $1, updated_idx = $2, closed_at = $3, \
                     close_detail = $4, close_reason = $5 WHERE id = $6"
                }
            };
            let (a, b) = if state == "closed" {
                (Some(detail.clone()), reason.clone())
            } else {
                (artifact.clone(), evidence.clone())
            };
            sqlx::query(sql)
                .bind(state.clone())
                .bind(idx)
                .bind(*at)
                .bind(a)
                .bind(b)
                .bind(item.clone())
                .execute(&mut **tx)
                .await
                .op("advancing a vulnerability item")?;
            (item.clone(), state.as_str(), *at, detail.clone())
        }
    };
    sqlx::query(
        "INSERT INTO vuln_item_events (ledger_idx, item_id, state, at, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(idx)
    .bind(item)
    .bind(state.to_owned())
    .bind(at)
    .bind(detail)
    .execute(&mut **tx)
    .await
    .op("recording a vulnerability item's event")?;
    Ok(())
}

const ITEM_SELECT: &str = "SELECT id, ledger_idx, application, team, vulnerability, aliases, advisories, \
     severity, priority, state, detected_at, due_at, artifacts, fix_artifact, fix_evidence, fix_built_at, \
     fix_deployed_at, closed_at, close_reason, close_detail FROM vuln_items";

fn list(r: &AnyRow, col: &str) -> Result<Vec<String>, StoreError> {
    let text: String = get(r, col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        what: format!("vuln_items.{col}"),
        detail: e.to_string(),
    })
}

fn item_row(r: &AnyRow) -> Result<VulnItem, StoreError> {
    Ok(VulnItem {
        id: get(r, "id")?,
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        application: get(r, "application")?,
        team: get(r, "team")?,
        vulnerability: get(r, "vulnerability")?,
        aliases: list(r, "aliases")?,
        advisories: list(r, "advisories")?,
        severity: get(r, "severity")?,
        priority: get(r, "priority")?,
        state: get(r, "state")?,
        detected_at: get(r, "detected_at")?,
        due_at: get(r, "due_at")?,
        artifacts: list(r, "artifacts")?,
        fix_artifact: get(r, "fix_artifact")?,
        fix_evidence: get(r, "fix_evidence")?,
        fix_built_at: get(r, "fix_built_at")?,
        fix_deployed_at: get(r, "fix_deployed_at")?,
        closed_at: get(r, "closed_at")?,
        close_reason: get(r, "close_reason")?,
        close_detail: get(r, "close_detail")?,
        overdue: false,
        events: Vec::new(),
    })
}

impl Store {
    /// Items, of one application or all, open only or all; newest first, at most `limit`.
    pub async fn vuln_items(
        &self,
        application: Option<&str>,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<VulnItem>, StoreError> {
        let open = if open_only {
            " AND state <> 'closed'"
        } else {
            ""
        };
        let sql = match application {
            Some(_) => format!(
                "{ITEM_SELECT} WHERE application = $1{open} ORDER BY ledger_idx DESC LIMIT {limit}"
            ),
            None => {
                format!("{ITEM_SELECT} WHERE 1 = 1{open} ORDER BY ledger_idx DESC LIMIT {limit}")
            }
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(a) = application {
            q = q.bind(a.to_owned());
        }
        q.fetch_all(&self.pool)
            .await
            .op("listing vulnerability items")?
            .iter()
            .map(item_row)
            .collect()
    }

    /// One item with its transitions, oldest first.
    pub async fn vuln_item(&self, id: &str) -> Result<Option<VulnItem>, StoreError> {
        let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!("{ITEM_SELECT} WHERE id = $1")))
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await
            .op("reading a vulnerability item")?
        else {
            return Ok(None);
        };
        let mut item = item_row(&r)?;
        item.events = sqlx::query(
            "SELECT ledger_idx, state, at, detail FROM vuln_item_events WHERE item_id = $1 ORDER BY ledger_idx",
        )
        .bind(id.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading a vulnerability item's events")?
        .iter()
        .map(|e| {
            Ok(ItemEvent {
                ledger_index: get::<i64>(e, "ledger_idx")? as u64,
                state: get(e, "state")?,
                at: get(e, "at")?,
                detail: get(e, "detail")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(Some(item))
    }

    /// The states an item has entered.
    pub async fn vuln_item_states(&self, id: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT state FROM vuln_item_events WHERE item_id = $1")
            .bind(id.to_owned())
            .fetch_all(&self.pool)
            .await
            .op("reading a vulnerability item's states")
    }

    /// Whether an open item tracks `vulnerability` for `application`.
    pub async fn open_vuln_item(
        &self,
        application: &str,
        vulnerability: &str,
    ) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT id FROM vuln_items WHERE application = $1 AND vulnerability = $2 AND state <> 'closed'",
        )
        .bind(application.to_owned())
        .bind(vulnerability.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("finding an open vulnerability item")
    }

    /// Open items whose deadline is at or before `now_ms`, most overdue first.
    pub async fn overdue_vuln_items(&self, now_ms: i64) -> Result<Vec<VulnItem>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ITEM_SELECT} WHERE state <> 'closed' AND due_at <= $1 ORDER BY due_at, id"
        )))
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .op("finding overdue vulnerability items")?
        .iter()
        .map(item_row)
        .collect()
    }

    /// The items of an application, or of a team's applications, that security lead time
    /// reads: those open now, and those closed as fixed whose fix reached production in
    /// `[from, to)`.
    pub async fn metric_vuln_items(
        &self,
        application: Option<&str>,
        team: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<Vec<VulnItem>, StoreError> {
        let scope = if application.is_some() {
            "application = $3"
        } else {
            "application IN (SELECT name FROM applications WHERE team = $3)"
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ITEM_SELECT} WHERE {scope} AND (state <> 'closed' OR (close_reason = 'fixed' \
             AND COALESCE(fix_deployed_at, closed_at) >= $1 AND COALESCE(fix_deployed_at, closed_at) < $2)) \
             ORDER BY detected_at, id"
        )))
        .bind(from)
        .bind(to)
        .bind(application.or(team).unwrap_or_default().to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading vulnerability items for metrics")?
        .iter()
        .map(item_row)
        .collect()
    }
}
