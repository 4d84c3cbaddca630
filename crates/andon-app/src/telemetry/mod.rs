//! Security telemetry (docs/telemetry.md): a batch of events is ledgered by its digest,
//! stored, and the rules run over what it touched ([`evaluate`]); stored events are
//! searched; the rules in force are shown.

mod evaluate;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use andon_domain::query::telemetry::SearchQuery;
use andon_domain::{EntryKind, Role};
use andon_store::{Effect, StoredEvent, TelemetryFilter};
use andon_telemetry::{Event, EventKind, Rules};
use serde_json::{Value, json};

use crate::input::{instant, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError, ErrorKind};

/// Refuses a caller who may not report telemetry (pipelines and admins may). The HTTP
/// layer asks before it reads the body, so such a caller hears 403 whatever it sent.
pub fn may_ingest(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Pipeline, Role::Admin])
}

/// Refuses events about an application Andon does not know (`unknown_application`, 422)
/// or that the caller may not report for, each application checked at its first event.
fn check_applications(
    events: &[Event],
    known: &HashSet<String>,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut checked = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(a) = &e.application
            && checked.insert(a.as_str())
        {
            if !known.contains(a) {
                return Err(AppError::new(
                    ErrorKind::UnprocessableEntity,
                    "unknown_application",
                    format!("event {i}: no application {a}"),
                ));
            }
            actor.require_application(a, "report telemetry for")?;
        }
    }
    Ok(())
}

/// What the ledger entry of a batch holds: how many events, their digest, their sources
/// and the span they cover.
fn batch_entry(events: &[Event], digest: &str) -> Value {
    let sources: BTreeSet<&str> = events.iter().map(|e| e.source.as_str()).collect();
    let first = events.iter().map(|e| e.at).min().unwrap_or_default();
    let last = events.iter().map(|e| e.at).max().unwrap_or_default();
    json!({
        "count": events.len(), "digest": digest, "sources": sources,
        "first_at": rfc3339(Some(first)), "last_at": rfc3339(Some(last)),
    })
}

/// `POST /v1/telemetry`: `body` is a JSON array of events, or one event per line. Records
/// the batch, then raises the alerts the rules call for; answers its ledger index, how
/// many events were accepted, their digest and the alerts.
pub async fn ingest(app: &App, actor: &Actor, body: &[u8]) -> Result<Value, AppError> {
    may_ingest(actor)?;
    let events = andon_telemetry::parse_batch(body)
        .map_err(|e| AppError::bad_request("invalid_event", e.to_string()))?;
    let known: HashSet<String> = app
        .store()
        .applications()
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    check_applications(&events, &known, actor)?;
    let digest = andon_telemetry::batch_digest(&events);
    let entry = batch_entry(&events, &digest);
    let events = Arc::new(events);
    let receipt = app
        .append(Fact::admin(
            EntryKind::TelemetryBatch,
            actor,
            entry,
            Effect::Telemetry(events.clone()),
        ))
        .await?;
    let alerts = evaluate::evaluate(app, receipt.ledger_index, &events).await?;
    Ok(json!({
        "ledger_index": receipt.ledger_index,
        "accepted": events.len(),
        "digest": digest,
        "alerts": alerts,
    }))
}

/// `GET /v1/telemetry`: stored events, newest first; `batch` lists one batch in order,
/// whose canonical lines hash to the digest its ledger entry holds.
pub async fn search(
    app: &App,
    _actor: &Actor,
    q: SearchQuery,
) -> Result<Vec<StoredEvent>, AppError> {
    let kind = match q.kind.as_deref() {
        Some(k) => Some(EventKind::parse(k).ok_or_else(|| {
            AppError::bad_request("invalid_kind", format!("no telemetry event kind `{k}`"))
        })?),
        None => None,
    };
    let filter = TelemetryFilter {
        application: q.application,
        kind,
        source: q.source,
        batch: q.batch,
        since_ms: q.since.as_deref().map(instant).transpose()?,
        until_ms: q.until.as_deref().map(instant).transpose()?,
        limit: q
            .limit
            .unwrap_or(if q.batch.is_some() { 10_000 } else { 100 }),
    };
    Ok(app.store().telemetry_events(&filter).await?)
}

/// `GET /v1/telemetry/rules`: the rules in force, with every parameter.
pub fn rules(app: &App, _actor: &Actor) -> Rules {
    app.config().telemetry_rules.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(at: i64, source: &str, application: Option<&str>) -> Event {
        Event {
            kind: EventKind::LoginSuccess,
            at,
            source: source.into(),
            application: application.map(str::to_owned),
            environment: None,
            actor: None,
            count: 1,
            status_4xx: 0,
            status_5xx: 0,
            deployment: None,
            detail: None,
        }
    }

    fn pipeline(applications: &[&str]) -> Actor {
        Actor {
            name: "ci".into(),
            role: Role::Pipeline,
            applications: applications.iter().map(|a| (*a).to_owned()).collect(),
            groups: vec![],
            via: None,
            sso: None,
        }
    }

    #[test]
    fn each_application_is_known_and_in_scope() {
        let known: HashSet<String> = ["shop".to_owned(), "billing".to_owned()].into();
        let events = vec![
            event(0, "idp", None),
            event(1, "idp", Some("shop")),
            event(2, "idp", Some("billing")),
        ];
        assert!(check_applications(&events, &known, &pipeline(&["shop", "billing"])).is_ok());
        let e = check_applications(&events, &known, &pipeline(&["shop"])).unwrap_err();
        assert_eq!(e.code, "application_not_allowed");
        let unknown = vec![
            event(0, "idp", Some("shop")),
            event(1, "idp", Some("ghost")),
        ];
        let e = check_applications(&unknown, &known, &pipeline(&["shop"])).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnprocessableEntity);
        assert_eq!(e.message, "event 1: no application ghost");
    }

    #[test]
    fn a_batch_entry_sums_up_its_events() {
        let events = vec![
            event(60_000, "idp", None),
            event(0, "waf", None),
            event(1, "idp", None),
        ];
        let v = batch_entry(&events, "sha256:ab");
        assert_eq!(v["count"], 3);
        assert_eq!(v["digest"], "sha256:ab");
        assert_eq!(v["sources"], json!(["idp", "waf"]));
        assert_eq!(v["first_at"], "1970-01-01T00:00:00Z");
        assert_eq!(v["last_at"], "1970-01-01T00:01:00Z");
    }
}
