//! Outbound notifications: change events POSTed to an ITSM tool (or anything listening),
//! signed with HMAC-SHA256 like GitHub's webhooks, retried with backoff, and logged.
//!
//! The dispatcher reads the ledger after the last entry it read (its cursor is stored), so
//! every change event is queued once even across restarts, then delivers what is due:
//! at least once, in ledger order per attempt round. The body carries the fields an ITSM
//! change record maps (ServiceNow style: number, short description, description, type,
//! state, risk, assignment group, planned start and end, CI, links). Access grants,
//! expiries and revocations (for an access system to act on) and alerts go the same way,
//! with a generic body; `slack` format sends every event as a Slack message (`text`).

use std::time::Duration;

use andon_domain::LedgerEntry;
use andon_store::Attempt;
use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::input::rfc3339;
use crate::{App, AppError};

/// The header carrying the body's HMAC-SHA256 (`sha256=<hex>`).
pub const SIGNATURE_HEADER: &str = "X-Andon-Signature-256";

/// Ledger entries read per round.
const READ_BATCH: u32 = 500;

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The events an entry makes: (event, subject change, alert or request id). A deployment
/// that bypassed the gate makes two: the change deployed, and its alert.
fn events_of(e: &LedgerEntry) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = event_of(e).into_iter().collect();
    if e.kind.as_str() == "deployment.recorded"
        && let Some(id) = e.body["alert"]["id"].as_str()
    {
        out.push(("alert.raised", id.to_owned()));
    }
    out
}

/// The main event an entry makes, if any.
fn event_of(e: &LedgerEntry) -> Option<(&'static str, String)> {
    let b = &e.body;
    let s = |v: &Value| v.as_str().map(str::to_owned);
    match e.kind.as_str() {
        "change.created" => Some(("change.created", s(&b["id"])?)),
        "change.approval" => Some((
            if b["approve"] == true {
                "change.approved"
            } else {
                "change.rejected"
            },
            s(&b["change"])?,
        )),
        "deployment.recorded" => Some(("change.deployed", s(&b["deployment"]["change"])?)),
        "alert.raised" if b["kind"] == "emergency_review_overdue" => {
            Some(("change.review_overdue", s(&b["subject"])?))
        }
        "alert.raised" => Some(("alert.raised", s(&b["id"])?)),
        "access.granted" => Some(("access.granted", s(&b["request"])?)),
        "access.revoked" => Some(("access.revoked", s(&b["request"])?)),
        "access.expired" => Some(("access.expired", s(&b["request"])?)),
        _ => None,
    }
}

/// One line saying what happened, for chat.
fn summary(e: &LedgerEntry, event: &str, id: &str) -> String {
    let b = &e.body;
    let s = |v: &Value| v.as_str().unwrap_or("?").to_owned();
    match event {
        "alert.raised" => {
            // A gate bypass carries its alert inside the deployment entry.
            let a = if b["alert"].is_object() {
                &b["alert"]
            } else {
                b
            };
            format!(
                "[{}] {} ({}): {}",
                s(&a["severity"]),
                s(&a["kind"]),
                a["application"].as_str().unwrap_or("-"),
                s(&a["message"])
            )
        }
        "access.granted" => format!(
            "{} granted {} {} access to {} in {} until {} ({}, {}: {})",
            s(&b["approved_by"]),
            s(&b["grant"]["holder"]),
            s(&b["grant"]["level"]),
            s(&b["grant"]["application"]),
            s(&b["grant"]["environment"]),
            s(&b["grant"]["expires_at"]),
            id,
            s(&b["grant"]["ticket"]),
            s(&b["grant"]["reason"])
        ),
        "access.revoked" | "access.expired" => format!(
            "{} {} access of {} to {} in {} {} ({id})",
            if event == "access.revoked" {
                "revoked:"
            } else {
                "expired:"
            },
            s(&b["grant"]["level"]),
            s(&b["grant"]["holder"]),
            s(&b["grant"]["application"]),
            s(&b["grant"]["environment"]),
            if event == "access.revoked" {
                format!("by {}", s(&b["revoked_by"]))
            } else {
                "ended".to_owned()
            }
        ),
        _ => format!("{event} {id}"),
    }
}

/// The body sent for an event: the change record for change events, the entry's fact for
/// access and alert events; in `slack` format, a Slack message. `None` when there is
/// nothing to tell (the change it names does not exist); an error when the database could
/// not be read, so that the event is tried again rather than skipped.
async fn body(
    app: &App,
    idx: u64,
    e: &LedgerEntry,
    event: &str,
    id: &str,
) -> Result<Option<Value>, AppError> {
    let slack = app.0.config.notify_format == NotifyFormat::Slack;
    if !event.starts_with("change.") {
        if slack {
            return Ok(Some(json!({"text": summary(e, event, id)})));
        }
        return Ok(Some(json!({
            "event": event,
            "delivery": format!("andon-{idx}"),
            "ledger_index": idx,
            "occurred_at": e.time,
            "actor": e.actor,
            "subject": id,
            "summary": summary(e, event, id),
            "detail": e.body,
        })));
    }
    let Some(generic) = change_body(app, idx, e, event, id).await? else {
        return Ok(None);
    };
    if slack {
        return Ok(Some(json!({"text": format!(
            "{event} {id}: {}",
            generic["change"]["short_description"].as_str().unwrap_or("")
        )})));
    }
    Ok(Some(generic))
}

/// The body sent for an event on a change.
async fn change_body(
    app: &App,
    idx: u64,
    e: &LedgerEntry,
    event: &str,
    id: &str,
) -> Result<Option<Value>, AppError> {
    let Some(c) = app.store().change(id).await? else {
        return Ok(None);
    };
    let rfc = crate::changes::rfc::rfc_document(app, &c).await?;
    let state = match event {
        "change.created" => c.status.as_str(),
        "change.approved" => "approved",
        "change.rejected" => "rejected",
        "change.deployed" => "deployed",
        _ => c.status.as_str(),
    };
    Ok(Some(json!({
        "event": event,
        "delivery": format!("andon-{idx}"),
        "ledger_index": idx,
        "occurred_at": e.time,
        "actor": e.actor,
        "change": {
            "number": c.id,
            "short_description": format!(
                "{} {} to {} ({} change)",
                c.application, c.artifact_digest, c.environment, c.class.as_str()
            ),
            "description": crate::changes::markdown::markdown(&rfc),
            "type": c.class.as_str(),
            "state": state,
            "risk": c.fields.risk,
            "backout_plan": c.fields.rollback_plan,
            "justification": c.classification.reasons,
            "assignment_group": c.classification.approver_group.clone().or(rfc["affected"]["team"].as_str().map(str::to_owned)),
            "requested_by": c.requested_by,
            "planned_start": c.fields.planned_start,
            "planned_end": c.fields.planned_end,
            "cmdb_ci": c.application,
            "environment": c.environment,
            "emergency_reason": c.emergency_reason,
            "review_due_at": rfc3339(c.review_due_at),
            "approvals_required": c.classification.approvals,
            "approved_by": c.approved_by(),
            "links": rfc["links"],
        },
        "detail": e.body,
    })))
}

/// How notification bodies are shaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotifyFormat {
    /// Andon's JSON bodies (a change record for change events).
    #[default]
    Json,
    /// A Slack incoming-webhook message: `{"text": ...}`.
    Slack,
}

/// Reads new ledger entries and queues their events. The cursor moves past an entry only
/// with its events queued: when building one fails, nothing of that read is queued and the
/// next round starts from the same place (at least once, never skipped).
async fn enqueue(app: &App) -> Result<(), AppError> {
    let store = app.store();
    loop {
        let cursor = store.notify_cursor().await?;
        let entries = store.entries_after(cursor, READ_BATCH).await?;
        let Some(last) = entries.last().map(|e| e.0) else {
            return Ok(());
        };
        let mut queued = Vec::new();
        for (idx, _, bytes) in &entries {
            let Ok(e) = serde_json::from_slice::<LedgerEntry>(bytes) else {
                continue;
            };
            for (event, id) in events_of(&e) {
                if let Some(b) = body(app, *idx, &e, event, &id).await? {
                    queued.push((*idx, event.to_owned(), id, b.to_string()));
                }
            }
        }
        store
            .enqueue_notifications(&queued, last, jiff::Timestamp::now().as_millisecond())
            .await?;
        if entries.len() < READ_BATCH as usize {
            return Ok(());
        }
    }
}

/// The dispatcher's HTTP client: every answer is an outcome, ten seconds at most.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs one body and says how it went.
fn post(
    agent: &ureq::Agent,
    url: &str,
    secret: Option<&str>,
    event: &str,
    delivery: &str,
    body: &[u8],
) -> Attempt {
    let mut req = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "andon-notify")
        .header("X-Andon-Event", event)
        .header("X-Andon-Delivery", delivery);
    if let Some(s) = secret {
        req = req.header(SIGNATURE_HEADER, &signature(s, body));
    }
    let at = jiff::Timestamp::now().as_millisecond();
    match req.send(body) {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let ok = (200..300).contains(&status);
            Attempt {
                status: Some(status),
                error: (!ok).then(|| format!("the receiver answered {status}")),
                delivered: ok,
                at,
                retry_at: at,
                give_up: false,
            }
        }
        Err(e) => Attempt {
            status: None,
            error: Some(e.to_string()),
            delivered: false,
            at,
            retry_at: at,
            give_up: false,
        },
    }
}

/// Delivers what is due, once each this round.
async fn deliver(app: &App, agent: &ureq::Agent, url: &str) -> Result<(), andon_store::StoreError> {
    let config = &app.0.config;
    let now = jiff::Timestamp::now().as_millisecond();
    for n in app.store().due_notifications(now, 100).await? {
        let (url, secret) = (url.to_owned(), config.notify_secret.clone());
        let (event, delivery) = (n.event.clone(), format!("andon-{}", n.ledger_index));
        let body = n.body.clone().into_bytes();
        let agent = agent.clone();
        let mut attempt = tokio::task::spawn_blocking(move || {
            post(&agent, &url, secret.as_deref(), &event, &delivery, &body)
        })
        .await
        .unwrap_or_else(|e| Attempt {
            status: None,
            error: Some(e.to_string()),
            delivered: false,
            at: now,
            retry_at: now,
            give_up: false,
        });
        if !attempt.delivered {
            // Exponential backoff from the configured base, at most an hour apart.
            let base = config.notify_retry_base.as_millis() as i64;
            let wait = (base << n.attempts.min(20)).min(3_600_000);
            attempt.retry_at = attempt.at + wait;
            attempt.give_up = n.attempts + 1 >= config.notify_max_attempts;
            tracing::warn!(
                event = %n.event, delivery = n.ledger_index, attempts = n.attempts + 1,
                error = attempt.error.as_deref().unwrap_or(""), "notification not delivered"
            );
        }
        app.store()
            .notification_attempted(n.ledger_index, &n.event, &attempt)
            .await?;
    }
    Ok(())
}

/// Runs the dispatcher until the process ends.
pub async fn run(app: App, url: String) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let agent = agent();
    loop {
        tick.tick().await;
        if let Err(e) = enqueue(&app).await {
            tracing::warn!(error = %e, "queueing notifications failed");
            continue;
        }
        if let Err(e) = deliver(&app, &agent, &url).await {
            tracing::warn!(error = %e, "delivering notifications failed");
        }
    }
}
