//! Deployments and change management (docs/changes.md): the change record a production gate
//! opens or finds, approvals with separation of duty, deployments with gate-bypass alerts,
//! their later failure and restoration, and the request for change Andon writes.

use std::collections::BTreeSet;

use andon_domain::api::{ApprovalRequest, DeploymentRequest, DeploymentStateRequest, GateRequest};
use andon_domain::change::{
    Alert, Approval, Change, ChangeClass, ChangeStatus, Deployment, DeploymentEvent,
    DeploymentState,
};
use andon_domain::{AppName, ArtifactRef, EntryKind, Role};
use andon_policy::Policy;
use andon_store::{ChangeEffect, Effect, EvidenceFilter, EvidenceRow};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::app::App;
use crate::auth::Caller;
use crate::routes::gates::{check_environment, is_production, json_error, rfc3339, select_policy};
use crate::routes::query_error;
use crate::sequencer::Fact;

/// The longest free text (comments, notes) accepted.
const MAX_TEXT: usize = 4000;
/// The change rules' default history window.
const DEFAULT_WINDOW_DAYS: i64 = 90;

/// A fresh id: `prefix-` and 12 random hex digits.
pub(crate) fn random_id(prefix: &str) -> Result<String, ApiError> {
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).map_err(|e| ApiError::unavailable(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}-{}", hex::encode(raw)))
}

pub(crate) fn parse_time(s: Option<&str>, what: &str) -> Result<i64, ApiError> {
    match s {
        None => Ok(jiff::Timestamp::now().as_millisecond()),
        Some(t) => t
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|e| {
                ApiError::bad_request("invalid_time", format!("{what} {t:?} is not RFC 3339: {e}"))
            }),
    }
}

pub(crate) fn check_text(s: &str, what: &str) -> Result<(), ApiError> {
    if s.len() > MAX_TEXT {
        return Err(ApiError::bad_request(
            "invalid_text",
            format!("{what} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

/// The change record as the gate input shows it to the `change-approval` control.
pub(crate) fn change_input(c: &Change) -> Value {
    let rejected: Vec<&str> = c
        .approvals
        .iter()
        .filter(|a| !a.approve)
        .map(|a| a.approver.as_str())
        .collect();
    json!({
        "id": c.id, "class": c.class, "status": c.status, "change_type": c.change_type,
        "approvals_required": c.classification.approvals,
        "approver_group": c.classification.approver_group,
        "approved_by": c.approved_by(), "rejected_by": rejected,
        "reasons": c.classification.reasons,
        "emergency_reason": c.emergency_reason,
        "review_due_at": rfc3339(c.review_due_at),
    })
}

/// The evidence of an artifact, each record with its parsed summary (null when untyped).
async fn artifact_evidence(
    app: &App,
    application: &str,
    digest_hex: &str,
) -> Result<Vec<(EvidenceRow, Value)>, ApiError> {
    let rows = app
        .store()
        .list_evidence(&EvidenceFilter {
            application: Some(application.to_owned()),
            subject_digest: Some(digest_hex.to_owned()),
            limit: 1000,
            ..Default::default()
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let s = r
                .summary
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(Value::Null);
            (r, s)
        })
        .collect())
}

/// The artifact's provenance record and summary, if any.
fn provenance_of(evidence: &[(EvidenceRow, Value)]) -> Option<&(EvidenceRow, Value)> {
    evidence.iter().find(|(_, s)| s["kind"] == "provenance")
}

/// The source commit a provenance summary names, lowercase.
fn source_of(evidence: &[(EvidenceRow, Value)]) -> Option<String> {
    provenance_of(evidence)
        .and_then(|(_, s)| s["source_commit"].as_str())
        .map(str::to_ascii_lowercase)
}

/// The source commit the artifact's provenance names, if any.
async fn source_commit(
    app: &App,
    application: &str,
    digest_hex: &str,
) -> Result<Option<String>, ApiError> {
    Ok(source_of(
        &artifact_evidence(app, application, digest_hex).await?,
    ))
}

/// Classes a new change with the policy's change rules, from the change type's history.
async fn classify(
    app: &App,
    policy: &Policy,
    application: &str,
    environment: &str,
    emergency: Option<&str>,
    fields: &andon_domain::change::ChangeFields,
    now_ms: i64,
) -> Result<andon_domain::change::Classification, ApiError> {
    let change_type = fields.change_type.as_deref().unwrap_or("application");
    let window_days = policy
        .bundle
        .params
        .get(andon_policy::CHANGE_PARAMS)
        .and_then(|p| p.get("window_days"))
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_WINDOW_DAYS);
    let (deployments, failures, restored, minutes) = app
        .store()
        .change_type_history(application, change_type, now_ms - window_days * 86_400_000)
        .await?;
    let history = json!({
        "change_type": change_type, "window_days": window_days,
        "deployments": deployments, "failures": failures, "restored": restored,
        "change_success_rate": if deployments > 0 { 1.0 - failures as f64 / deployments as f64 } else { 0.0 },
        "mean_time_to_restore_minutes": if restored > 0 { minutes / restored as f64 } else { 0.0 },
    });
    let mut c = policy.classify(&json!({
        "application": application, "environment": environment, "change_type": change_type,
        "emergency": emergency, "paths": fields.paths, "history": history,
    }));
    c.history = history;
    Ok(c)
}

/// A new change record (not yet appended).
#[allow(clippy::too_many_arguments)]
async fn new_change(
    app: &App,
    policy: &Policy,
    requested_by: &str,
    application: &str,
    environment: &str,
    artifact: &ArtifactRef,
    emergency: Option<&str>,
    fields: andon_domain::change::ChangeFields,
    now_ms: i64,
) -> Result<Change, ApiError> {
    let classification = classify(
        app,
        policy,
        application,
        environment,
        emergency,
        &fields,
        now_ms,
    )
    .await?;
    let class = classification.class.unwrap_or(ChangeClass::Normal);
    let status = match class {
        ChangeClass::Normal => ChangeStatus::Pending,
        ChangeClass::Standard | ChangeClass::Emergency => ChangeStatus::Approved,
    };
    let review_due_at = (class == ChangeClass::Emergency).then(|| {
        let hours = classification.review_hours.unwrap_or(24.0).max(0.0);
        now_ms + (hours * 3_600_000.0) as i64
    });
    Ok(Change {
        id: random_id("CHG")?,
        ledger_index: 0,
        application: application.to_owned(),
        environment: environment.to_owned(),
        artifact_name: artifact.name.clone(),
        artifact_digest: artifact.digest.to_string(),
        change_type: fields
            .change_type
            .clone()
            .unwrap_or_else(|| "application".into()),
        class,
        status,
        requested_by: requested_by.to_owned(),
        emergency_reason: emergency.map(str::to_owned),
        review_due_at,
        reviewed_at: None,
        classification,
        fields,
        created_at: now_ms,
        approvals: Vec::new(),
    })
}

/// The change record of a production gate: the open one for this artifact and environment,
/// or a new one classed by the policy's change rules (an emergency request on a change that
/// is not an emergency opens a new one).
pub(crate) async fn change_for_gate(
    app: &App,
    caller: &Caller,
    policy: &Policy,
    application: &AppName,
    artifact: &ArtifactRef,
    req: &GateRequest,
) -> Result<Change, ApiError> {
    let emergency = req.emergency.as_deref().map(str::trim);
    if let Some(reason) = emergency
        && (reason.is_empty() || reason.len() > MAX_TEXT)
    {
        return Err(ApiError::bad_request(
            "invalid_emergency",
            format!("an emergency needs a reason, up to {MAX_TEXT} characters"),
        ));
    }
    let fields = req.change.clone().unwrap_or_default();
    for t in [&fields.risk, &fields.rollback_plan].into_iter().flatten() {
        check_text(t, "a change field")?;
    }
    let planned = |t: &Option<String>, name: &str| -> Result<Option<i64>, ApiError> {
        t.as_deref()
            .map(|t| {
                t.parse::<jiff::Timestamp>()
                    .map(|t| t.as_millisecond())
                    .map_err(|e| {
                        ApiError::bad_request(
                            "invalid_time",
                            format!("{name} is not an RFC 3339 time: {e}"),
                        )
                    })
            })
            .transpose()
    };
    match (
        planned(&fields.planned_start, "planned_start")?,
        planned(&fields.planned_end, "planned_end")?,
    ) {
        (Some(s), Some(e)) if e < s => {
            return Err(ApiError::bad_request(
                "invalid_time",
                "planned_end is before planned_start",
            ));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_time",
                "a planned window has both planned_start and planned_end",
            ));
        }
        _ => {}
    }
    let open = app
        .store()
        .open_change(
            application.as_str(),
            &req.environment,
            &artifact.digest.to_string(),
        )
        .await?;
    if let Some(c) = open
        && (emergency.is_none() || c.class == ChangeClass::Emergency)
    {
        return Ok(c);
    }
    let mut change = new_change(
        app,
        policy,
        &caller.name,
        application.as_str(),
        &req.environment,
        artifact,
        emergency,
        fields,
        jiff::Timestamp::now().as_millisecond(),
    )
    .await?;
    let receipt = app
        .append(Fact::admin(
            EntryKind::ChangeCreated,
            &caller.name,
            serde_json::to_value(&change).map_err(|e| ApiError::unavailable(e.to_string()))?,
            Effect::Change(ChangeEffect::Change(Box::new(change.clone()))),
        ))
        .await?;
    change.ledger_index = receipt.ledger_index;
    Ok(change)
}

async fn find_change(app: &App, id: &str) -> Result<Change, ApiError> {
    app.store()
        .change(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no change {id}")))
}

/// `GET /v1/changes/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Change>, ApiError> {
    Ok(Json(find_change(&app, &id).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListQuery {
    application: Option<String>,
    environment: Option<String>,
    before: Option<u64>,
    limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    format: Option<super::Format>,
}

/// `GET /v1/changes?application=`.
pub(crate) async fn list(
    State(app): State<App>,
    _caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let rows = app
        .store()
        .changes(
            q.application.as_deref(),
            q.environment.as_deref(),
            q.before,
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(super::listing(q.format, &rows, &rows, "changes"))
}

/// `POST /v1/changes/{id}/approve`.
pub(crate) async fn approve(
    state: State<App>,
    caller: Caller,
    id: Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<Json<Change>, ApiError> {
    decide(state, caller, id, body, true).await
}

/// `POST /v1/changes/{id}/reject`.
pub(crate) async fn reject(
    state: State<App>,
    caller: Caller,
    id: Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
) -> Result<Json<Change>, ApiError> {
    decide(state, caller, id, body, false).await
}

async fn decide(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ApprovalRequest>, JsonRejection>,
    approve: bool,
) -> Result<Json<Change>, ApiError> {
    caller.require(&[Role::Approver, Role::Admin])?;
    let Json(req) = body.map_err(json_error)?;
    check_text(&req.comment, "a comment")?;
    if !approve && req.comment.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid_approval",
            "a rejection says why (comment)",
        ));
    }
    let change = find_change(&app, &id).await?;
    let closed = match (change.status, change.class) {
        (ChangeStatus::Rejected, _) => Some("it was rejected"),
        (ChangeStatus::Deployed, c) if c != ChangeClass::Emergency => Some("it is deployed"),
        (_, ChangeClass::Standard) => Some("it is a standard change, pre-approved"),
        (_, ChangeClass::Emergency) if change.reviewed_at.is_some() => {
            Some("its emergency review is done")
        }
        _ => None,
    };
    if let Some(why) = closed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "change_closed",
            format!("{id} takes no more approvals: {why}"),
        ));
    }
    if let Some(group) = &change.classification.approver_group
        && !caller.groups.contains(group)
    {
        return Err(ApiError::forbidden(
            "not_in_group",
            format!(
                "{id} needs an approver from {group}; {} is not in it",
                caller.name
            ),
        ));
    }
    if change.requested_by == caller.name {
        return Err(ApiError::forbidden(
            "self_approval",
            format!(
                "{} requested {id} and may not approve it: another approver must",
                caller.name
            ),
        ));
    }
    let rfc = rfc_document(&app, &change).await?;
    // Source-control logins and identity names are compared without case.
    let authors: BTreeSet<String> = rfc["what"]["commits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["author"].as_str())
        .chain(
            rfc["why"]["pull_requests"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["author"].as_str()),
        )
        .map(str::to_ascii_lowercase)
        .collect();
    if authors.contains(&caller.name.to_ascii_lowercase()) {
        return Err(ApiError::forbidden(
            "own_change",
            format!(
                "{id} contains commits or pull requests by {}: another approver must",
                caller.name
            ),
        ));
    }
    if change.approvals.iter().any(|a| a.approver == caller.name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_decided",
            format!("{} already decided on {id}", caller.name),
        ));
    }
    let approval = Approval {
        change: id.clone(),
        approver: caller.name.clone(),
        approve,
        comment: req.comment.clone(),
        at: 0,
        ledger_index: 0,
    };
    app.append(Fact::admin(
        EntryKind::ChangeApproval,
        &caller.name,
        json!({"change": id, "approver": caller.name, "approve": approve, "comment": req.comment}),
        Effect::Change(ChangeEffect::Approval(approval)),
    ))
    .await?;
    Ok(Json(find_change(&app, &id).await?))
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
            format!(
                "; {}",
                crate::routes::environments::grants_sentence(&grants)
            )
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
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    app.store()
        .deployment(&id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no deployment {id}")))
}

/// `GET /v1/deployments?application=&environment=&before=&limit=`.
pub(crate) async fn deployments(
    State(app): State<App>,
    _caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let rows = app
        .store()
        .deployments(
            q.application.as_deref(),
            q.environment.as_deref(),
            q.before,
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(super::listing(q.format, &rows, &rows, "deployments"))
}

/// `GET /v1/notifications` (admin, auditor): the outbound delivery log, newest first.
pub(crate) async fn notifications(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let Query(q) = q.map_err(query_error)?;
    let rows = app.store().notifications(q.limit.unwrap_or(100)).await?;
    Ok(super::listing(q.format, &rows, &rows, "notifications"))
}

/// `POST /v1/alerts/check` (admin): looks for overdue emergency reviews now rather than at
/// the watcher's next tick (for a scheduler, or the demo); answers how many were raised.
pub(crate) async fn check_alerts(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    let raised = raise_overdue_reviews(&app).await?;
    Ok(Json(json!({ "raised": raised })))
}

/// Raises an alert for every emergency change whose review is overdue (once each).
pub(crate) async fn raise_overdue_reviews(app: &App) -> Result<usize, ApiError> {
    let now = jiff::Timestamp::now().as_millisecond();
    let overdue = app.store().overdue_reviews(now).await?;
    for c in &overdue {
        let alert = Alert {
            id: random_id("A")?,
            ledger_index: 0,
            kind: "emergency_review_overdue".into(),
            severity: "high".into(),
            application: Some(c.application.clone()),
            environment: Some(c.environment.clone()),
            subject: c.id.clone(),
            message: format!(
                "the review of emergency change {} ({}) was due at {}",
                c.id,
                c.emergency_reason.as_deref().unwrap_or(""),
                rfc3339(c.review_due_at).unwrap_or_default()
            ),
            created_at: 0,
            links: vec![
                format!("/v1/changes/{}", c.id),
                format!("/v1/changes/{}/rfc.md", c.id),
            ],
            ..Default::default()
        };
        app.append(Fact::admin(
            EntryKind::AlertRaised,
            "andon",
            serde_json::to_value(&alert).map_err(|e| ApiError::unavailable(e.to_string()))?,
            Effect::Change(ChangeEffect::Alert(alert)),
        ))
        .await?;
    }
    Ok(overdue.len())
}

/// The JSON Schema of the RFC document (docs/schemas/rfc.schema.json).
const RFC_SCHEMA: &str = include_str!("../../../../docs/schemas/rfc.schema.json");

/// `GET /v1/schemas/rfc.json`: the RFC document's JSON Schema (no token needed).
pub(crate) async fn rfc_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        RFC_SCHEMA,
    )
}

/// `GET /v1/changes/{id}/rfc.json`.
pub(crate) async fn rfc_json(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let change = find_change(&app, &id).await?;
    Ok(Json(rfc_document(&app, &change).await?))
}

/// `GET /v1/changes/{id}/rfc.md`.
pub(crate) async fn rfc_markdown(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let change = find_change(&app, &id).await?;
    let rfc = rfc_document(&app, &change).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        crate::rfc::markdown(&rfc),
    ))
}

/// The request for change (`andon.rfc/v1`), from what Andon holds.
pub(crate) async fn rfc_document(app: &App, change: &Change) -> Result<Value, ApiError> {
    let store = app.store();
    let digest_hex = change
        .artifact_digest
        .strip_prefix("sha256:")
        .unwrap_or(&change.artifact_digest);
    let team = store
        .applications()
        .await?
        .into_iter()
        .find(|a| a.name == change.application)
        .map(|a| a.team);
    let evidence = artifact_evidence(app, &change.application, digest_hex).await?;
    let source = source_of(&evidence);
    let previous = store
        .last_production_deployment(&change.application, change.ledger_index)
        .await?;
    let commits = match &source {
        Some(sha) => {
            commits_since(
                app,
                sha,
                previous.as_ref().and_then(|d| d.source_commit.as_deref()),
            )
            .await?
        }
        None => Vec::new(),
    };
    let mut tickets = BTreeSet::new();
    let mut pull_requests = Vec::new();
    let mut seen_prs = BTreeSet::new();
    let mut commit_docs = Vec::new();
    for c in &commits {
        let trace = crate::routes::trace::commit_with(app, &c.sha, false).await?;
        let mut own = BTreeSet::new();
        for t in &trace.tickets {
            tickets.insert(t.ticket.clone());
            own.insert(t.ticket.clone());
        }
        for pr in &trace.pull_requests {
            if seen_prs.insert((pr.repository.clone(), pr.number)) {
                pull_requests.push(json!({
                    "repository": pr.repository, "number": pr.number, "title": pr.title,
                    "author": pr.review.author, "state": pr.review.state,
                    "approved_by": pr.review.independent_approvers,
                }));
            }
        }
        commit_docs.push(json!({
            "sha": c.sha, "repository": c.repository, "author": c.author,
            "message": c.message.lines().next().unwrap_or(""), "tickets": own,
        }));
    }
    let reports: Vec<Value> = evidence
        .iter()
        .map(|(r, s)| {
            json!({
                "id": r.id, "kind": s.get("kind").cloned().unwrap_or("generic".into()),
                "predicate_type": r.predicate_type, "signer": r.signer, "run": r.run,
                "ledger_index": r.ledger_index, "link": format!("/v1/evidence/{}", r.id),
            })
        })
        .collect();
    let provenance = provenance_of(&evidence).map(|(r, s)| {
        json!({"evidence": r.id, "builder": s["builder_id"], "source_commit": s["source_commit"],
               "source_repository": s["source_repository"]})
    });
    let decision = match store
        .latest_decision(&change.artifact_digest, &change.environment)
        .await?
    {
        Some(id) => match store.decision(&id).await? {
            Some(row) => {
                let doc = andon_domain::Envelope::parse(&row.envelope)
                    .ok()
                    .and_then(|e| {
                        serde_json::from_slice::<andon_domain::gate::DecisionDoc>(&e.payload).ok()
                    });
                json!({
                    "id": row.id, "allow": row.allow, "ledger_index": row.ledger_index,
                    "decided_at": doc.as_ref().map(|d| d.decided_at.clone()),
                    "policy": doc.as_ref().map(|d| d.policy.clone()),
                    "controls": doc.map(|d| d.controls).unwrap_or_default(),
                    "link": format!("/v1/decisions/{}", row.id),
                })
            }
            None => Value::Null,
        },
        None => Value::Null,
    };
    Ok(json!({
        "schema": "andon.rfc/v1",
        "change": {
            "id": change.id, "class": change.class, "status": change.status,
            "change_type": change.change_type, "requested_by": change.requested_by,
            "created_at": rfc3339(Some(change.created_at)), "ledger_index": change.ledger_index,
            "emergency_reason": change.emergency_reason,
            "review_due_at": rfc3339(change.review_due_at),
            "reviewed_at": rfc3339(change.reviewed_at),
            "planned_start": change.fields.planned_start, "planned_end": change.fields.planned_end,
        },
        "classification": change.classification,
        "why": {"tickets": tickets, "pull_requests": pull_requests},
        "what": {
            "artifact": {"name": change.artifact_name, "digest": change.artifact_digest},
            "source_commit": source,
            "since": previous.as_ref().map(|d| json!({
                "deployment": d.id, "artifact": format!("{}@{}", d.artifact_name, d.artifact_digest),
                "source_commit": d.source_commit, "deployed_at": rfc3339(Some(d.deployed_at)),
            })),
            "commits": commit_docs,
            "provenance": provenance,
            "scripts": change.fields.scripts,
            "paths": change.fields.paths,
        },
        "evidence": {"decision": decision, "reports": reports},
        "affected": {"application": change.application, "team": team, "environment": change.environment},
        "risk": change.fields.risk,
        "rollback_plan": change.fields.rollback_plan,
        "approvals": {
            "required": change.classification.approvals,
            "group": change.classification.approver_group,
            "decisions": change.approvals,
        },
        "links": {
            "self": format!("/v1/changes/{}/rfc.json", change.id),
            "markdown": format!("/v1/changes/{}/rfc.md", change.id),
            "change": format!("/v1/changes/{}", change.id),
        },
    }))
}

/// The commits a production deployment of `source` brings to production first: those since
/// the application's last production deployment that no earlier one brought, with their
/// author times (lead time for changes; docs/metrics.md).
async fn first_deployed(
    app: &App,
    application: &str,
    source: &str,
) -> Result<Vec<(String, Option<i64>)>, ApiError> {
    let previous = app
        .store()
        .last_production_deployment(application, u64::MAX)
        .await?;
    let commits = commits_since(
        app,
        source,
        previous.as_ref().and_then(|d| d.source_commit.as_deref()),
    )
    .await?;
    let shas: Vec<String> = commits.iter().map(|c| c.sha.clone()).collect();
    let seen = app.store().deployed_commits(application, &shas).await?;
    Ok(commits
        .into_iter()
        .filter(|c| !seen.contains(&c.sha))
        .map(|c| {
            let at = c
                .timestamp
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .map(|t| t.as_millisecond());
            (c.sha, at)
        })
        .collect())
}

/// The commits recorded for the repository of `until` after `after` (exclusive) up to
/// `until` (inclusive), in the order they reached Andon (docs/changes.md).
async fn commits_since(
    app: &App,
    until: &str,
    after: Option<&str>,
) -> Result<Vec<andon_domain::scm::Commit>, ApiError> {
    let store = app.store();
    let Some(last) = store.commits(until).await?.into_iter().next() else {
        return Ok(Vec::new());
    };
    let repository = last.fact.repository.clone();
    let first = match after {
        Some(sha) => store
            .commits(sha)
            .await?
            .into_iter()
            .find(|c| c.fact.repository == repository),
        None => None,
    };
    let from = first.as_ref().map_or(0, |c| c.ledger_index);
    let range = store
        .commits_recorded_between(&repository, from, last.ledger_index)
        .await?;
    let mut out = Vec::new();
    let mut started = first.is_none();
    for c in range {
        if !started {
            started = Some(c.fact.sha.as_str()) == after;
            continue;
        }
        let done = c.fact.sha == until;
        out.push(c.fact);
        if done {
            break;
        }
    }
    Ok(out)
}
