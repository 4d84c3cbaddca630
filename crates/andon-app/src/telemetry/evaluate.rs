//! The telemetry rules (docs/telemetry.md), one function per family, run over what one
//! batch touched. Incremental: each rule reads only the window of the events the batch
//! brought (indexed range queries), never the whole history.

use std::collections::BTreeMap;

use andon_domain::change::Alert;
use andon_store::Store;
use andon_telemetry::{
    ConfigChangeRule, ErrorSpikeRule, Event, EventKind, LoginFailureRule, MaintenanceRule, Rules,
};

use crate::alerts::{NewAlert, raise_all};
use crate::input::{is_production, rfc3339};
use crate::{App, AppError};

/// The subject of an alert about one event: its batch and position.
fn event_ref(batch: u64, seq: usize) -> String {
    format!("telemetry:{batch}#{seq}")
}

/// The link to the batch's events.
fn batch_link(batch: u64) -> String {
    format!("/v1/telemetry?batch={batch}")
}

/// An alert about event `e`: its application and environment.
fn about(
    kind: &str,
    severity: &str,
    e: &Event,
    subject: String,
    message: String,
    links: Vec<String>,
) -> NewAlert {
    NewAlert {
        kind: kind.into(),
        severity: severity.into(),
        application: e.application.clone(),
        environment: e.environment.clone(),
        subject,
        message,
        links,
        suspect: None,
    }
}

/// Runs every enabled rule over what the batch at `batch` touched and raises the alerts
/// they call for, each a ledger entry; one batch at a time, so two batches do not raise the
/// same alert twice.
pub(super) async fn evaluate(
    app: &App,
    batch: u64,
    events: &[Event],
) -> Result<Vec<Alert>, AppError> {
    let rules: &Rules = &app.config().telemetry_rules;
    let _one_at_a_time = app.0.telemetry_lock.lock().await;
    let store = app.store();
    let now = jiff::Timestamp::now().as_millisecond();
    let mut raised = Vec::new();
    if rules.login_failures.enabled {
        login_failures(
            store,
            &rules.login_failures,
            batch,
            events,
            now,
            &mut raised,
        )
        .await?;
    }
    if rules.config_change.enabled {
        config_changes(store, &rules.config_change, batch, events, &mut raised).await?;
    }
    if rules.maintenance.enabled {
        maintenance(store, &rules.maintenance, batch, events, &mut raised).await?;
    }
    if rules.error_spike.enabled {
        error_spikes(store, &rules.error_spike, batch, events, &mut raised).await?;
    }
    if raised.is_empty() {
        return Ok(Vec::new());
    }
    let mut alerts = raise_all(app, raised).await?;
    for a in &mut alerts {
        a.created_at = now;
    }
    Ok(alerts)
}

/// The latest failure of each (source, application) that reported failures.
fn latest_failures(events: &[Event]) -> BTreeMap<(&str, Option<&str>), &Event> {
    let mut latest: BTreeMap<(&str, Option<&str>), &Event> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == EventKind::LoginFailure) {
        let key = (e.source.as_str(), e.application.as_deref());
        if latest.get(&key).is_none_or(|l| l.at < e.at) {
            latest.insert(key, e);
        }
    }
    latest
}

/// Failed sign-ins: only a failure can push a window over the ratio, so only the (source,
/// application) pairs that reported failures are looked at, each over the window ending at
/// its latest failure; once per window.
async fn login_failures(
    store: &Store,
    rule: &LoginFailureRule,
    batch: u64,
    events: &[Event],
    now: i64,
    raised: &mut Vec<NewAlert>,
) -> Result<(), AppError> {
    for ((source, application), e) in latest_failures(events) {
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
        let mut a = about(
            "login_failures",
            "high",
            e,
            subject,
            format!(
                "{source}{}: {why}",
                application.map(|a| format!(" for {a}")).unwrap_or_default()
            ),
            vec![batch_link(batch)],
        );
        a.environment = None;
        raised.push(a);
    }
    Ok(())
}

/// What a configuration change was to, in words.
fn changed(e: &Event) -> String {
    match (&e.application, &e.environment) {
        (Some(a), Some(env)) => format!("{a} in {env}"),
        (Some(a), None) => a.clone(),
        _ => "an unnamed application".into(),
    }
}

/// Configuration, security-group and IAM changes: each must be explained by a deployment
/// of its application to its environment (the one it names, or one within the rule's
/// minutes).
async fn config_changes(
    store: &Store,
    rule: &ConfigChangeRule,
    batch: u64,
    events: &[Event],
    raised: &mut Vec<NewAlert>,
) -> Result<(), AppError> {
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
        let message = format!(
            "{} by {} ({}) at {}{}: no pipeline deployment of {} within {} minutes explains it",
            e.kind,
            e.actor.as_deref().unwrap_or("an unknown actor"),
            e.source,
            rfc3339(Some(e.at)).unwrap_or_default(),
            e.detail
                .as_deref()
                .map(|d| format!(" [{d}]"))
                .unwrap_or_default(),
            changed(e),
            rule.match_minutes
        );
        raised.push(about(
            "unplanned_config_change",
            "high",
            e,
            event_ref(batch, seq),
            message,
            vec![batch_link(batch)],
        ));
    }
    Ok(())
}

/// Maintenance switches: inside the planned window of a change record, or alerted.
async fn maintenance(
    store: &Store,
    rule: &MaintenanceRule,
    batch: u64,
    events: &[Event],
    raised: &mut Vec<NewAlert>,
) -> Result<(), AppError> {
    for (seq, e) in events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind.is_maintenance())
    {
        let (Some(a), Some(env)) = (&e.application, &e.environment) else {
            continue;
        };
        let windows = store.planned_windows(a, env, e.at).await?;
        if rule.scheduled(e.at, &windows) {
            continue;
        }
        let message = format!(
            "{} for {a} in {env} at {} by {}: no change record scheduled maintenance then",
            e.kind,
            rfc3339(Some(e.at)).unwrap_or_default(),
            e.actor.as_deref().unwrap_or("an unknown actor"),
        );
        raised.push(about(
            "unscheduled_maintenance",
            "medium",
            e,
            event_ref(batch, seq),
            message,
            vec![batch_link(batch)],
        ));
    }
    Ok(())
}

/// For each application and environment the batch reported traffic for: the span of that
/// traffic, and its first event.
fn traffic_spans(events: &[Event]) -> BTreeMap<(&str, &str), (i64, i64, &Event)> {
    let mut spans: BTreeMap<(&str, &str), (i64, i64, &Event)> = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == EventKind::HttpRequests) {
        let (Some(a), Some(env)) = (e.application.as_deref(), e.environment.as_deref()) else {
            continue;
        };
        let s = spans.entry((a, env)).or_insert((e.at, e.at, e));
        s.0 = s.0.min(e.at);
        s.1 = s.1.max(e.at);
    }
    spans
}

/// 5xx spikes: for each application and environment the batch reported traffic for, the
/// deployments whose following span the traffic falls in; a spike after one marks it
/// suspect (once per deployment).
async fn error_spikes(
    store: &Store,
    rule: &ErrorSpikeRule,
    batch: u64,
    events: &[Event],
    raised: &mut Vec<NewAlert>,
) -> Result<(), AppError> {
    for ((a, env), (from, to, e)) in traffic_spans(events) {
        for d in store
            .deployments_between(a, env, from - rule.after_ms(), to)
            .await?
        {
            if d.suspect_at.is_some() || store.alert_raised_since("error_spike", &d.id, 0).await? {
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
            let mut alert = about(
                "error_spike",
                severity,
                e,
                d.id.clone(),
                message,
                vec![format!("/v1/deployments/{}", d.id), batch_link(batch)],
            );
            alert.environment = Some(env.to_owned());
            alert.suspect = Some((d.id.clone(), to.min(end)));
            raised.push(alert);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(
        kind: EventKind,
        at: i64,
        source: &str,
        app: Option<&str>,
        env: Option<&str>,
    ) -> Event {
        Event {
            kind,
            at,
            source: source.into(),
            application: app.map(str::to_owned),
            environment: env.map(str::to_owned),
            actor: None,
            count: 1,
            status_4xx: 0,
            status_5xx: 0,
            deployment: None,
            detail: None,
        }
    }

    #[test]
    fn the_latest_failure_of_each_source_and_application_is_looked_at() {
        let events = vec![
            event(EventKind::LoginFailure, 10, "idp", Some("shop"), None),
            event(EventKind::LoginFailure, 30, "idp", Some("shop"), None),
            event(EventKind::LoginFailure, 20, "idp", None, None),
            event(EventKind::LoginSuccess, 40, "idp", Some("shop"), None),
        ];
        let latest = latest_failures(&events);
        assert_eq!(latest.len(), 2);
        assert_eq!(latest[&("idp", Some("shop"))].at, 30);
        assert_eq!(latest[&("idp", None)].at, 20);
    }

    #[test]
    fn traffic_is_spanned_per_application_and_environment() {
        let events = vec![
            event(
                EventKind::HttpRequests,
                50,
                "lb",
                Some("shop"),
                Some("prod"),
            ),
            event(
                EventKind::HttpRequests,
                20,
                "lb",
                Some("shop"),
                Some("prod"),
            ),
            event(
                EventKind::HttpRequests,
                90,
                "lb",
                Some("shop"),
                Some("prod"),
            ),
            event(EventKind::HttpRequests, 70, "lb", Some("shop"), None),
            event(
                EventKind::LoginFailure,
                80,
                "lb",
                Some("shop"),
                Some("prod"),
            ),
        ];
        let spans = traffic_spans(&events);
        assert_eq!(spans.len(), 1);
        let (from, to, first) = spans[&("shop", "prod")];
        assert_eq!((from, to, first.at), (20, 90, 50));
    }

    #[test]
    fn a_change_is_described_by_what_it_names() {
        let mut e = event(
            EventKind::ConfigChange,
            0,
            "cloud",
            Some("shop"),
            Some("prod"),
        );
        assert_eq!(changed(&e), "shop in prod");
        e.environment = None;
        assert_eq!(changed(&e), "shop");
        e.application = None;
        assert_eq!(changed(&e), "an unnamed application");
        assert_eq!(event_ref(7, 2), "telemetry:7#2");
    }
}
