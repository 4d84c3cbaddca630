//! Runtime snapshots and drift (docs/access.md): an environment reports what runs; Andon
//! compares it with the deployments it recorded and alerts on what no allowed deployment
//! put there (naming the grants active when it appeared) and on what is missing.

use std::collections::{BTreeMap, HashSet};

use andon_domain::access::{AccessLevel, AccessRequest, Snapshot, Workload};
use andon_domain::api::SnapshotInput;
use andon_domain::change::Deployment;
use andon_domain::query::access::SnapshotsQuery;
use andon_domain::{ArtifactRef, EntryKind, Role};
use andon_store::{AccessEffect, Effect};
use serde_json::{Value, json};

use crate::alerts::{NewAlert, raise_all};
use crate::input::{check_environment, instant, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// The most workloads one snapshot may list.
const MAX_WORKLOADS: usize = 10_000;

/// Who held access to `environment` in a span, in words, for an alert.
pub fn grants_sentence(grants: &[AccessRequest]) -> String {
    if grants.is_empty() {
        return "no break-glass grant was active".into();
    }
    let each: Vec<String> = grants
        .iter()
        .map(|g| {
            format!(
                "{} held {} access ({}, {}: {}, approved by {})",
                g.requested_by,
                g.level.as_str(),
                g.id,
                g.ticket,
                g.reason,
                g.decided_by.as_deref().unwrap_or("?")
            )
        })
        .collect();
    format!("active grants: {}", each.join("; "))
}

/// Refuses a caller who may not report snapshots (admins and pipelines may), or an
/// environment name that is not one. The HTTP layer asks before it reads the body, so
/// such a caller hears 403 whatever it sent.
pub fn may_report(actor: &Actor, environment: &str) -> Result<(), AppError> {
    actor.require(&[Role::Admin, Role::Pipeline])?;
    check_environment(environment)
}

/// Refuses a snapshot of an application the caller may not report for, or that Andon does
/// not know; a pipeline must name one of its applications.
async fn check_scope(app: &App, actor: &Actor, application: Option<&str>) -> Result<(), AppError> {
    match application {
        Some(a) => {
            actor.require_application(a, "report what runs for")?;
            crate::access::known_application(app, a).await
        }
        None if actor.role == Role::Pipeline => Err(AppError::forbidden(
            "application_not_allowed",
            "a pipeline reports what runs for one of its applications: name it",
        )),
        None => Ok(()),
    }
}

/// The workloads by the digest they run, checked: at most [`MAX_WORKLOADS`]
/// (`too_many_workloads`), each named and with a pinned image (`invalid_workload`).
fn running(workloads: &[Workload]) -> Result<BTreeMap<String, Vec<&str>>, AppError> {
    if workloads.len() > MAX_WORKLOADS {
        return Err(AppError::bad_request(
            "too_many_workloads",
            format!("a snapshot lists at most {MAX_WORKLOADS} workloads"),
        ));
    }
    let mut running: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (i, w) in workloads.iter().enumerate() {
        if w.name.is_empty() || w.name.len() > 256 {
            return Err(AppError::bad_request(
                "invalid_workload",
                format!("workload {i}: a name is 1 to 256 characters"),
            ));
        }
        let r: ArtifactRef = w.image.parse().map_err(|e| {
            AppError::bad_request(
                "invalid_workload",
                format!("workload {i} ({}): {e}", w.name),
            )
        })?;
        running
            .entry(r.digest.to_string())
            .or_default()
            .push(w.name.as_str());
    }
    Ok(running)
}

/// The digests a snapshot lists (unparseable images left out).
fn digests_of(snapshot: &Snapshot) -> HashSet<String> {
    snapshot
        .workloads
        .iter()
        .filter_map(|w| w.image.parse::<ArtifactRef>().ok())
        .map(|r| r.digest.to_string())
        .collect()
}

/// What a snapshot is compared in: its environment, when it was taken, by whom, and the
/// previous snapshot of the same scope.
struct Report<'a> {
    environment: &'a str,
    application: Option<&'a str>,
    taken_at: i64,
    reported_by: &'a str,
    previous: Option<&'a Snapshot>,
}

/// The alert about `digest`, running as `names` though no allowed deployment put it
/// there, naming the grants that could have (write grants when there were any).
fn unauthorized_alert(
    r: &Report<'_>,
    digest: &str,
    names: &[&str],
    grants: &[AccessRequest],
) -> NewAlert {
    let environment = r.environment;
    let writers: Vec<AccessRequest> = grants
        .iter()
        .filter(|g| g.level == AccessLevel::Write)
        .cloned()
        .collect();
    let held = if writers.is_empty() { grants } else { &writers };
    let when = match r.previous {
        Some(p) => format!(
            "between the previous snapshot ({}) and this one",
            rfc3339(Some(p.taken_at)).unwrap_or_default()
        ),
        None => "when it was first seen".to_owned(),
    };
    NewAlert {
        kind: "unauthorized_change".into(),
        severity: "high".into(),
        application: r.application.map(str::to_owned),
        environment: Some(environment.to_owned()),
        subject: format!("{environment}:{digest}"),
        message: format!(
            "{} runs {digest}, which no allowed deployment put in {environment} (seen {}, reported by {}); {when}, {}",
            names.join(", "),
            rfc3339(Some(r.taken_at)).unwrap_or_default(),
            r.reported_by,
            grants_sentence(held)
        ),
        links: std::iter::once(format!("/v1/environments/{environment}/snapshots"))
            .chain(held.iter().map(|g| format!("/v1/access/requests/{}", g.id)))
            .collect(),
        suspect: None,
    }
}

/// Unauthorized: what runs though no allowed deployment put it there. Answers those
/// digests and the alerts to raise; what was already running and alerted is marked seen
/// again instead.
async fn unauthorized(
    app: &App,
    r: &Report<'_>,
    running: &BTreeMap<String, Vec<&str>>,
    alerts: &mut Vec<NewAlert>,
) -> Result<Vec<Value>, AppError> {
    let store = app.store();
    let digests: Vec<String> = running.keys().cloned().collect();
    let allowed = store.allowed_digests(r.environment, &digests).await?;
    let before = r.previous.map(digests_of).unwrap_or_default();
    let since = r.previous.map_or(r.taken_at, |p| p.taken_at);
    let grants = store
        .grants_during(r.environment, since, r.taken_at)
        .await?;
    let mut found = Vec::new();
    for (digest, names) in running {
        if allowed.contains(digest) {
            continue;
        }
        found.push(json!({"digest": digest, "workloads": names}));
        let subject = format!("{}:{digest}", r.environment);
        if before.contains(digest)
            && let Some(existing) = store.alert_about("unauthorized_change", &subject).await?
        {
            // Still running: the same alert, seen again.
            crate::alerts::update(app, "andon", &existing.id, "seen", None).await?;
            continue;
        }
        alerts.push(unauthorized_alert(r, digest, names, &grants));
    }
    Ok(found)
}

/// The alert about deployment `d`, current in `environment` but not running.
fn missing_alert(environment: &str, d: &Deployment, taken_at: i64) -> NewAlert {
    NewAlert {
        kind: "missing_deployment".into(),
        severity: "medium".into(),
        application: Some(d.application.clone()),
        environment: Some(environment.to_owned()),
        subject: d.id.clone(),
        message: format!(
            "{} deployed {}@{} to {environment} at {} ({}), but it is not running (snapshot of {})",
            d.recorded_by,
            d.artifact_name,
            d.artifact_digest,
            rfc3339(Some(d.deployed_at)).unwrap_or_default(),
            d.id,
            rfc3339(Some(taken_at)).unwrap_or_default()
        ),
        links: vec![
            format!("/v1/deployments/{}", d.id),
            format!("/v1/environments/{environment}/snapshots"),
        ],
        suspect: None,
    }
}

/// Missing: the current deployment of an application is not running. Answers those
/// deployments and the alerts to raise (once per deployment).
async fn missing(
    app: &App,
    r: &Report<'_>,
    running: &BTreeMap<String, Vec<&str>>,
    alerts: &mut Vec<NewAlert>,
) -> Result<Vec<Value>, AppError> {
    let store = app.store();
    let mut found = Vec::new();
    for d in store
        .current_deployments(r.environment, r.application)
        .await?
    {
        if running.contains_key(&d.artifact_digest) {
            continue;
        }
        found.push(json!({"deployment": d.id, "application": d.application, "artifact": format!("{}@{}", d.artifact_name, d.artifact_digest)}));
        if store
            .alert_raised_since("missing_deployment", &d.id, 0)
            .await?
        {
            continue;
        }
        alerts.push(missing_alert(r.environment, &d, r.taken_at));
    }
    Ok(found)
}

/// `POST /v1/environments/{env}/snapshots`: records what runs in `environment`, compares
/// it with the deployments recorded there and raises the alerts the differences call for.
pub async fn report(
    app: &App,
    actor: &Actor,
    environment: &str,
    input: SnapshotInput,
) -> Result<Value, AppError> {
    may_report(actor, environment)?;
    let allowed = crate::late::permission(actor, input.late.as_ref())?;
    check_scope(app, actor, input.application.as_deref()).await?;
    if input.application.is_some() == input.whole_environment {
        return Err(AppError::bad_request(
            "invalid_scope",
            "say what the snapshot covers: one application (application), or everything that runs in the environment (whole_environment: true); a snapshot of part of an environment taken for all of it would report every other application's deployment as missing",
        ));
    }
    let running = running(&input.workloads)?;
    let taken_at = match input.taken_at.as_deref() {
        Some(t) => instant(t)?,
        None => app.now(),
    };
    let late = crate::late::bounded(app, taken_at, "taken_at", allowed.as_ref())?;
    let source = if input.source.is_empty() {
        "list".to_owned()
    } else {
        input.source.clone()
    };
    let previous = app
        .store()
        .snapshots(environment, 50)
        .await?
        .into_iter()
        .find(|s| s.application == input.application);
    let snapshot = Snapshot {
        ledger_index: 0,
        environment: environment.to_owned(),
        application: input.application.clone(),
        source,
        taken_at,
        reported_by: actor.name.clone(),
        workloads: input.workloads.clone(),
        late,
    };
    let receipt = app
        .append(Fact::admin(
            EntryKind::EnvironmentSnapshot,
            actor,
            serde_json::to_value(&snapshot).map_err(|e| AppError::unavailable(e.to_string()))?,
            Effect::Access(AccessEffect::Snapshot(Box::new(snapshot))),
        ))
        .await?;
    let r = Report {
        environment,
        application: input.application.as_deref(),
        taken_at,
        reported_by: &actor.name,
        previous: previous.as_ref(),
    };
    let mut alerts = Vec::new();
    let unauthorized = unauthorized(app, &r, &running, &mut alerts).await?;
    let missing = missing(app, &r, &running, &mut alerts).await?;
    let alerts = raise_all(app, alerts).await?;
    crate::vulns::items::after(app, input.application.as_deref()).await;
    Ok(json!({
        "ledger_index": receipt.ledger_index,
        "environment": environment,
        "workloads": input.workloads.len(),
        "unauthorized": unauthorized,
        "missing": missing,
        "alerts": alerts,
    }))
}

/// `GET /v1/environments/{env}/snapshots`: the latest snapshots, newest first.
pub async fn snapshots(
    app: &App,
    _actor: &Actor,
    environment: &str,
    q: SnapshotsQuery,
) -> Result<Vec<Snapshot>, AppError> {
    check_environment(environment)?;
    Ok(app
        .store()
        .snapshots(environment, q.limit.unwrap_or(20))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use andon_domain::access::AccessStatus;

    const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn workload(name: &str, image: &str) -> Workload {
        Workload {
            name: name.into(),
            image: image.into(),
        }
    }

    fn grant(id: &str, level: AccessLevel) -> AccessRequest {
        AccessRequest {
            id: id.into(),
            ledger_index: 0,
            application: "shop".into(),
            environment: "prod".into(),
            production: true,
            level,
            reason: "fix".into(),
            ticket: "T-1".into(),
            requested_by: "ann".into(),
            minutes: 30,
            requested_at: 0,
            status: AccessStatus::Granted,
            decided_by: Some("bob".into()),
            decided_at: Some(0),
            comment: None,
            expires_at: Some(1_800_000),
            revoked_by: None,
            revoked_at: None,
            expired_index: None,
        }
    }

    #[test]
    fn running_groups_workloads_by_digest_and_checks_each() {
        let image = format!("shop@{DIGEST}");
        let ws = vec![workload("web-1", &image), workload("web-2", &image)];
        let r = running(&ws).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r.values().next().unwrap(), &vec!["web-1", "web-2"]);

        let e = running(&[workload("", &image)]).unwrap_err();
        assert_eq!(e.code, "invalid_workload");
        assert_eq!(e.message, "workload 0: a name is 1 to 256 characters");
        let e = running(&[workload("web", "shop:latest")]).unwrap_err();
        assert_eq!(e.code, "invalid_workload");
        assert!(e.message.starts_with("workload 0 (web): "));
        let many = vec![workload("w", &image); MAX_WORKLOADS + 1];
        assert_eq!(running(&many).unwrap_err().code, "too_many_workloads");
    }

    #[test]
    fn an_unauthorized_change_names_the_write_grants_when_there_are_any() {
        let report = Report {
            environment: "prod",
            application: Some("shop"),
            taken_at: 0,
            reported_by: "agent",
            previous: None,
        };
        let grants = vec![
            grant("AR-r", AccessLevel::Read),
            grant("AR-w", AccessLevel::Write),
        ];
        let a = unauthorized_alert(&report, DIGEST, &["web-1"], &grants);
        assert_eq!(a.subject, format!("prod:{DIGEST}"));
        assert_eq!(
            a.links,
            vec![
                "/v1/environments/prod/snapshots",
                "/v1/access/requests/AR-w"
            ]
        );
        assert!(a.message.contains("when it was first seen"));
        assert!(
            a.message.ends_with(
                "active grants: ann held write access (AR-w, T-1: fix, approved by bob)"
            )
        );
        let only_read = unauthorized_alert(&report, DIGEST, &["web-1"], &grants[..1]);
        assert_eq!(only_read.links.len(), 2);
        assert!(only_read.message.contains("read access (AR-r"));
        let none = unauthorized_alert(&report, DIGEST, &["web-1"], &[]);
        assert!(none.message.ends_with("no break-glass grant was active"));
    }
}
