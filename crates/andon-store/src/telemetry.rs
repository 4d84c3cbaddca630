//! Telemetry events: the window queries the rules ask for what a batch touched, and the
//! search over stored events (docs/telemetry.md).

use andon_telemetry::{Counts, Event, EventKind, MINUTE_MS};
use serde::Serialize;
use sqlx::any::AnyRow;

use crate::error::Op;
use crate::read::get;
use crate::{Store, StoreError};

/// A stored event with where it sits in the ledger.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEvent {
    /// The ledger entry of its batch.
    pub ledger_index: u64,
    /// Its position in the batch.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

/// Filters for searching events; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct TelemetryFilter {
    /// Application.
    pub application: Option<String>,
    /// Event kind.
    pub kind: Option<EventKind>,
    /// Reporting source.
    pub source: Option<String>,
    /// One batch (its ledger index).
    pub batch: Option<u64>,
    /// At or after (Unix ms).
    pub since_ms: Option<i64>,
    /// Before (Unix ms).
    pub until_ms: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

const EVENT_COLUMNS: &str = "ledger_idx, seq, kind, at, source, application, environment, actor, count, status_4xx, status_5xx, deployment, detail";

fn event_row(r: &AnyRow) -> Result<StoredEvent, StoreError> {
    let kind: String = get(r, "kind")?;
    let n = |c: &str| get::<i64>(r, c).map(|v| v.max(0) as u64);
    Ok(StoredEvent {
        ledger_index: n("ledger_idx")?,
        seq: n("seq")?,
        event: Event {
            kind: EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
                what: "telemetry_events.kind".into(),
                detail: kind.clone(),
            })?,
            at: get(r, "at")?,
            source: get(r, "source")?,
            application: get(r, "application")?,
            environment: get(r, "environment")?,
            actor: get(r, "actor")?,
            count: n("count")?,
            status_4xx: n("status_4xx")?,
            status_5xx: n("status_5xx")?,
            deployment: get(r, "deployment")?,
            detail: get(r, "detail")?,
        },
    })
}

impl Store {
    /// Failed and successful sign-ins a source reported for an application (or for none)
    /// in the minutes from the one holding `from` to the one holding `to`, both included:
    /// `(failures, successes)`. Read from the per-minute sums, so a window costs a few
    /// dozen rows however busy the source.
    pub async fn login_counts(
        &self,
        source: &str,
        application: Option<&str>,
        from: i64,
        to: i64,
    ) -> Result<(u64, u64), StoreError> {
        let rows = sqlx::query(
            "SELECT kind, CAST(SUM(count) AS BIGINT) AS n FROM telemetry_minutes \
             WHERE kind IN ('login.failure', 'login.success') AND application = $1 AND source = $2 AND minute >= $3 AND minute <= $4 \
             GROUP BY kind",
        )
        .bind(application.unwrap_or("").to_owned())
        .bind(source.to_owned())
        .bind(from.div_euclid(MINUTE_MS))
        .bind(to.div_euclid(MINUTE_MS))
        .fetch_all(&self.pool)
        .await
        .op("counting sign-ins")?;
        let (mut failures, mut successes) = (0, 0);
        for r in &rows {
            let kind: String = get(r, "kind")?;
            let n = get::<i64>(r, "n")?.max(0) as u64;
            if kind == "login.failure" {
                failures = n;
            } else {
                successes = n;
            }
        }
        Ok((failures, successes))
    }

    /// Requests and 5xx responses reported for an application in an environment in the
    /// minutes from the one holding `from` (included) to the one holding `to` (excluded).
    pub async fn http_counts(
        &self,
        application: &str,
        environment: &str,
        from: i64,
        to: i64,
    ) -> Result<Counts, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS requests, CAST(COALESCE(SUM(status_5xx), 0) AS BIGINT) AS errors \
             FROM telemetry_minutes WHERE kind = 'http.requests' AND application = $1 AND environment = $2 AND minute >= $3 AND minute < $4",
        )
        .bind(application.to_owned())
        .bind(environment.to_owned())
        .bind(from.div_euclid(MINUTE_MS))
        .bind(to.div_euclid(MINUTE_MS))
        .fetch_one(&self.pool)
        .await
        .op("counting HTTP responses")?;
        Ok(Counts {
            requests: get::<i64>(&row, "requests")?.max(0) as u64,
            errors: get::<i64>(&row, "errors")?.max(0) as u64,
        })
    }

    /// The planned windows `(start, end)` of the change records of an application and
    /// environment that cover `at` (rejected ones excluded).
    pub async fn planned_windows(
        &self,
        application: &str,
        environment: &str,
        at: i64,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        sqlx::query(
            "SELECT planned_start, planned_end FROM changes \
             WHERE application = $1 AND environment = $2 AND planned_start <= $3 AND planned_end >= $3 AND status <> 'rejected'",
        )
        .bind(application.to_owned())
        .bind(environment.to_owned())
        .bind(at)
        .fetch_all(&self.pool)
        .await
        .op("reading planned change windows")?
        .iter()
        .map(|r| Ok((get(r, "planned_start")?, get(r, "planned_end")?)))
        .collect()
    }

    /// Whether an alert of this kind about this subject was raised at or after `since`
    /// (Unix ms): the rules raise one alert per subject and window.
    pub async fn alert_raised_since(
        &self,
        kind: &str,
        subject: &str,
        since: i64,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM alerts WHERE kind = $1 AND subject = $2 AND created_at >= $3",
        )
        .bind(kind.to_owned())
        .bind(subject.to_owned())
        .bind(since)
        .fetch_one(&self.pool)
        .await
        .op("looking for an alert")?;
        Ok(get::<i64>(&row, "n")? > 0)
    }

    /// Stored events, newest first (one batch: in batch order).
    pub async fn telemetry_events(
        &self,
        f: &TelemetryFilter,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM telemetry_events WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut texts = Vec::new();
        let mut ints = Vec::new();
        // Text binds first, then integers: placeholders are numbered in that order.
        for (col, v) in [
            ("application", f.application.clone()),
            ("kind", f.kind.map(|k| k.as_str().to_owned())),
            ("source", f.source.clone()),
        ] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} = {}", next()));
                texts.push(v);
            }
        }
        for (cond, v) in [
            ("ledger_idx =", f.batch.map(|b| b as i64)),
            ("at >=", f.since_ms),
            ("at <", f.until_ms),
        ] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {cond} {}", next()));
                ints.push(v);
            }
        }
        sql.push_str(if f.batch.is_some() {
            " ORDER BY seq"
        } else {
            " ORDER BY at DESC, ledger_idx DESC, seq DESC"
        });
        sql.push_str(&format!(" LIMIT {}", f.limit.clamp(1, 10_000)));
        let mut q = self.search(sql);
        for t in texts {
            q = q.bind(t);
        }
        for i in ints {
            q = q.bind(i);
        }
        q.fetch_all(&self.pool)
            .await
            .op("searching telemetry")?
            .iter()
            .map(event_row)
            .collect()
    }
}
