//! Deployments (docs/changes.md): a deployment is recorded whatever the gate said; without
//! an allowing decision it is a gate bypass, flagged and alerted in the same ledger entry.
//! A production deployment gets a change record (an ungated one too), may roll back the
//! one it replaces, and brings its commits to production. Later, a deployment fails, is
//! rolled back or restored.

use andon_domain::access::AccessLevel;
use andon_domain::api::{DeploymentRequest, DeploymentStateRequest, Receipt};
use andon_domain::change::{
    Alert, Change, ChangeStatus, Deployment, DeploymentEvent, DeploymentState,
};
use andon_domain::late::Late;
use andon_domain::{AppName, ArtifactRef, EntryKind, Role};
use andon_store::{ChangeEffect, Effect};
use serde::Serialize;
use serde_json::json;

use crate::changes::authorized;
use crate::changes::gate::{new_change, source_commit};
use crate::changes::list::find_deployment;
use crate::changes::rfc::first_deployed;
use crate::environments::grants_sentence;
use crate::gates::policies::select_policy;
use crate::input::{check_environment, check_text, is_production, parse_time, random_id};
use crate::late::{bounded, permission};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError, ErrorKind};

/// A recorded deployment, as `POST /v1/deployments` answers it.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedDeployment {
    /// The gate-bypass alert recorded with it, if it bypassed the gate.
    pub alert: Option<Alert>,
    /// The deployment, with its ledger index.
    pub deployment: Deployment,
    /// The ledger entry's receipt.
    pub receipt: Receipt,
    /// The deployment it rolls back, if it redeploys an artifact over another.
    pub rolls_back: Option<String>,
}

/// A deployment request, checked.
struct Checked {
    application: AppName,
    artifact: ArtifactRef,
    /// The artifact's digest, `sha256:…`.
    digest: String,
    production: bool,
    deployed_at: i64,
    /// The admin's mark when `deployed_at` is older than the late window.
    late: Option<Late>,
}

/// Records a deployment (pipeline, admin). The role is checked before a malformed body is
/// reported.
pub async fn record_deployment<E: From<AppError>>(
    app: &App,
    actor: &Actor,
    body: Result<DeploymentRequest, E>,
) -> Result<RecordedDeployment, E> {
    let req = authorized(actor, &[Role::Pipeline, Role::Admin], body)?;
    Ok(record(app, actor, &req).await?)
}

/// The steps of [`record_deployment`], once the body is read.
async fn record(
    app: &App,
    actor: &Actor,
    req: &DeploymentRequest,
) -> Result<RecordedDeployment, AppError> {
    let checked = check(app, actor, req).await?;
    let (decision, bypass) = gate_outcome(app, req, &checked).await?;
    let id = random_id("D")?;
    let (change, opened) = change_record(app, actor, req, &checked, bypass.is_some()).await?;
    let alert = match &bypass {
        Some(why) => Some(bypass_alert(app, actor, req, &checked, &id, why).await?),
        None => None,
    };
    let rolls_back = rolled_back(app, req, &checked).await?;
    let (source, commits) = source_and_commits(app, &checked).await?;
    let deployment = Deployment {
        id,
        ledger_index: 0,
        application: checked.application.to_string(),
        environment: req.environment.clone(),
        production: checked.production,
        artifact_name: checked.artifact.name.clone(),
        artifact_digest: checked.digest.clone(),
        decision,
        change,
        run: req.run.clone(),
        recorded_by: actor.name.clone(),
        bypass: bypass.is_some(),
        source_commit: source,
        deployed_at: checked.deployed_at,
        state: DeploymentState::Deployed,
        failed_at: None,
        restored_at: None,
        suspect_at: None,
        late: checked.late.clone(),
        state_late: None,
    };
    let body = json!({"deployment": deployment, "opened_change": opened, "alert": alert, "rolls_back": rolls_back});
    let receipt = app
        .append(Fact::admin(
            EntryKind::DeploymentRecorded,
            actor,
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
    if checked.production {
        crate::vulns::items::after(app, Some(checked.application.as_str())).await;
    }
    Ok(RecordedDeployment {
        deployment: Deployment {
            ledger_index: receipt.ledger_index,
            ..deployment
        },
        alert,
        rolls_back,
        receipt,
    })
}

/// Checks the request: the late flag (an admin's), names, scope, environment, time (within
/// the late window, or flagged late), run id, and that the application exists.
async fn check(app: &App, actor: &Actor, req: &DeploymentRequest) -> Result<Checked, AppError> {
    let allowed = permission(actor, req.late.as_ref())?;
    let application: AppName = req.application.parse()?;
    actor.require_application(application.as_str(), "deploy")?;
    let artifact: ArtifactRef = req.artifact.parse()?;
    check_environment(&req.environment)?;
    let production = req
        .production
        .unwrap_or_else(|| is_production(&req.environment));
    let deployed_at = parse_time(req.deployed_at.as_deref(), "deployed_at", app.now())?;
    let late = bounded(app, deployed_at, "deployed_at", allowed.as_ref())?;
    if let Some(run) = &req.run
        && (run.is_empty() || run.len() > 256)
    {
        return Err(AppError::bad_request(
            "invalid_run",
            "a run id is 1 to 256 characters",
        ));
    }
    if !app
        .store()
        .applications()
        .await?
        .iter()
        .any(|a| a.name == application.as_str())
    {
        return Err(AppError::not_found(format!("no application {application}")));
    }
    let digest = artifact.digest.to_string();
    Ok(Checked {
        application,
        artifact,
        digest,
        production,
        deployed_at,
        late,
    })
}

/// The gate decision the deployment follows (the one it names, which must be for this
/// deployment, or an allowing one for its artifact and environment), and why it is a gate
/// bypass when it is one.
async fn gate_outcome(
    app: &App,
    req: &DeploymentRequest,
    d: &Checked,
) -> Result<(Option<String>, Option<String>), AppError> {
    let store = app.store();
    let Some(id) = &req.decision else {
        return Ok(
            match store.allowing_decision(&d.digest, &req.environment).await? {
                Some(id) => (Some(id), None),
                None => (None, Some("no gate allowed it".to_owned())),
            },
        );
    };
    let decision = store.decision(id).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::UnprocessableEntity,
            "unknown_decision",
            format!("no decision {id}"),
        )
    })?;
    if decision.artifact_digest != d.digest
        || decision.environment != req.environment
        || decision.application != d.application.as_str()
    {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "decision_mismatch",
            format!(
                "decision {id} is for {} {} to {}, not this deployment",
                decision.application, decision.artifact_digest, decision.environment
            ),
        ));
    }
    let bypass = (!decision.allow).then(|| format!("decision {id} denied it"));
    Ok((Some(decision.id), bypass))
}

/// The change record of a production deployment: the open one for its artifact, or a new
/// one, deployed (or bypassed, without an allowing decision), that the same ledger entry
/// opens (production is described truthfully: an ungated change still gets its record).
/// None outside production.
async fn change_record(
    app: &App,
    actor: &Actor,
    req: &DeploymentRequest,
    d: &Checked,
    bypass: bool,
) -> Result<(Option<String>, Option<Box<Change>>), AppError> {
    if !d.production {
        return Ok((None, None));
    }
    let application = d.application.as_str();
    if let Some(open) = app
        .store()
        .open_change(application, &req.environment, &d.digest)
        .await?
    {
        return Ok((Some(open.id), None));
    }
    let policy = select_policy(app, application, &req.environment).await?;
    let mut change = new_change(
        app,
        &policy,
        &actor.name,
        application,
        &req.environment,
        &d.artifact,
        None,
        Default::default(),
        d.deployed_at,
    )
    .await?;
    change.status = if bypass {
        ChangeStatus::Bypassed
    } else {
        ChangeStatus::Deployed
    };
    Ok((Some(change.id.clone()), Some(Box::new(change))))
}

/// The gate-bypass alert of deployment `id`: high in production, where it names who could
/// have deployed by hand (the grants active in the environment then), medium elsewhere.
async fn bypass_alert(
    app: &App,
    actor: &Actor,
    req: &DeploymentRequest,
    d: &Checked,
    id: &str,
    why: &str,
) -> Result<Alert, AppError> {
    let held = if d.production {
        // Who could have deployed by hand: write grants on this application only.
        let grants: Vec<_> = app
            .store()
            .grants_during(&req.environment, d.deployed_at, d.deployed_at)
            .await?
            .into_iter()
            .filter(|g| g.application == d.application.as_str() && g.level == AccessLevel::Write)
            .collect();
        format!(
            "; {}",
            if grants.is_empty() {
                format!("no break-glass write grant on {} was active", d.application)
            } else {
                grants_sentence(&grants)
            }
        )
    } else {
        String::new()
    };
    Ok(Alert {
        id: random_id("A")?,
        ledger_index: 0,
        kind: "gate_bypass".into(),
        severity: if d.production { "high" } else { "medium" }.into(),
        application: Some(d.application.to_string()),
        environment: Some(req.environment.clone()),
        subject: id.to_owned(),
        message: format!(
            "{} deployed {} to {} but {why}{held}",
            actor.name, req.artifact, req.environment
        ),
        created_at: 0,
        links: vec![format!("/v1/deployments/{id}")],
        ..Default::default()
    })
}

/// The deployment this one rolls back: redeploying to production an artifact the
/// environment ran before, over a different one deployed no later, is a rollback of the one
/// it replaces (docs/metrics.md).
async fn rolled_back(
    app: &App,
    req: &DeploymentRequest,
    d: &Checked,
) -> Result<Option<String>, AppError> {
    let store = app.store();
    let application = d.application.as_str();
    if !d.production
        || !store
            .deployed_before(application, &req.environment, &d.digest)
            .await?
    {
        return Ok(None);
    }
    Ok(store
        .deployments(
            Some(application),
            Some(&req.environment),
            andon_store::Sort::RECORDED,
            None,
            1,
        )
        .await?
        .into_iter()
        .next()
        .filter(|current| {
            current.artifact_digest != d.digest && current.deployed_at <= d.deployed_at
        })
        .map(|current| current.id))
}

/// The source commit the artifact's provenance names, and, in production, the commits the
/// deployment brings to production first, with their author times.
async fn source_and_commits(
    app: &App,
    d: &Checked,
) -> Result<(Option<String>, Vec<(String, Option<i64>)>), AppError> {
    let application = d.application.as_str();
    let source = source_commit(app, application, &d.artifact.digest.hex()).await?;
    let commits = match (&source, d.production) {
        (Some(sha), true) => first_deployed(app, application, sha).await?,
        _ => Vec::new(),
    };
    Ok((source, commits))
}

/// Records that deployment `id` failed, was rolled back or was restored (pipeline, admin,
/// approver); answers the deployment as it now stands. The role is checked before a
/// malformed body is reported.
pub async fn deployment_state<E: From<AppError>>(
    app: &App,
    actor: &Actor,
    id: &str,
    body: Result<DeploymentStateRequest, E>,
) -> Result<Deployment, E> {
    let req = authorized(actor, &[Role::Pipeline, Role::Admin, Role::Approver], body)?;
    Ok(change_state(app, actor, id, &req).await?)
}

/// The steps of [`deployment_state`], once the body is read.
async fn change_state(
    app: &App,
    actor: &Actor,
    id: &str,
    req: &DeploymentStateRequest,
) -> Result<Deployment, AppError> {
    let allowed = permission(actor, req.late.as_ref())?;
    let state = later_state(&req.state)?;
    let at = parse_time(req.at.as_deref(), "at", app.now())?;
    let late = bounded(app, at, "at", allowed.as_ref())?;
    if let Some(n) = &req.note {
        check_text(n, "a note")?;
    }
    let d = find_deployment(app, id).await?;
    actor.require_application(&d.application, "report on")?;
    if at < d.deployed_at {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "invalid_time",
            format!(
                "{id} was deployed after {}",
                req.at.as_deref().unwrap_or("now")
            ),
        ));
    }
    check_transition(&d, state, at)?;
    let event = DeploymentEvent {
        deployment: id.to_owned(),
        state,
        at,
        note: req.note.clone(),
        actor: actor.name.clone(),
        late,
    };
    app.append(event_fact(actor, event)?).await?;
    find_deployment(app, id).await
}

/// A state a deployment may take after it was recorded: failed, rolled back or restored.
fn later_state(state: &str) -> Result<DeploymentState, AppError> {
    DeploymentState::parse(state)
        .filter(|s| *s != DeploymentState::Deployed)
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_state",
                format!("state {state:?} is not one of failed, rolled_back, restored"),
            )
        })
}

/// Refuses restoring a deployment that has not failed, or restoring it before it failed.
fn check_transition(d: &Deployment, state: DeploymentState, at: i64) -> Result<(), AppError> {
    if state != DeploymentState::Restored {
        return Ok(());
    }
    let failed = matches!(
        d.state,
        DeploymentState::Failed | DeploymentState::RolledBack
    );
    if !failed {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "not_failed",
            format!("{} has not failed: nothing to restore", d.id),
        ));
    }
    if d.failed_at.is_some_and(|f| at < f) {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "invalid_time",
            format!("{} cannot be restored before it failed", d.id),
        ));
    }
    Ok(())
}

/// The ledger fact of a deployment's state change, recorded by `actor`.
pub(crate) fn event_fact(actor: &Actor, event: DeploymentEvent) -> Result<Fact, AppError> {
    Ok(Fact::admin(
        EntryKind::DeploymentState,
        actor,
        serde_json::to_value(&event).map_err(|e| AppError::unavailable(e.to_string()))?,
        Effect::Change(ChangeEffect::DeploymentEvent(event)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(state: DeploymentState, failed_at: Option<i64>) -> Deployment {
        Deployment {
            id: "D-1".into(),
            ledger_index: 1,
            application: "pay".into(),
            environment: "production".into(),
            production: true,
            artifact_name: "pay".into(),
            artifact_digest: format!("sha256:{}", "a".repeat(64)),
            decision: None,
            change: None,
            run: None,
            recorded_by: "ci".into(),
            bypass: false,
            source_commit: None,
            deployed_at: 100,
            state,
            failed_at,
            restored_at: None,
            suspect_at: None,
            late: None,
            state_late: None,
        }
    }

    #[test]
    fn a_deployment_later_fails_is_rolled_back_or_restored() {
        assert_eq!(later_state("failed").ok(), Some(DeploymentState::Failed));
        assert_eq!(
            later_state("rolled_back").ok(),
            Some(DeploymentState::RolledBack)
        );
        assert_eq!(
            later_state("restored").ok(),
            Some(DeploymentState::Restored)
        );
        for wrong in ["deployed", "broken", ""] {
            assert_eq!(later_state(wrong).unwrap_err().code, "invalid_state");
        }
    }

    #[test]
    fn only_a_failed_deployment_is_restored_and_not_before_it_failed() {
        let running = deployment(DeploymentState::Deployed, None);
        assert!(check_transition(&running, DeploymentState::Failed, 150).is_ok());
        let e = check_transition(&running, DeploymentState::Restored, 150).unwrap_err();
        assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "not_failed"));
        let failed = deployment(DeploymentState::Failed, Some(200));
        assert!(check_transition(&failed, DeploymentState::Restored, 200).is_ok());
        let e = check_transition(&failed, DeploymentState::Restored, 199).unwrap_err();
        assert_eq!(
            (e.kind, e.code),
            (ErrorKind::UnprocessableEntity, "invalid_time")
        );
        let rolled_back = deployment(DeploymentState::RolledBack, None);
        assert!(check_transition(&rolled_back, DeploymentState::Restored, 150).is_ok());
    }
}
