//! Game days (docs/drills.md): a drill is started, runs while the team rehearses a change
//! through the real pipeline, gates and deployments, is finished (Andon links what happened
//! during it and measures its time to production) and gets a retrospective signed as
//! decisions are. Each step is a ledger entry. An application's risk level says which
//! applications the `drill-recent` control holds to a drill within N days.

pub mod links;

use andon_domain::drills::{
    Drill, DrillFinish, DrillStart, RETROSPECTIVE_PAYLOAD_TYPE, RISKS, RecordedRetrospective,
    Retrospective, RiskInput,
};
use andon_domain::{AppName, EntryKind, Envelope, Role, Sha256Digest};
use andon_store::{DrillEffect, Effect};
use serde_json::json;

use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// Who runs drills: admins, pipelines (of the application) and approvers.
pub const RUNNERS: &[Role] = &[Role::Admin, Role::Pipeline, Role::Approver];

/// Who records a retrospective: people (admins and approvers), not pipelines, since the
/// server signs it as what the team said.
pub const REVIEWERS: &[Role] = &[Role::Admin, Role::Approver];

/// The longest scenario, rehearsal or retrospective line, in characters.
const MAX_TEXT: usize = 2_000;
/// The most participants, or lines in each part of a retrospective.
const MAX_ITEMS: usize = 100;

fn text(field: &str, value: &str, required: bool) -> Result<(), AppError> {
    if required && value.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_drill",
            format!("{field} is empty"),
        ));
    }
    // Printed by the CLI and the pages: a newline or an escape sequence could forge a line.
    if value.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_drill",
            format!("{field} holds a control character (a newline, a tab, an escape)"),
        ));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::bad_request(
            "invalid_drill",
            format!("{field} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

fn lines(field: &str, values: &[String]) -> Result<(), AppError> {
    if values.len() > MAX_ITEMS {
        return Err(AppError::bad_request(
            "invalid_drill",
            format!("{field} has more than {MAX_ITEMS} entries"),
        ));
    }
    values
        .iter()
        .try_for_each(|v| text(&format!("an entry of {field}"), v, true))
}

async fn running(app: &App, id: &str) -> Result<Drill, AppError> {
    app.store()
        .drill(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no drill {id}")))
}

/// `POST /v1/drills`: a drill begins now, for an application that exists.
pub async fn start(app: &App, actor: &Actor, input: DrillStart) -> Result<Drill, AppError> {
    actor.require(RUNNERS)?;
    let application: AppName = input.application.parse()?;
    actor.require_application(application.as_str(), "drill")?;
    text("scenario", &input.scenario, true)?;
    text("rehearses", &input.rehearses, true)?;
    if let Some(v) = &input.vulnerability {
        text("vulnerability (when given)", v, true)?;
    }
    lines("participants", &input.participants)?;
    let distinct: std::collections::BTreeSet<&String> = input.participants.iter().collect();
    if distinct.len() != input.participants.len() {
        return Err(AppError::bad_request(
            "invalid_drill",
            "a participant is named twice",
        ));
    }
    crate::gates::require_known(app, &application).await?;
    let now = app.now();
    let nonce = crate::new_token()?;
    let id = format!(
        "DR-{}",
        &Sha256Digest::of(format!("{application}\n{now}\n{nonce}").as_bytes()).hex()[..16]
    );
    let drill = Drill {
        id: id.clone(),
        application: application.to_string(),
        scenario: input.scenario,
        rehearses: input.rehearses,
        vulnerability: input.vulnerability,
        participants: input.participants,
        started_by: actor.name.clone(),
        started_at: now,
        ..Drill::default()
    };
    let body = json!({
        "drill": id, "application": drill.application, "scenario": drill.scenario,
        "rehearses": drill.rehearses, "vulnerability": drill.vulnerability,
        "participants": drill.participants, "started_at": now,
    });
    let receipt = app
        .append(Fact::admin(
            EntryKind::DrillStarted,
            actor,
            body,
            Effect::Drill(DrillEffect::Started(Box::new(drill.clone()))),
        ))
        .await?;
    Ok(Drill {
        ledger_index: receipt.ledger_index,
        ..drill
    })
}

/// `POST /v1/drills/{id}/finish`: the drill ends now. Andon links the application's
/// evidence runs, gate decisions and deployments since the start, and measures the time to
/// the first production deployment and the steps before it.
pub async fn finish(
    app: &App,
    actor: &Actor,
    id: &str,
    input: DrillFinish,
) -> Result<Drill, AppError> {
    actor.require(RUNNERS)?;
    let drill = running(app, id).await?;
    actor.require_application(&drill.application, "drill")?;
    if drill.finished_at.is_some() {
        return Err(AppError::conflict(format!("drill {id} already finished")));
    }
    let now = app.now().max(drill.started_at);
    let activity = app
        .store()
        .drill_activity(&drill.application, drill.started_at, now)
        .await?;
    let links = links::links(drill.started_at, activity);
    let outcome = if input.aborted {
        "aborted"
    } else {
        "completed"
    };
    let ttp = links.segments.production_ms;
    let body = json!({
        "drill": id, "finished_at": now, "outcome": outcome, "time_to_production_ms": ttp,
        "segments": links.segments, "runs": links.runs, "decisions": links.decisions,
        "deployments": links.deployments,
    });
    let receipt = app
        .append(Fact::admin(
            EntryKind::DrillFinished,
            actor,
            body,
            Effect::Drill(DrillEffect::Finished {
                drill: id.to_owned(),
                at: now,
                outcome: outcome.into(),
                time_to_production_ms: ttp,
                links: links.clone(),
            }),
        ))
        .await?;
    Ok(Drill {
        finished_at: Some(now),
        outcome: Some(outcome.into()),
        time_to_production_ms: ttp,
        links: Some(links),
        finished_index: Some(receipt.ledger_index),
        ..drill
    })
}

/// `POST /v1/drills/{id}/retrospective`: what went well, what went badly and the actions
/// with their owners, once the drill has finished; signed by the server's decision key as a
/// DSSE envelope, which the entry binds by its SHA-256.
pub async fn retrospective(
    app: &App,
    actor: &Actor,
    id: &str,
    input: Retrospective,
) -> Result<Drill, AppError> {
    actor.require(REVIEWERS)?;
    lines("went_well", &input.went_well)?;
    lines("went_badly", &input.went_badly)?;
    if input.actions.len() > MAX_ITEMS {
        return Err(AppError::bad_request(
            "invalid_drill",
            format!("actions has more than {MAX_ITEMS} entries"),
        ));
    }
    let mut due_dates = Vec::new();
    for a in &input.actions {
        text("an action's what", &a.what, true)?;
        text("an action's owner", &a.owner, true)?;
        if let Some(due) = &a.due {
            due_dates.push((due, crate::input::instant(due)?));
        }
    }
    if input.went_well.is_empty() && input.went_badly.is_empty() && input.actions.is_empty() {
        return Err(AppError::bad_request(
            "invalid_drill",
            "a retrospective says what went well, what went badly or what to do",
        ));
    }
    let drill = running(app, id).await?;
    if let Some((due, _)) = due_dates.iter().find(|(_, at)| *at < drill.started_at) {
        return Err(AppError::bad_request(
            "invalid_drill",
            format!("an action is due {due}, before the drill started"),
        ));
    }
    if drill.finished_at.is_none() {
        return Err(AppError::conflict(format!(
            "drill {id} has not finished: finish it first"
        )));
    }
    if drill.retrospective.is_some() {
        return Err(AppError::conflict(format!(
            "drill {id} already has its retrospective"
        )));
    }
    let now = app.now();
    let payload = serde_json::to_vec(&json!({
        "drill": id, "application": drill.application, "scenario": drill.scenario,
        "rehearses": drill.rehearses, "vulnerability": drill.vulnerability,
        "participants": drill.participants, "started_at": drill.started_at,
        "finished_at": drill.finished_at, "outcome": drill.outcome,
        "time_to_production_ms": drill.time_to_production_ms,
        "segments": drill.links.as_ref().map(|l| &l.segments),
        "went_well": input.went_well, "went_badly": input.went_badly, "actions": input.actions,
        "recorded_by": actor.name, "recorded_at": now,
    }))
    .map_err(|e| AppError::unavailable(e.to_string()))?;
    let signers = app.0.keys.signers()?;
    let envelope = serde_json::to_string(&Envelope::sign(
        RETROSPECTIVE_PAYLOAD_TYPE,
        &payload,
        &signers.decision,
    ))
    .map_err(|e| AppError::unavailable(e.to_string()))?;
    let document = Sha256Digest::of(envelope.as_bytes()).hex();
    let recorded = RecordedRetrospective {
        retrospective: input,
        recorded_by: actor.name.clone(),
        recorded_at: now,
        document: document.clone(),
        ledger_index: 0,
    };
    let body = json!({
        "drill": id, "went_well": recorded.retrospective.went_well,
        "went_badly": recorded.retrospective.went_badly,
        "actions": recorded.retrospective.actions, "document": document,
    });
    let receipt = app
        .append(
            Fact::admin(
                EntryKind::DrillRetrospective,
                actor,
                body,
                Effect::Drill(DrillEffect::Retrospective {
                    drill: id.to_owned(),
                    retrospective: recorded.clone(),
                    envelope: envelope.clone(),
                }),
            )
            .signed_under(signers.generation),
        )
        .await?;
    Ok(Drill {
        retrospective: Some(RecordedRetrospective {
            ledger_index: receipt.ledger_index,
            ..recorded
        }),
        retrospective_envelope: Some(envelope),
        ..drill
    })
}

/// `GET /v1/drills?application=`: newest first, at most 500.
pub async fn list(
    app: &App,
    _actor: &Actor,
    application: Option<&str>,
) -> Result<Vec<Drill>, AppError> {
    Ok(app.store().drills(application, 500).await?)
}

/// `GET /v1/drills/{id}`: one drill with its signed retrospective.
pub async fn show(app: &App, _actor: &Actor, id: &str) -> Result<Drill, AppError> {
    running(app, id).await
}

/// `PUT /v1/applications/{name}/risk` (admins): the application's risk level, which the
/// `drill-recent` control reads.
pub async fn set_risk(
    app: &App,
    actor: &Actor,
    name: &str,
    input: RiskInput,
) -> Result<serde_json::Value, AppError> {
    actor.require(&[Role::Admin])?;
    let application: AppName = name.parse()?;
    if !RISKS.contains(&input.risk.as_str()) {
        return Err(AppError::bad_request(
            "invalid_risk",
            format!("risk is one of {}, not {:?}", RISKS.join(", "), input.risk),
        ));
    }
    crate::gates::require_known(app, &application).await?;
    // The same level again changes nothing and writes nothing.
    if app.store().application_risk(application.as_str()).await? == Some(input.risk.clone()) {
        return Ok(json!({
            "application": application.as_str(), "risk": input.risk, "unchanged": true,
        }));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::ApplicationRisk,
            actor,
            json!({"application": application.as_str(), "risk": input.risk}),
            Effect::Drill(DrillEffect::Risk {
                application: application.to_string(),
                risk: input.risk.clone(),
            }),
        ))
        .await?;
    Ok(json!({
        "application": application.as_str(), "risk": input.risk,
        "ledger_index": receipt.ledger_index,
    }))
}

/// The gate input's `drills`: the application's risk level and its newest completed drill
/// (id, finished at), with its age in whole days at `now`.
pub fn gate_input(risk: Option<&str>, last: Option<(&str, i64)>, now: i64) -> serde_json::Value {
    json!({
        "risk": risk,
        "last": last.map(|(id, at)| json!({
            "id": id,
            "finished_at": crate::input::rfc3339(Some(at)),
            "age_days": (now - at).max(0) / 86_400_000,
        })),
    })
}
