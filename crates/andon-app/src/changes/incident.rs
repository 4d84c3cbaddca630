//! Incidents (docs/metrics.md): a failure reported by an incident tool, linked to the
//! deployment it names or to the last production deployment at or before its start, and
//! recorded as that deployment's failure, and restoration when resolved.

use andon_domain::api::IncidentRequest;
use andon_domain::change::{Deployment, DeploymentEvent, DeploymentState};
use andon_domain::late::Late;
use andon_domain::{AppName, Role};
use serde::Serialize;

use crate::changes::authorized;
use crate::changes::deploy::event_fact;
use crate::changes::list::find_deployment;
use crate::input::{check_text, parse_time};
use crate::late::{bounded, permission};
use crate::{Actor, App, AppError, ErrorKind};

/// A reported incident, as `POST /v1/incidents` answers it.
#[derive(Clone, Debug, Serialize)]
pub struct ReportedIncident {
    /// The deployment it was linked to, as it now stands.
    pub deployment: Deployment,
    /// How it was linked: `explicit` or `last_deployment_before`.
    pub linked_by: &'static str,
}

/// Records an incident (pipeline, admin). The role is checked before a malformed body is
/// reported.
pub async fn report_incident<E: From<AppError>>(
    app: &App,
    actor: &Actor,
    body: Result<IncidentRequest, E>,
) -> Result<ReportedIncident, E> {
    let req = authorized(actor, &[Role::Pipeline, Role::Admin], body)?;
    Ok(report(app, actor, &req).await?)
}

/// The steps of [`report_incident`], once the body is read.
async fn report(
    app: &App,
    actor: &Actor,
    req: &IncidentRequest,
) -> Result<ReportedIncident, AppError> {
    let allowed = permission(actor, req.late.as_ref())?;
    let application: AppName = req.application.parse()?;
    actor.require_application(application.as_str(), "report incidents of")?;
    if req.id.is_empty() || req.id.len() > 128 {
        return Err(AppError::bad_request(
            "invalid_incident",
            "an incident id is 1 to 128 characters",
        ));
    }
    check_text(&req.title, "a title")?;
    let started = parse_time(Some(&req.started_at), "started_at", app.now())?;
    let resolved = match &req.resolved_at {
        Some(r) => Some(parse_time(Some(r), "resolved_at", app.now())?),
        None => None,
    };
    let started_late = bounded(app, started, "started_at", allowed.as_ref())?;
    let resolved_late = match resolved {
        Some(r) => bounded(app, r, "resolved_at", allowed.as_ref())?,
        None => None,
    };
    if resolved.is_some_and(|r| r < started) {
        return Err(AppError::bad_request(
            "invalid_time",
            "an incident is resolved after it started",
        ));
    }
    let (d, linked_by) = linked_deployment(app, req, &application, started).await?;
    let facts = events(
        actor,
        req,
        &d,
        (started, started_late),
        resolved.map(|r| (r, resolved_late)),
    )
    .into_iter()
    .map(|e| event_fact(actor, e))
    .collect::<Result<Vec<_>, AppError>>()?;
    app.append_all(facts).await?;
    Ok(ReportedIncident {
        deployment: find_deployment(app, &d.id).await?,
        linked_by,
    })
}

/// The deployment an incident that started at `started` is linked to, and how: the one it
/// names (of its application, deployed before it started), or the last production
/// deployment at or before its start.
async fn linked_deployment(
    app: &App,
    req: &IncidentRequest,
    application: &AppName,
    started: i64,
) -> Result<(Deployment, &'static str), AppError> {
    let store = app.store();
    let Some(id) = &req.deployment else {
        let d = store
            .production_deployment_at(application.as_str(), started)
            .await?
            .ok_or_else(|| {
                AppError::new(
                    ErrorKind::UnprocessableEntity,
                    "no_deployment",
                    format!("no production deployment of {application} before the incident"),
                )
            })?;
        return Ok((d, "last_deployment_before"));
    };
    let d = store.deployment(id).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::UnprocessableEntity,
            "unknown_deployment",
            format!("no deployment {id}"),
        )
    })?;
    if d.application != application.as_str() || started < d.deployed_at {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "deployment_mismatch",
            format!("{id} is not a deployment of {application} before the incident"),
        ));
    }
    Ok((d, "explicit"))
}

/// The state changes an incident records on its deployment: failed when it started, and
/// restored when it was resolved, each with its time and its late mark (when it is older
/// than the late window).
fn events(
    actor: &Actor,
    req: &IncidentRequest,
    d: &Deployment,
    (started, started_late): (i64, Option<Late>),
    resolved: Option<(i64, Option<Late>)>,
) -> Vec<DeploymentEvent> {
    let failed = DeploymentEvent {
        deployment: d.id.clone(),
        state: DeploymentState::Failed,
        at: started,
        note: Some(format!("incident {}: {}", req.id, req.title)),
        actor: actor.name.clone(),
        late: started_late,
    };
    let restored = resolved.map(|(at, late)| DeploymentEvent {
        state: DeploymentState::Restored,
        at,
        late,
        ..failed.clone()
    });
    std::iter::once(failed).chain(restored).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_incident_fails_its_deployment_and_restores_it_when_resolved() {
        let actor = Actor {
            name: "pager".into(),
            role: Role::Pipeline,
            applications: vec!["pay".into()],
            groups: Vec::new(),
            via: None,
            sso: None,
        };
        let req = IncidentRequest {
            application: "pay".into(),
            id: "INC-7".into(),
            title: "checkout down".into(),
            started_at: "2024-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "id": "D-1", "ledger_index": 1, "application": "pay", "environment": "production",
            "production": true, "artifact_name": "pay", "artifact_digest": "sha256:ab",
            "recorded_by": "ci", "bypass": false, "deployed_at": 5, "state": "deployed",
        }))
        .expect("a deployment");
        let open = events(&actor, &req, &d, (10, None), None);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].state, DeploymentState::Failed);
        assert_eq!(open[0].at, 10);
        assert_eq!(
            open[0].note.as_deref(),
            Some("incident INC-7: checkout down")
        );
        let late = Late {
            reason: "from the incident tool's export".into(),
            allowed_by: "root".into(),
        };
        let done = events(&actor, &req, &d, (10, Some(late.clone())), Some((20, None)));
        assert_eq!(done[0].late.as_ref(), Some(&late), "the start was late");
        assert_eq!(done[1].late, None, "the resolution was on time");
        assert_eq!(done.len(), 2);
        assert_eq!(
            (
                done[1].state,
                done[1].at,
                &done[1].note,
                &done[1].deployment
            ),
            (
                DeploymentState::Restored,
                20,
                &done[0].note,
                &done[0].deployment
            )
        );
    }
}
