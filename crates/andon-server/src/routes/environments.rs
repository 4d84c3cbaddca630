//! Runtime snapshots and drift (docs/access.md): an environment reports what runs; Andon
//! compares it with the deployments it recorded and alerts on what no allowed deployment
//! put there (naming the grants active when it appeared) and on what is missing.

use std::collections::{BTreeMap, HashSet};

use andon_domain::access::{AccessRequest, Snapshot};
use andon_domain::api::SnapshotInput;
use andon_domain::change::Alert;
use andon_domain::{ArtifactRef, EntryKind, Role};
use andon_store::{AccessEffect, ChangeEffect, Effect};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::json_error;
use crate::routes::query_error;
use andon_app::Fact;
use andon_app::environments::grants_sentence;
use andon_app::input::instant;
use andon_app::input::random_id;
use andon_app::input::{check_environment, rfc3339};

/// The most workloads one snapshot may list.
const MAX_WORKLOADS: usize = 10_000;

/// `POST /v1/environments/{env}/snapshots`.
pub(crate) async fn report(
    State(app): State<App>,
    caller: Caller,
    Path(environment): Path<String>,
    body: Result<Json<SnapshotInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin, Role::Pipeline])?;
    check_environment(&environment)?;
    let Json(input) = body.map_err(json_error)?;
    let store = app.store();
    if let Some(a) = &input.application {
        caller.require_application(a, "report what runs for")?;
        if !store.applications().await?.iter().any(|x| &x.name == a) {
            return Err(ApiError::not_found(format!("no application {a}")));
        }
    } else if caller.role == Role::Pipeline {
        return Err(ApiError::forbidden(
            "application_not_allowed",
            "a pipeline reports what runs for one of its applications: name it",
        ));
    }
    if input.workloads.len() > MAX_WORKLOADS {
        return Err(ApiError::bad_request(
            "too_many_workloads",
            format!("a snapshot lists at most {MAX_WORKLOADS} workloads"),
        ));
    }
    let mut running: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (i, w) in input.workloads.iter().enumerate() {
        if w.name.is_empty() || w.name.len() > 256 {
            return Err(ApiError::bad_request(
                "invalid_workload",
                format!("workload {i}: a name is 1 to 256 characters"),
            ));
        }
        let r: ArtifactRef = w.image.parse().map_err(|e| {
            ApiError::bad_request(
                "invalid_workload",
                format!("workload {i} ({}): {e}", w.name),
            )
        })?;
        running
            .entry(r.digest.to_string())
            .or_default()
            .push(w.name.as_str());
    }
    let taken_at = match input.taken_at.as_deref() {
        Some(t) => instant(t)?,
        None => app.now(),
    };
    let source = if input.source.is_empty() {
        "list".to_owned()
    } else {
        input.source.clone()
    };
    let previous = store
        .snapshots(&environment, 50)
        .await?
        .into_iter()
        .find(|s| s.application == input.application);
    let snapshot = Snapshot {
        ledger_index: 0,
        environment: environment.clone(),
        application: input.application.clone(),
        source,
        taken_at,
        reported_by: caller.name.clone(),
        workloads: input.workloads.clone(),
    };
    let receipt = app
        .append(Fact::admin(
            EntryKind::EnvironmentSnapshot,
            &caller.name,
            serde_json::to_value(&snapshot).map_err(|e| ApiError::unavailable(e.to_string()))?,
            Effect::Access(AccessEffect::Snapshot(Box::new(snapshot.clone()))),
        ))
        .await?;

    // Unauthorized: running, and no allowed deployment put it here.
    let digests: Vec<String> = running.keys().cloned().collect();
    let allowed = store.allowed_digests(&environment, &digests).await?;
    let before: HashSet<String> = previous
        .as_ref()
        .map(|p| {
            p.workloads
                .iter()
                .filter_map(|w| w.image.parse::<ArtifactRef>().ok())
                .map(|r| r.digest.to_string())
                .collect()
        })
        .unwrap_or_default();
    let since = previous.as_ref().map_or(taken_at, |p| p.taken_at);
    let grants = store.grants_during(&environment, since, taken_at).await?;
    let mut alerts = Vec::new();
    let mut unauthorized = Vec::new();
    for (digest, names) in &running {
        if allowed.contains(digest) {
            continue;
        }
        unauthorized.push(json!({"digest": digest, "workloads": names}));
        let subject = format!("{environment}:{digest}");
        if before.contains(digest)
            && let Some(existing) = store.alert_about("unauthorized_change", &subject).await?
        {
            // Still running: the same alert, seen again.
            andon_app::alerts::update(&app, "andon", &existing.id, "seen", None).await?;
            continue;
        }
        let writers: Vec<AccessRequest> = grants
            .iter()
            .filter(|g| g.level == andon_domain::access::AccessLevel::Write)
            .cloned()
            .collect();
        let held = if writers.is_empty() {
            &grants
        } else {
            &writers
        };
        let when = match &previous {
            Some(p) => format!(
                "between the previous snapshot ({}) and this one",
                rfc3339(Some(p.taken_at)).unwrap_or_default()
            ),
            None => "when it was first seen".to_owned(),
        };
        alerts.push(Alert {
            id: random_id("A")?,
            ledger_index: 0,
            kind: "unauthorized_change".into(),
            severity: "high".into(),
            application: input.application.clone(),
            environment: Some(environment.clone()),
            subject,
            message: format!(
                "{} runs {digest}, which no allowed deployment put in {environment} (seen {}, reported by {}); {when}, {}",
                names.join(", "),
                rfc3339(Some(taken_at)).unwrap_or_default(),
                caller.name,
                grants_sentence(held)
            ),
            created_at: 0,
            links: std::iter::once(format!("/v1/environments/{environment}/snapshots"))
                .chain(held.iter().map(|g| format!("/v1/access/requests/{}", g.id)))
                .collect(),
            ..Default::default()
        });
    }
    // Missing: the current deployment of an application is not running.
    let mut missing = Vec::new();
    for d in store
        .current_deployments(&environment, input.application.as_deref())
        .await?
    {
        if running.contains_key(&d.artifact_digest) {
            continue;
        }
        missing.push(json!({"deployment": d.id, "application": d.application, "artifact": format!("{}@{}", d.artifact_name, d.artifact_digest)}));
        if store
            .alert_raised_since("missing_deployment", &d.id, 0)
            .await?
        {
            continue;
        }
        alerts.push(Alert {
            id: random_id("A")?,
            ledger_index: 0,
            kind: "missing_deployment".into(),
            severity: "medium".into(),
            application: Some(d.application.clone()),
            environment: Some(environment.clone()),
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
            created_at: 0,
            links: vec![
                format!("/v1/deployments/{}", d.id),
                format!("/v1/environments/{environment}/snapshots"),
            ],
            ..Default::default()
        });
    }
    let mut facts = Vec::new();
    for a in &alerts {
        facts.push(Fact::admin(
            EntryKind::AlertRaised,
            "andon",
            serde_json::to_value(a).map_err(|e| ApiError::unavailable(e.to_string()))?,
            Effect::Change(ChangeEffect::Alert(a.clone())),
        ));
    }
    let receipts = app.append_all(facts).await?;
    for (a, r) in alerts.iter_mut().zip(&receipts) {
        a.ledger_index = r.ledger_index;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "ledger_index": receipt.ledger_index,
            "environment": environment,
            "workloads": input.workloads.len(),
            "unauthorized": unauthorized,
            "missing": missing,
            "alerts": alerts,
        })),
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct SnapshotsQuery {
    limit: Option<u32>,
}

/// `GET /v1/environments/{env}/snapshots`: the latest snapshots, newest first.
pub(crate) async fn snapshots(
    State(app): State<App>,
    _caller: Caller,
    Path(environment): Path<String>,
    query: Result<Query<SnapshotsQuery>, QueryRejection>,
) -> Result<Json<Vec<Snapshot>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    check_environment(&environment)?;
    Ok(Json(
        app.store()
            .snapshots(&environment, q.limit.unwrap_or(20))
            .await?,
    ))
}
