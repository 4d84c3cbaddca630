//! The outbound notification log: events derived from the ledger, their delivery attempts
//! and outcomes.

use serde::Serialize;
use sqlx::any::AnyRow;

use crate::error::Op;
use crate::read::get;
use crate::{Store, StoreError};

/// A notification to deliver, or delivered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Notification {
    /// The ledger entry it was derived from (also its delivery id).
    pub ledger_index: u64,
    /// `change.created`, `change.approved`, ...
    pub event: String,
    /// The change (or alert) it is about.
    pub subject: String,
    /// The JSON body sent.
    #[serde(skip)]
    pub body: String,
    /// When it was queued (Unix ms).
    pub created_at: i64,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (Unix ms).
    pub next_attempt_at: i64,
    /// When it was delivered (Unix ms).
    pub delivered_at: Option<i64>,
    /// The receiver's last HTTP status.
    pub last_status: Option<u16>,
    /// The last failure.
    pub last_error: Option<String>,
    /// Whether the dispatcher gave up on it.
    pub gave_up: bool,
}

/// One attempt's outcome.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The receiver's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why it failed.
    pub error: Option<String>,
    /// Delivered (a 2xx).
    pub delivered: bool,
    /// When it was made (Unix ms).
    pub at: i64,
    /// When to try again, if not delivered.
    pub retry_at: i64,
    /// No more attempts.
    pub give_up: bool,
}

fn notification(r: &AnyRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        ledger_index: get::<i64>(r, "ledger_idx")? as u64,
        event: get(r, "event")?,
        subject: get(r, "subject")?,
        body: get(r, "body")?,
        created_at: get(r, "created_at")?,
        attempts: get::<i64>(r, "attempts")? as u32,
        next_attempt_at: get(r, "next_attempt_at")?,
        delivered_at: get(r, "delivered_at")?,
        last_status: get::<Option<i64>>(r, "last_status")?.map(|s| s as u16),
        last_error: get(r, "last_error")?,
        gave_up: get::<i64>(r, "gave_up")? != 0,
    })
}

const SELECT: &str = "SELECT ledger_idx, event, subject, body, created_at, attempts, next_attempt_at, delivered_at, last_status, last_error, gave_up FROM notifications";

impl Store {
    /// The last ledger index the dispatcher has read, if any.
    pub async fn notify_cursor(&self) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT ledger_idx FROM notify_cursor WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .op("reading the notification cursor")?;
        Ok(v.map(|i| i as u64))
    }

    /// Queues notifications (each at most once) and moves the cursor to `read_up_to`, in
    /// one transaction.
    pub async fn enqueue_notifications(
        &self,
        queued: &[(u64, String, String, String)],
        read_up_to: u64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.op("queueing notifications")?;
        for (idx, event, subject, body) in queued {
            sqlx::query(
                "INSERT INTO notifications (ledger_idx, event, subject, body, created_at, attempts, next_attempt_at, gave_up) \
                 VALUES ($1, $2, $3, $4, $5, 0, $5, 0) ON CONFLICT DO NOTHING",
            )
            .bind(*idx as i64)
            .bind(event.clone())
            .bind(subject.clone())
            .bind(body.clone())
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .op("queueing a notification")?;
        }
        sqlx::query(
            "INSERT INTO notify_cursor (id, ledger_idx) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET ledger_idx = excluded.ledger_idx",
        )
        .bind(read_up_to as i64)
        .execute(&mut *tx)
        .await
        .op("moving the notification cursor")?;
        tx.commit().await.op("queueing notifications")
    }

    /// Notifications due for an attempt at `now_ms`, oldest first.
    pub async fn due_notifications(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE delivered_at IS NULL AND gave_up = 0 AND next_attempt_at <= $1 ORDER BY ledger_idx LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .op("reading due notifications")?
        .iter()
        .map(notification)
        .collect()
    }

    /// Records an attempt.
    pub async fn notification_attempted(
        &self,
        idx: u64,
        event: &str,
        a: &Attempt,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET attempts = attempts + 1, last_status = $1, last_error = $2, \
             delivered_at = $3, next_attempt_at = $4, gave_up = $5 WHERE ledger_idx = $6 AND event = $7",
        )
        .bind(a.status.map(i64::from))
        .bind(a.error.clone())
        .bind(a.delivered.then_some(a.at))
        .bind(a.retry_at)
        .bind(i64::from(a.give_up))
        .bind(idx as i64)
        .bind(event.to_owned())
        .execute(&self.pool)
        .await
        .op("recording a delivery attempt")?;
        Ok(())
    }

    /// Notifications neither delivered nor given up.
    pub async fn pending_notifications(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE delivered_at IS NULL AND gave_up = 0",
        )
        .fetch_one(&self.pool)
        .await
        .op("counting pending notifications")?;
        Ok(n.max(0) as u64)
    }

    /// The delivery log, newest first.
    pub async fn notifications(&self, limit: u32) -> Result<Vec<Notification>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .fetch_all(&self.pool)
        .await
        .op("reading the delivery log")?
        .iter()
        .map(notification)
        .collect()
    }

    /// Ledger entries after `after` (all when `None`), up to `limit`: (index, kind, bytes).
    pub async fn entries_after(
        &self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, String, Vec<u8>)>, StoreError> {
        sqlx::query(
            "SELECT idx, kind, entry FROM ledger_entries WHERE idx > $1 ORDER BY idx LIMIT $2",
        )
        .bind(after.map_or(-1, |a| a as i64))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .op("reading ledger entries")?
        .iter()
        .map(|r| {
            Ok((
                get::<i64>(r, "idx")? as u64,
                get(r, "kind")?,
                get(r, "entry")?,
            ))
        })
        .collect()
    }
}
