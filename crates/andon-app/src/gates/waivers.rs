//! Waivers: a time-boxed exception to one control (or one vulnerability) of an
//! application, requested by one identity and approved by another.

use andon_domain::api::WaiverRequest;
use andon_domain::query::gates::WaiverQuery;
use andon_domain::{AppName, EntryKind, Role};
use andon_store::{Effect, WaiverRow};
use serde_json::{Value, json};

use super::policies::select_policy;
use crate::input::{random_id, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// Who may request a waiver: anyone but an auditor. A transport that reads the request
/// before calling [`request`] checks this first, so that a caller without the role is
/// refused before its body is looked at.
pub const REQUESTERS: &[Role] = &[Role::Admin, Role::Approver, Role::Pipeline];

/// Who may approve a waiver (never their own request).
const APPROVERS: &[Role] = &[Role::Admin, Role::Approver];

/// The longest a waiver may last: 90 days.
const MAX_WAIVER_HOURS: u32 = 24 * 90;

/// Refuses a request whose reason, ticket, duration or vulnerability id is out of bounds
/// (`invalid_waiver`).
fn check_request(req: &WaiverRequest) -> Result<(), AppError> {
    let text_ok = |s: &str, max: usize| !s.trim().is_empty() && s.len() <= max;
    if !text_ok(&req.reason, 2000) || !text_ok(&req.ticket, 128) {
        return Err(AppError::bad_request(
            "invalid_waiver",
            "a waiver needs a reason (up to 2000 characters) and a ticket (up to 128)",
        ));
    }
    if req.hours == 0 || req.hours > MAX_WAIVER_HOURS {
        return Err(AppError::bad_request(
            "invalid_waiver",
            format!("a waiver lasts 1 to {MAX_WAIVER_HOURS} hours"),
        ));
    }
    if let Some(v) = &req.vulnerability
        && (v.is_empty() || v.len() > 128)
    {
        return Err(AppError::bad_request(
            "invalid_waiver",
            "a vulnerability id is 1 to 128 characters",
        ));
    }
    Ok(())
}

/// Requests a waiver of a control of the production policy that applies to the
/// application; it is in force once another identity approves it.
pub async fn request(app: &App, actor: &Actor, req: WaiverRequest) -> Result<WaiverRow, AppError> {
    actor.require(REQUESTERS)?;
    let application: AppName = req.application.parse()?;
    super::require_known(app, &application).await?;
    let policy = select_policy(app, application.as_str(), "production").await?;
    if !policy.controls().iter().any(|c| c.id == req.control) {
        return Err(AppError::bad_request(
            "unknown_control",
            format!("no control {:?} in policy {}", req.control, policy.name),
        ));
    }
    check_request(&req)?;
    let id = random_id("W")?;
    let duration_ms = i64::from(req.hours) * 3_600_000;
    let body = json!({
        "id": id, "application": application.as_str(), "control": req.control,
        "vulnerability": req.vulnerability, "reason": req.reason, "ticket": req.ticket,
        "hours": req.hours,
    });
    let effect = Effect::WaiverRequested {
        id: id.clone(),
        application: application.to_string(),
        control: req.control,
        vulnerability: req.vulnerability,
        reason: req.reason,
        ticket: req.ticket,
        requested_by: actor.name.clone(),
        duration_ms,
    };
    record_step(app, EntryKind::WaiverRequested, actor, body, effect, &id).await
}

/// Approves a waiver for an approver or admin other than its requester: it is in force
/// from now for the hours requested.
pub async fn approve(app: &App, actor: &Actor, id: &str) -> Result<WaiverRow, AppError> {
    actor.require(APPROVERS)?;
    actor.require_own_token("approve a waiver")?;
    let w = app
        .store()
        .waiver(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no waiver {id}")))?;
    if w.requested_by == actor.name {
        return Err(AppError::forbidden(
            "self_approval",
            format!(
                "{} requested waiver {id} and may not approve it",
                actor.name
            ),
        ));
    }
    if w.approved_by.is_some() {
        return Err(AppError::conflict(format!(
            "waiver {id} is already approved"
        )));
    }
    let expires_at = app.now() + w.duration_ms;
    let body = json!({
        "id": id, "approved_by": actor.name,
        "expires_at": rfc3339(Some(expires_at)),
    });
    let effect = Effect::WaiverApproved {
        id: id.to_owned(),
        approved_by: actor.name.clone(),
        expires_at,
    };
    let waiver = record_step(app, EntryKind::WaiverApproved, actor, body, effect, id).await?;
    if waiver.vulnerability.is_some() {
        crate::vulns::items::after(app, Some(&waiver.application)).await;
    }
    Ok(waiver)
}

/// The waivers, of one application or all.
pub async fn list(app: &App, _actor: &Actor, q: &WaiverQuery) -> Result<Vec<WaiverRow>, AppError> {
    Ok(app.store().waivers(q.app.as_deref()).await?)
}

/// Ledgers a waiver request or approval and answers with the waiver as it now stands.
async fn record_step(
    app: &App,
    kind: EntryKind,
    actor: &Actor,
    body: Value,
    effect: Effect,
    id: &str,
) -> Result<WaiverRow, AppError> {
    app.append(Fact::admin(kind, actor, body, effect)).await?;
    app.store()
        .waiver(id)
        .await?
        .ok_or_else(|| AppError::unavailable(format!("waiver {id} was not stored")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> WaiverRequest {
        WaiverRequest {
            application: "shop".into(),
            control: "vulnerabilities".into(),
            vulnerability: Some("CVE-2024-1".into()),
            reason: "no fix released yet".into(),
            ticket: "SEC-1".into(),
            hours: 24,
        }
    }

    fn refusal(r: WaiverRequest) -> String {
        let e = check_request(&r).unwrap_err();
        assert_eq!(e.code, "invalid_waiver");
        e.message
    }

    #[test]
    fn a_waiver_needs_a_reason_and_a_ticket() {
        assert!(check_request(&req()).is_ok());
        let blank = refusal(WaiverRequest {
            reason: "  ".into(),
            ..req()
        });
        assert!(blank.contains("needs a reason"));
        refusal(WaiverRequest {
            reason: "x".repeat(2001),
            ..req()
        });
        refusal(WaiverRequest {
            ticket: String::new(),
            ..req()
        });
        refusal(WaiverRequest {
            ticket: "T".repeat(129),
            ..req()
        });
        assert!(
            check_request(&WaiverRequest {
                reason: "x".repeat(2000),
                ticket: "T".repeat(128),
                ..req()
            })
            .is_ok()
        );
    }

    #[test]
    fn a_waiver_lasts_one_hour_to_ninety_days() {
        assert!(refusal(WaiverRequest { hours: 0, ..req() }).contains("1 to 2160 hours"));
        refusal(WaiverRequest {
            hours: MAX_WAIVER_HOURS + 1,
            ..req()
        });
        assert!(
            check_request(&WaiverRequest {
                hours: MAX_WAIVER_HOURS,
                ..req()
            })
            .is_ok()
        );
    }

    #[test]
    fn a_vulnerability_id_is_one_to_128_characters() {
        refusal(WaiverRequest {
            vulnerability: Some(String::new()),
            ..req()
        });
        refusal(WaiverRequest {
            vulnerability: Some("V".repeat(129)),
            ..req()
        });
        assert!(
            check_request(&WaiverRequest {
                vulnerability: None,
                ..req()
            })
            .is_ok()
        );
    }
}
