//! Security telemetry (docs/telemetry.md): `POST /v1/telemetry` takes a batch of events,
//! ledgers its digest, stores the events and runs the rules over what the batch touched;
//! `GET /v1/telemetry` searches stored events; `GET /v1/telemetry/rules` shows the rules.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use andon_domain::change::Alert;
use andon_domain::{EntryKind, Role};
use andon_store::{ChangeEffect, Effect, StoredEvent, TelemetryFilter};
use andon_telemetry::{Event, EventKind, Rules};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::query_error;
use andon_app::Fact;
use andon_app::input::instant;
use andon_app::input::random_id;
use andon_app::input::{is_production, rfc3339};

/// `POST /v1/telemetry`: a JSON array of events, or one event per line.
pub(crate) async fn ingest(
    State(app): State<App>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Pipeline, Role::Admin])?;
    let body = body.map_err(|e| crate::routes::body_error(&app, e))?;
    let events = andon_telemetry::parse_batch(&body)
        .map_err(|e| ApiError::bad_request("invalid_event", e.to_string()))?;
    let known: HashSet<String> = app
        .store()
        .applications()
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    let mut checked = HashSet::new();
    for (i, e) in events.iter().enumerate() {
        if let Some(a) = &e.application
            && checked.insert(a.as_str())
        {
            if !known.contains(a) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_application",
                    format!("event {i}: no application {a}"),
                ));
            }
            caller.require_application(a, "report telemetry for")?;
        }
    }
    let digest = andon_telemetry::batch_digest(&events);
    let sources: BTreeSet<&str> = events.iter().map(|e| e.source.as_str()).collect();
    let first = events.iter().map(|e| e.at).min().unwrap_or_default();
    let last = events.iter().map(|e| e.at).max().unwrap_or_default();
    let body = json!({
        "count": events.len(), "digest": digest, "sources": sources,
        "first_at": rfc3339(Some(first)), "last_at": rfc3339(Some(last)),
    });
    let events = Arc::new(events);
    let receipt = app
        .append(Fact::admin(
            EntryKind::TelemetryBatch,
            &caller.name,
            body,
            Effect::Telemetry(events.clone()),
        ))
        .await?;
    let alerts = evaluate(&app, receipt.ledger_index, &events).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "ledger_index": receipt.ledger_index,
            "accepted": events.len(),
            "digest": digest,
            "alerts": alerts,
        })),
    ))
}

/// The subject of an alert about one event: its batch and position.
fn event_ref(batch: u64, seq: usize) -> String {
    format!("telemetry:{batch}#{seq}")
}

fn alert(
    kind: &str,
    severity: &str,
    e: &Event,
    subject: String,
    message: String,
    links: Vec<String>,
) -> Alert {
    Alert {
        id: String::new(),
        ledger_index: 0,
        kind: kind.into(),
        severity: severity.into(),
        application: e.application.clone(),
        environment: e.environment.clone(),
        subject,
        message,
        created_at: 0,
        links,
        ..Default::default()
    }
}

/// Runs every enabled rule over what the batch at `batch` touched and raises the alerts
/// they call for, each a ledger entry. Incremental: each rule reads only the window of the
/// events the batch brought (indexed range queries), never the whole history.
async fn evaluate(app: &App, batch: u64, events: &[Event]) -> Result<Vec<Alert>, ApiError> {
    let rules: &Rules = &app.config().telemetry_rules;
    let _one_at_a_time = app.0.telemetry_lock.lock().await;
    let store = app.store();
    let now = jiff::Timestamp::now().as_millisecond();
    let mut raised: Vec<(Alert, Option<(String, i64)>)> = Vec::new();

    // Failed sign-ins: only a failure can push a window over the ratio, so only the
    // (source, application) pairs that reported failures are looked at, each over the
    // window ending at its latest failure.
    if rules.login_failures.enabled {
        let mut latest: BTreeMap<(&str, Option<&str>), &Event> = BTreeMap::new();
        for e in events.iter().filter(|e| e.kind == EventKind::LoginFailure) {
            let key = (e.source.as_str(), e.application.as_deref());
            if latest.get(&key).is_none_or(|l| l.at < e.at) {
                latest.insert(key, e);
            }
        }
        let rule = &rules.login_failures;
        for ((source, application), e) in latest {
            let (failures, successes) = store
                .login_counts(source, application, e.at - rule.window_ms(), e.at)
                .await?;
            let Some(why) = rule.check(failures, successes) else {
                continue;
            };
            let subject = format!("{source}/{}", application.unwrap_or("-"));
            if store
                .alert_raised_since("login_failures", &subject, now - rule.window_ms())
                .await?
            {
                continue;
            }
            let mut a = alert(
                "login_failures",
                "high",
                e,
                subject,
                format!(
                    "{source}{}: {why}",
                    application.map(|a| format!(" for {a}")).unwrap_or_default()
                ),
                vec![format!("/v1/telemetry?batch={batch}")],
            );
            a.environment = None;
            raised.push((a, None));
        }
    }

    // Configuration, security-group and IAM changes: each must be explained by a
    // deployment of its application to its environment.
    if rules.config_change.enabled {
        let rule = &rules.config_change;
        for (seq, e) in events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind.is_config())
        {
            let explained = match (&e.application, &e.environment, &e.deployment) {
                (Some(a), env, Some(d)) => store.deployment(d).await?.is_some_and(|d| {
                    &d.application == a && env.as_ref().is_none_or(|env| &d.environment == env)
                }),
                (Some(a), Some(env), None) => !store
                    .deployments_between(a, env, e.at - rule.match_ms(), e.at + rule.match_ms())
                    .await?
                    .is_empty(),
                _ => false,
            };
            if explained {
                continue;
            }
            let what = match (&e.application, &e.environment) {
                (Some(a), Some(env)) => format!("{a} in {env}"),
                (Some(a), None) => a.clone(),
                _ => "an unnamed application".into(),
            };
            let message = format!(
                "{} by {} ({}) at {}{}: no pipeline deployment of {what} within {} minutes explains it",
                e.kind,
                e.actor.as_deref().unwrap_or("an unknown actor"),
                e.source,
                rfc3339(Some(e.at)).unwrap_or_default(),
                e.detail
                    .as_deref()
                    .map(|d| format!(" [{d}]"))
                    .unwrap_or_default(),
                rule.match_minutes
            );
            raised.push((
                alert(
                    "unplanned_config_change",
                    "high",
                    e,
                    event_ref(batch, seq),
                    message,
                    vec![format!("/v1/telemetry?batch={batch}")],
                ),
                None,
            ));
        }
    }

    // Maintenance switches: inside the planned window of a change record, or alerted.
    if rules.maintenance.enabled {
        for (seq, e) in events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind.is_maintenance())
        {
            let (Some(a), Some(env)) = (&e.application, &e.environment) else {
                continue;
            };
            let windows = store.planned_windows(a, env, e.at).await?;
            if rules.maintenance.scheduled(e.at, &windows) {
                continue;
            }
            let message = format!(
                "{} for {a} in {env} at {} by {}: no change record scheduled maintenance then",
                e.kind,
                rfc3339(Some(e.at)).unwrap_or_default(),
                e.actor.as_deref().unwrap_or("an unknown actor"),
            );
            raised.push((
                alert(
                    "unscheduled_maintenance",
                    "medium",
                    e,
                    event_ref(batch, seq),
                    message,
                    vec![format!("/v1/telemetry?batch={batch}")],
                ),
                None,
            ));
        }
    }

    // 5xx spikes: for each application and environment the batch reported traffic for, the
    // deployments whose following span the traffic falls in.
    if rules.error_spike.enabled {
        let rule = &rules.error_spike;
        let mut spans: BTreeMap<(&str, &str), (i64, i64, &Event)> = BTreeMap::new();
        for e in events.iter().filter(|e| e.kind == EventKind::HttpRequests) {
            let (Some(a), Some(env)) = (e.application.as_deref(), e.environment.as_deref()) else {
                continue;
            };
            let s = spans.entry((a, env)).or_insert((e.at, e.at, e));
            s.0 = s.0.min(e.at);
            s.1 = s.1.max(e.at);
        }
        for ((a, env), (from, to, e)) in spans {
            for d in store
                .deployments_between(a, env, from - rule.after_ms(), to)
                .await?
            {
                if d.suspect_at.is_some()
                    || store.alert_raised_since("error_spike", &d.id, 0).await?
                {
                    continue;
                }
                let end = d.deployed_at + rule.after_ms();
                let after = store.http_counts(a, env, d.deployed_at, end).await?;
                let before = store
                    .http_counts(a, env, d.deployed_at - rule.after_ms(), d.deployed_at)
                    .await?;
                let Some(why) = rule.check(after, before) else {
                    continue;
                };
                let severity = if d.production || is_production(env) {
                    "high"
                } else {
                    "medium"
                };
                let message = format!(
                    "deployment {} of {} to {env} is suspect: {why}",
                    d.id, d.artifact_name
                );
                let mut a = alert(
                    "error_spike",
                    severity,
                    e,
                    d.id.clone(),
                    message,
                    vec![
                        format!("/v1/deployments/{}", d.id),
                        format!("/v1/telemetry?batch={batch}"),
                    ],
                );
                a.environment = Some(env.to_owned());
                raised.push((a, Some((d.id.clone(), to.min(end)))));
            }
        }
    }

    if raised.is_empty() {
        return Ok(Vec::new());
    }
    let mut facts = Vec::with_capacity(raised.len());
    let mut alerts = Vec::with_capacity(raised.len());
    for (mut a, suspect) in raised {
        a.id = random_id("A")?;
        let mut body =
            serde_json::to_value(&a).map_err(|e| ApiError::unavailable(e.to_string()))?;
        let effect = match suspect {
            Some((deployment, at)) => {
                body["suspect"] = json!(deployment);
                ChangeEffect::Suspect {
                    deployment,
                    at,
                    alert: a.clone(),
                }
            }
            None => ChangeEffect::Alert(a.clone()),
        };
        facts.push(Fact::admin(
            EntryKind::AlertRaised,
            "andon",
            body,
            Effect::Change(effect),
        ));
        alerts.push(a);
    }
    let receipts = app.append_all(facts).await?;
    for (a, r) in alerts.iter_mut().zip(&receipts) {
        a.ledger_index = r.ledger_index;
        a.created_at = now;
    }
    Ok(alerts)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct SearchQuery {
    application: Option<String>,
    kind: Option<String>,
    source: Option<String>,
    batch: Option<u64>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
}

/// `GET /v1/telemetry`: stored events, newest first; `?batch=` lists one batch in order,
/// whose canonical lines hash to the digest its ledger entry holds.
pub(crate) async fn search(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<StoredEvent>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let kind = match q.kind.as_deref() {
        Some(k) => Some(EventKind::parse(k).ok_or_else(|| {
            ApiError::bad_request("invalid_kind", format!("no telemetry event kind `{k}`"))
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
    Ok(Json(app.store().telemetry_events(&filter).await?))
}

/// `GET /v1/telemetry/rules`: the rules in force, with every parameter.
pub(crate) async fn rules(State(app): State<App>, _caller: Caller) -> Json<Rules> {
    Json(app.config().telemetry_rules.clone())
}
