//! Deployments and change management (docs/changes.md): the change record a production gate
//! opens or finds, approvals with separation of duty, deployments with gate-bypass alerts,
//! their later failure and restoration, and the request for change Andon writes.

use andon_domain::api::{ApprovalRequest, DeploymentRequest, DeploymentStateRequest};
use andon_domain::change::{
    Alert, Change, ChangeStatus, Deployment, DeploymentEvent, DeploymentState,
};
use andon_domain::query::changes::ListQuery;
use andon_domain::{AppName, ArtifactRef, EntryKind, Role};
use andon_store::{ChangeEffect, Effect};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::json_error;
use crate::routes::query_error;
use andon_app::Fact;
use andon_app::changes::gate::*;
use andon_app::changes::rfc::*;
use andon_app::changes::{approve, list, rfc};
use andon_app::gates::policies::select_policy;
use andon_app::input::*;

/// A JSON body, or our JSON error for one that could not be read.
fn json_body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(json_error)
}

/// `GET /v1/changes/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(list::show(&app, &caller, &id).await?))
}

/// `GET /v1/changes?application=`.
pub(crate) async fn list(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let rows = list::changes(&app, &caller, &q).await?;
    Ok(super::listing(q.format, &rows, &rows, "changes"))
}

/// `POST /v1/changes/{id}/approve`.
pub(crate) async fn approve(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(
        approve::approve(&app, &caller, &id, json_body(body)).await?,
    ))
}

/// `POST /v1/changes/{id}/reject`.
pub(crate) async fn reject(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(
        approve::reject(&app, &caller, &id, json_body(body)).await?,
    ))
}

/// `POST /v1/deployments`: recorded whatever the gate said; without an allowing decision it
/// is a gate bypass, flagged and alerted in the same ledger entry.
pub(crate) async fn record_deployment(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<DeploymentRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Pipeline, Role::Admin])?;
    let Json(req) = body.map_err(json_error)?;
    let application: AppName = req.application.parse()?;
    caller.require_application(application.as_str(), "deploy")?;
    let artifact: ArtifactRef = req.artifact.parse()?;
    check_environment(&req.environment)?;
    let production = req
        .production
        .unwrap_or_else(|| is_production(&req.environment));
    let deployed_at = parse_time(req.deployed_at.as_deref(), "deployed_at")?;
    if let Some(run) = &req.run
        && (run.is_empty() || run.len() > 256)
    {
        return Err(ApiError::bad_request(
            "invalid_run",
            "a run id is 1 to 256 characters",
        ));
    }
    let store = app.store();
    if !store
        .applications()
        .await?
        .iter()
        .any(|a| a.name == application.as_str())
    {
        return Err(ApiError::not_found(format!("no application {application}")));
    }
    let digest = artifact.digest.to_string();
    let (decision, bypass_reason) = match &req.decision {
        Some(id) => {
            let d = store.decision(id).await?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_decision",
                    format!("no decision {id}"),
                )
            })?;
            if d.artifact_digest != digest
                || d.environment != req.environment
                || d.application != application.as_str()
            {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "decision_mismatch",
                    format!(
                        "decision {id} is for {} {} to {}, not this deployment",
                        d.application, d.artifact_digest, d.environment
                    ),
                ));
            }
            if d.allow {
                (Some(d.id), None)
            } else {
                (Some(d.id), Some(format!("decision {id} denied it")))
            }
        }
        None => match store.allowing_decision(&digest, &req.environment).await? {
            Some(id) => (Some(id), None),
            None => (None, Some("no gate allowed it".to_owned())),
        },
    };
    let id = random_id("D")?;
    let mut opened = None;
    let change = if production {
        match store
            .open_change(application.as_str(), &req.environment, &digest)
            .await?
        {
            Some(c) => Some(c.id),
            None => {
                // Production is described truthfully: an ungated change still gets its record.
                let policy = select_policy(&app, application.as_str(), &req.environment).await?;
                let mut c = new_change(
                    &app,
                    &policy,
                    &caller.name,
                    application.as_str(),
                    &req.environment,
                    &artifact,
                    None,
                    Default::default(),
                    deployed_at,
                )
                .await?;
                c.status = ChangeStatus::Deployed;
                let cid = c.id.clone();
                opened = Some(Box::new(c));
                Some(cid)
            }
        }
    } else {
        None
    };
    // Who could have done it by hand: the grants active in the environment then.
    let held = match &bypass_reason {
        Some(_) if production => {
            let grants = store
                .grants_during(&req.environment, deployed_at, deployed_at)
                .await?;
            format!("; {}", andon_app::environments::grants_sentence(&grants))
        }
        _ => String::new(),
    };
    let alert = match &bypass_reason {
        Some(why) => Some(Alert {
            id: random_id("A")?,
            ledger_index: 0,
            kind: "gate_bypass".into(),
            severity: if production { "high" } else { "medium" }.into(),
            application: Some(application.to_string()),
            environment: Some(req.environment.clone()),
            subject: id.clone(),
            message: format!(
                "{} deployed {} to {} but {why}{held}",
                caller.name, req.artifact, req.environment
            ),
            created_at: 0,
            links: vec![format!("/v1/deployments/{id}")],
            ..Default::default()
        }),
        None => None,
    };
    // Redeploying an artifact this environment ran before, over a different one, is a
    // rollback of the one it replaces (docs/metrics.md).
    let rolls_back = if production
        && store
            .deployed_before(application.as_str(), &req.environment, &digest)
            .await?
    {
        store
            .deployments(Some(application.as_str()), Some(&req.environment), None, 1)
            .await?
            .into_iter()
            .next()
            .filter(|current| {
                current.artifact_digest != digest && current.deployed_at <= deployed_at
            })
            .map(|current| current.id)
    } else {
        None
    };
    let source = source_commit(&app, application.as_str(), &artifact.digest.hex()).await?;
    let commits = match (&source, production) {
        (Some(sha), true) => first_deployed(&app, application.as_str(), sha).await?,
        _ => Vec::new(),
    };
    let deployment = Deployment {
        id: id.clone(),
        ledger_index: 0,
        application: application.to_string(),
        environment: req.environment.clone(),
        production,
        artifact_name: artifact.name.clone(),
        artifact_digest: digest.clone(),
        decision,
        change,
        run: req.run.clone(),
        recorded_by: caller.name.clone(),
        bypass: bypass_reason.is_some(),
        source_commit: source,
        deployed_at,
        state: DeploymentState::Deployed,
        failed_at: None,
        restored_at: None,
        suspect_at: None,
    };
    let body = json!({"deployment": deployment, "opened_change": opened, "alert": alert, "rolls_back": rolls_back});
    let receipt = app
        .append(Fact::admin(
            EntryKind::DeploymentRecorded,
            &caller.name,
            body,
            Effect::Change(ChangeEffect::Deployment {
                deployment: Box::new(deployment.clone()),
                opened,
                alert: alert.clone(),
                commits,
                rolls_back: rolls_back.clone(),
            }),
        ))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "deployment": Deployment { ledger_index: receipt.ledger_index, ..deployment },
            "alert": alert,
            "rolls_back": rolls_back,
            "receipt": receipt,
        })),
    ))
}

/// `POST /v1/deployments/{id}/state`.
pub(crate) async fn deployment_state(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<DeploymentStateRequest>, JsonRejection>,
) -> Result<Json<Deployment>, ApiError> {
    caller.require(&[Role::Pipeline, Role::Admin, Role::Approver])?;
    let Json(req) = body.map_err(json_error)?;
    let state = DeploymentState::parse(&req.state)
        .filter(|s| *s != DeploymentState::Deployed)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_state",
                format!(
                    "state {:?} is not one of failed, rolled_back, restored",
                    req.state
                ),
            )
        })?;
    let at = parse_time(req.at.as_deref(), "at")?;
    if let Some(n) = &req.note {
        check_text(n, "a note")?;
    }
    let d = app
        .store()
        .deployment(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no deployment {id}")))?;
    caller.require_application(&d.application, "report on")?;
    if at < d.deployed_at {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
            format!(
                "{id} was deployed after {}",
                req.at.as_deref().unwrap_or("now")
            ),
        ));
    }
    let failed = matches!(
        d.state,
        DeploymentState::Failed | DeploymentState::RolledBack
    );
    if state == DeploymentState::Restored && !failed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_failed",
            format!("{id} has not failed: nothing to restore"),
        ));
    }
    if state == DeploymentState::Restored && d.failed_at.is_some_and(|f| at < f) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_time",
            format!("{id} cannot be restored before it failed"),
        ));
    }
    let event = DeploymentEvent {
        deployment: id.clone(),
        state,
        at,
        note: req.note.clone(),
        actor: caller.name.clone(),
    };
    app.append(Fact::admin(
        EntryKind::DeploymentState,
        &caller.name,
        serde_json::to_value(&event).map_err(|e| ApiError::unavailable(e.to_string()))?,
        Effect::Change(ChangeEffect::DeploymentEvent(event)),
    ))
    .await?;
    app.store()
        .deployment(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no deployment {id}")))
}

/// `POST /v1/incidents`: a failure reported by an incident tool, linked to the deployment
/// it names or to the last production deployment at or before its start (docs/metrics.md);
/// recorded as that deployment's failure, and restoration when resolved.
pub(crate) async fn report_incident(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<andon_domain::api::IncidentRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Pipeline, Role::Admin])?;
    let Json(req) = body.map_err(json_error)?;
    let application: AppName = req.application.parse()?;
    caller.require_application(application.as_str(), "report incidents of")?;
    if req.id.is_empty() || req.id.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_incident",
            "an incident id is 1 to 128 characters",
        ));
    }
    check_text(&req.title, "a title")?;
    let started = parse_time(Some(&req.started_at), "started_at")?;
    let resolved = match &req.resolved_at {
        Some(r) => Some(parse_time(Some(r), "resolved_at")?),
        None => None,
    };
    if resolved.is_some_and(|r| r < started) {
        return Err(ApiError::bad_request(
            "invalid_time",
            "an incident is resolved after it started",
        ));
    }
    let store = app.store();
    let (d, linked_by) = match &req.deployment {
        Some(id) => {
            let d = store.deployment(id).await?.ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_deployment",
                    format!("no deployment {id}"),
                )
            })?;
            if d.application != application.as_str() || started < d.deployed_at {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "deployment_mismatch",
                    format!("{id} is not a deployment of {application} before the incident"),
                ));
            }
            (d, "explicit")
        }
        None => (
            store
                .production_deployment_at(application.as_str(), started)
                .await?
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "no_deployment",
                        format!("no production deployment of {application} before the incident"),
                    )
                })?,
            "last_deployment_before",
        ),
    };
    let note = format!("incident {}: {}", req.id, req.title);
    let mut events = vec![DeploymentEvent {
        deployment: d.id.clone(),
        state: DeploymentState::Failed,
        at: started,
        note: Some(note.clone()),
        actor: caller.name.clone(),
    }];
    if let Some(at) = resolved {
        events.push(DeploymentEvent {
            state: DeploymentState::Restored,
            at,
            ..events[0].clone()
        });
    }
    let facts = events
        .into_iter()
        .map(|e| {
            Ok(Fact::admin(
                EntryKind::DeploymentState,
                &caller.name,
                serde_json::to_value(&e).map_err(|x| ApiError::unavailable(x.to_string()))?,
                Effect::Change(ChangeEffect::DeploymentEvent(e)),
            ))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    app.append_all(facts).await?;
    let d = store
        .deployment(&d.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no deployment {}", d.id)))?;
    Ok(Json(json!({"deployment": d, "linked_by": linked_by})))
}

/// `GET /v1/deployments/{id}`.
pub(crate) async fn deployment(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    Ok(Json(list::deployment(&app, &caller, &id).await?))
}

/// `GET /v1/deployments?application=&environment=&before=&limit=`.
pub(crate) async fn deployments(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let rows = list::deployments(&app, &caller, &q).await?;
    Ok(super::listing(q.format, &rows, &rows, "deployments"))
}

/// `GET /v1/notifications` (admin, auditor): the outbound delivery log, newest first.
pub(crate) async fn notifications(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let q = q.map(|Query(q)| q).map_err(query_error);
    let format = q.as_ref().ok().and_then(|q| q.format);
    let rows = list::notifications(&app, &caller, q).await?;
    Ok(super::listing(format, &rows, &rows, "notifications"))
}

/// `POST /v1/alerts/check` (admin): looks for overdue emergency reviews now rather than at
/// the watcher's next tick (for a scheduler, or the demo); answers how many were raised.
pub(crate) async fn check_alerts(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let raised = approve::check_overdue_reviews(&app, &caller).await?;
    Ok(Json(json!({ "raised": raised })))
}

/// `GET /v1/schemas/rfc.json`: the RFC document's JSON Schema (no token needed).
pub(crate) async fn rfc_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        rfc::SCHEMA,
    )
}

/// `GET /v1/changes/{id}/rfc.json`.
pub(crate) async fn rfc_json(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(rfc::rfc_json(&app, &caller, &id).await?))
}

/// `GET /v1/changes/{id}/rfc.md`.
pub(crate) async fn rfc_markdown(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        rfc::rfc_markdown(&app, &caller, &id).await?,
    ))
}
