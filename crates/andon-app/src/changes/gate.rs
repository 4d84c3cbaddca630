//! The change record a production gate opens or finds, classed by the policy's change rules.

use andon_domain::api::GateRequest;
use andon_domain::change::{Change, ChangeClass, ChangeFields, ChangeStatus};
use andon_domain::{AppName, ArtifactRef, EntryKind};
use andon_policy::Policy;
use andon_store::{ChangeEffect, Effect, EvidenceFilter, EvidenceRow};
use serde_json::{Value, json};

use crate::input::{MAX_TEXT, check_text, random_id, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// The change rules' default history window.
const DEFAULT_WINDOW_DAYS: i64 = 90;

/// The change record as the gate input shows it to the `change-approval` control.
pub fn change_input(c: &Change) -> Value {
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
pub async fn artifact_evidence(
    app: &App,
    application: &str,
    digest_hex: &str,
) -> Result<Vec<(EvidenceRow, Value)>, AppError> {
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
pub fn provenance_of(evidence: &[(EvidenceRow, Value)]) -> Option<&(EvidenceRow, Value)> {
    evidence.iter().find(|(_, s)| s["kind"] == "provenance")
}

/// The source commit a provenance summary names, lowercase.
pub fn source_of(evidence: &[(EvidenceRow, Value)]) -> Option<String> {
    provenance_of(evidence)
        .and_then(|(_, s)| s["source_commit"].as_str())
        .map(str::to_ascii_lowercase)
}

/// The source commit the artifact's provenance names, if any.
pub async fn source_commit(
    app: &App,
    application: &str,
    digest_hex: &str,
) -> Result<Option<String>, AppError> {
    Ok(source_of(
        &artifact_evidence(app, application, digest_hex).await?,
    ))
}

/// Classes a new change with the policy's change rules, from the change type's history.
pub async fn classify(
    app: &App,
    policy: &Policy,
    application: &str,
    environment: &str,
    emergency: Option<&str>,
    fields: &andon_domain::change::ChangeFields,
    now_ms: i64,
) -> Result<andon_domain::change::Classification, AppError> {
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
        "unrestored": failures - restored,
        // No deployments is no rate, and no restoration no restore time: never a zero.
        "change_success_rate": (deployments > 0).then(|| 1.0 - failures as f64 / deployments as f64),
        "mean_time_to_restore_minutes": (restored > 0).then(|| minutes / restored as f64),
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
pub async fn new_change(
    app: &App,
    policy: &Policy,
    requested_by: &str,
    application: &str,
    environment: &str,
    artifact: &ArtifactRef,
    emergency: Option<&str>,
    fields: andon_domain::change::ChangeFields,
    now_ms: i64,
) -> Result<Change, AppError> {
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
    // A standard change is pre-approved by its class, and approved once a gate allows it
    // (see [`settle`]); an emergency is under its flag at once.
    let status = match class {
        ChangeClass::Normal | ChangeClass::Standard => ChangeStatus::Pending,
        ChangeClass::Emergency => ChangeStatus::Approved,
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

/// A production gate's change record, before the gate decides: the one found or opened,
/// and what the gate's outcome will write ([`settle`]).
pub struct GateChange {
    /// The change the gate input shows.
    pub change: Change,
    /// It is new: [`settle`] opens it.
    pub new: bool,
    /// The open change it replaces, which [`settle`] marks superseded.
    pub supersedes: Option<Change>,
    /// Its fields were completed by this request: [`settle`] records them.
    pub completed: bool,
}

/// The change record of a production gate (docs/changes.md, "One change per artifact"):
/// the open change for this artifact and environment, its fields completed by the request;
/// or a new change, classed by the policy's change rules, when there is none, or when this
/// request asks for more than the open one (an emergency, or paths that make it a stricter
/// class), which it then supersedes. `open` is the artifact's open change in the
/// environment ([`andon_store::Store::open_change`]), as the gate found it. Nothing is
/// written until [`settle`].
pub async fn change_for_gate(
    app: &App,
    policy: &Policy,
    caller: &Actor,
    application: &AppName,
    artifact: &ArtifactRef,
    req: &GateRequest,
    open: Option<Change>,
) -> Result<GateChange, AppError> {
    let emergency = req.emergency.as_deref().map(str::trim);
    if let Some(reason) = emergency
        && (reason.is_empty() || reason.len() > MAX_TEXT)
    {
        return Err(AppError::bad_request(
            "invalid_emergency",
            format!("an emergency needs a reason, up to {MAX_TEXT} characters"),
        ));
    }
    let fields = req.change.clone().unwrap_or_default();
    for t in [&fields.risk, &fields.rollback_plan].into_iter().flatten() {
        check_text(t, "a change field")?;
    }
    let planned = |t: &Option<String>, name: &str| -> Result<Option<i64>, AppError> {
        t.as_deref()
            .map(|t| {
                t.parse::<jiff::Timestamp>()
                    .map(|t| t.as_millisecond())
                    .map_err(|e| {
                        AppError::bad_request(
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
            return Err(AppError::bad_request(
                "invalid_time",
                "planned_end is before planned_start",
            ));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(AppError::bad_request(
                "invalid_time",
                "a planned window has both planned_start and planned_end",
            ));
        }
        _ => {}
    }
    let now = app.now();
    // A change of these fields as the policy's rules class it now (not yet recorded).
    let classed = async |fields: ChangeFields| {
        new_change(
            app,
            policy,
            &caller.name,
            application.as_str(),
            &req.environment,
            artifact,
            emergency,
            fields,
            now,
        )
        .await
    };
    let Some(open) = open else {
        let change = classed(fields).await?;
        return Ok(GateChange {
            change,
            new: true,
            supersedes: None,
            completed: false,
        });
    };
    // A rejected change stays rejected, and an emergency is already the most it can be.
    if open.status == ChangeStatus::Rejected || open.class == ChangeClass::Emergency {
        return Ok(GateChange {
            change: open,
            new: false,
            supersedes: None,
            completed: false,
        });
    }
    let merged = completed(&open.fields, fields);
    // A retry that brings nothing new finds its change as it is: no classing again (the
    // history query and the rules) on every gate of the same artifact.
    if merged == open.fields && emergency.is_none() {
        return Ok(GateChange {
            change: open,
            new: false,
            supersedes: None,
            completed: false,
        });
    }
    let candidate = classed(merged.clone()).await?;
    if stricter(&candidate, &open) {
        let mut change = candidate;
        change.classification.reasons.push(format!(
            "supersedes {} ({}), opened for the same artifact with less",
            open.id,
            open.class.as_str()
        ));
        return Ok(GateChange {
            change,
            new: true,
            supersedes: Some(open),
            completed: false,
        });
    }
    let completed = merged != open.fields;
    Ok(GateChange {
        change: Change {
            fields: merged,
            ..open
        },
        new: false,
        supersedes: None,
        completed,
    })
}

/// The open change's fields completed by a later request: paths and scripts added, other
/// fields given again replaced.
fn completed(open: &ChangeFields, asked: ChangeFields) -> ChangeFields {
    let mut f = open.clone();
    for p in asked.paths {
        if !f.paths.contains(&p) {
            f.paths.push(p);
        }
    }
    for s in asked.scripts {
        if !f.scripts.iter().any(|x| x.name == s.name) {
            f.scripts.push(s);
        }
    }
    f.change_type = asked.change_type.or(f.change_type);
    f.risk = asked.risk.or(f.risk);
    f.rollback_plan = asked.rollback_plan.or(f.rollback_plan);
    if asked.planned_start.is_some() {
        (f.planned_start, f.planned_end) = (asked.planned_start, asked.planned_end);
    }
    f
}

/// Whether `candidate` asks for more than `open`: an emergency, a normal class over a
/// standard one, more approvals, or an approver group the open change does not name.
fn stricter(candidate: &Change, open: &Change) -> bool {
    let rank = |c: ChangeClass| match c {
        ChangeClass::Standard => 0,
        ChangeClass::Normal => 1,
        ChangeClass::Emergency => 2,
    };
    let (c, o) = (&candidate.classification, &open.classification);
    rank(candidate.class) > rank(open.class)
        || c.approvals > o.approvals
        || (c.approver_group.is_some() && c.approver_group != o.approver_group)
}

/// Writes what the gate's outcome makes of its change: the superseded change closed, then a
/// new change opened, or the open one's completed fields; a standard change is approved
/// only by a gate that allowed it (denied, it stays pending). Returns the change as
/// recorded.
pub async fn settle(
    app: &App,
    caller: &Actor,
    gate: GateChange,
    allowed: bool,
) -> Result<Change, AppError> {
    let GateChange {
        mut change,
        new,
        supersedes,
        completed,
    } = gate;
    if let Some(old) = supersedes {
        let closed = Change {
            status: ChangeStatus::Superseded,
            ..old
        };
        append_change(
            app,
            caller,
            EntryKind::ChangeUpdated,
            &closed,
            Some(&change.id),
        )
        .await?;
    }
    let approve =
        change.class == ChangeClass::Standard && change.status == ChangeStatus::Pending && allowed;
    if approve {
        change.status = ChangeStatus::Approved;
    }
    if new {
        change.ledger_index =
            append_change(app, caller, EntryKind::ChangeCreated, &change, None).await?;
    } else if approve || completed {
        append_change(app, caller, EntryKind::ChangeUpdated, &change, None).await?;
    }
    Ok(change)
}

/// Appends a change record opened or rewritten; returns its ledger index.
async fn append_change(
    app: &App,
    caller: &Actor,
    kind: EntryKind,
    change: &Change,
    superseded_by: Option<&str>,
) -> Result<u64, AppError> {
    let mut body =
        serde_json::to_value(change).map_err(|e| AppError::unavailable(e.to_string()))?;
    if let Some(by) = superseded_by {
        body["superseded_by"] = by.into();
    }
    let effect = if kind == EntryKind::ChangeCreated {
        ChangeEffect::Change(Box::new(change.clone()))
    } else {
        ChangeEffect::Update(Box::new(change.clone()))
    };
    let receipt = app
        .append(Fact::admin(kind, caller, body, Effect::Change(effect)))
        .await?;
    Ok(receipt.ledger_index)
}

/// The change record `id`, or `not_found`.
pub async fn find_change(app: &App, id: &str) -> Result<Change, AppError> {
    app.store()
        .change(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no change {id}")))
}
