//! Break-glass requests: asked for by one identity, approved or rejected by another, valid
//! for their minutes from approval, ended early by revocation or recorded when they expire.

use andon_domain::access::{AccessLevel, AccessRequest, AccessStatus};
use andon_domain::api::AccessRequestInput;
use andon_domain::query::access::{GrantsQuery, RequestsQuery};
use andon_domain::{AppName, EntryKind, Role};
use andon_store::{AccessEffect, Effect};
use serde_json::{Value, json};

use super::{check_debt, known_application};
use crate::input::{check_environment, check_text, is_production, random_id, rfc3339};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// A request as read: the stored fact plus what it is at `now` (`state`, `valid`) and its
/// times as RFC 3339 (`requested_time`, `decided_time`, ...).
fn view(r: &AccessRequest, now: i64) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["state"] = r.state_at(now).into();
    v["valid"] = r.valid_at(now).into();
    for (k, t) in [
        ("requested", Some(r.requested_at)),
        ("decided", r.decided_at),
        ("expires", r.expires_at),
        ("revoked", r.revoked_at),
    ] {
        if let Some(s) = rfc3339(t) {
            v[format!("{k}_time")] = s.into();
        }
    }
    v
}

/// The request `id`, or `not_found`.
async fn find(app: &App, id: &str) -> Result<AccessRequest, AppError> {
    app.store()
        .access_request(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no access request {id}")))
}

/// A required text of a request, trimmed: present (`missing_field`) and not too long.
fn required(s: &str, what: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(AppError::bad_request(
            "missing_field",
            format!("an access request needs a {what}"),
        ));
    }
    check_text(s, what)?;
    Ok(s.to_owned())
}

/// Refuses a grant of `minutes` outside 1 to `max` (`duration_too_long`).
fn check_minutes(minutes: u32, max: u32) -> Result<(), AppError> {
    if minutes == 0 || minutes > max {
        return Err(AppError::bad_request(
            "duration_too_long",
            format!("a grant lasts 1 to {max} minutes, not {minutes}; ask again when it ends"),
        ));
    }
    Ok(())
}

/// Refuses a caller who may not ask for access (auditors). The HTTP layer asks before it
/// reads the body, so such a caller hears 403 whatever it sent.
pub fn may_request(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin, Role::Approver, Role::Pipeline])
}

/// `POST /v1/access/requests`: asks for `read` or `write` access to an application's
/// environment, for a reason and a ticket; pending until someone else decides.
pub async fn request(app: &App, actor: &Actor, req: AccessRequestInput) -> Result<Value, AppError> {
    may_request(actor)?;
    let application: AppName = req.application.parse()?;
    actor.require_application(application.as_str(), "request access to")?;
    check_environment(&req.environment)?;
    let level = AccessLevel::parse(&req.level)
        .ok_or_else(|| AppError::bad_request("invalid_level", "the level is `read` or `write`"))?;
    let reason = required(&req.reason, "reason")?;
    let ticket = required(&req.ticket, "ticket")?;
    check_minutes(req.minutes, app.config().access_max_minutes)?;
    known_application(app, application.as_str()).await?;
    let r = AccessRequest {
        id: random_id("AR")?,
        ledger_index: 0,
        application: application.to_string(),
        production: is_production(&req.environment),
        environment: req.environment,
        level,
        reason,
        ticket,
        requested_by: actor.name.clone(),
        minutes: req.minutes,
        requested_at: app.now(),
        status: AccessStatus::Pending,
        decided_by: None,
        decided_at: None,
        comment: None,
        expires_at: None,
        revoked_by: None,
        revoked_at: None,
        expired_index: None,
    };
    let receipt = app
        .append(Fact::admin(
            EntryKind::AccessRequested,
            actor,
            serde_json::to_value(&r).map_err(|e| AppError::unavailable(e.to_string()))?,
            Effect::Access(AccessEffect::Requested(Box::new(r.clone()))),
        ))
        .await?;
    let r = AccessRequest {
        ledger_index: receipt.ledger_index,
        ..r
    };
    Ok(view(&r, app.now()))
}

/// Refuses a caller who may not decide on requests (admins and approvers may). Asked
/// before the body is read, as [`may_request`].
pub fn may_decide(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin, Role::Approver])
}

/// Approves or rejects a pending request of someone else's; a production grant adds to
/// the debt.
async fn decide(
    app: &App,
    actor: &Actor,
    id: &str,
    approve: bool,
    comment: Option<String>,
) -> Result<Value, AppError> {
    may_decide(actor)?;
    actor.require_own_token("decide on an access request")?;
    if let Some(c) = &comment {
        check_text(c, "a comment")?;
    }
    let r = find(app, id).await?;
    if r.requested_by == actor.name {
        return Err(AppError::forbidden(
            "self_approval",
            format!("{} asked for {id}; someone else decides on it", actor.name),
        ));
    }
    if r.status != AccessStatus::Pending {
        return Err(AppError::conflict(format!(
            "{id} is already {}",
            r.status.as_str()
        )));
    }
    let now = app.now();
    let expires_at = approve.then(|| now + i64::from(r.minutes) * 60_000);
    let (kind, body) = if approve {
        (
            EntryKind::AccessGranted,
            json!({"request": id, "grant": {
                "application": r.application, "environment": r.environment, "production": r.production,
                "level": r.level, "holder": r.requested_by, "ticket": r.ticket, "reason": r.reason,
                "starts_at": rfc3339(Some(now)), "expires_at": rfc3339(expires_at),
            }, "approved_by": actor.name, "comment": comment}),
        )
    } else {
        (
            EntryKind::AccessRejected,
            json!({"request": id, "rejected_by": actor.name, "comment": comment}),
        )
    };
    app.append(Fact::admin(
        kind,
        actor,
        body,
        Effect::Access(AccessEffect::Decided {
            id: id.to_owned(),
            approve,
            by: actor.name.clone(),
            at: now,
            comment,
            expires_at,
        }),
    ))
    .await?;
    if approve && r.production {
        check_debt(app, &r.application).await?;
    }
    Ok(view(&find(app, id).await?, app.now()))
}

/// `POST /v1/access/requests/{id}/approve`: the grant starts now.
pub async fn approve(
    app: &App,
    actor: &Actor,
    id: &str,
    comment: Option<String>,
) -> Result<Value, AppError> {
    decide(app, actor, id, true, comment).await
}

/// `POST /v1/access/requests/{id}/reject`.
pub async fn reject(
    app: &App,
    actor: &Actor,
    id: &str,
    comment: Option<String>,
) -> Result<Value, AppError> {
    decide(app, actor, id, false, comment).await
}

/// Refuses a caller who may never revoke (auditors); pipelines and approvers may hold
/// grants. Asked before the body is read, as [`may_request`].
pub fn may_revoke(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin, Role::Approver, Role::Pipeline])
}

/// Whether `actor` may revoke `r`: an admin, an approver, or its holder.
fn may_revoke_grant(actor: &Actor, r: &AccessRequest) -> bool {
    matches!(actor.role, Role::Admin | Role::Approver) || r.requested_by == actor.name
}

/// `POST /v1/access/requests/{id}/revoke`: ends a valid grant now (an admin, an approver,
/// or its holder).
pub async fn revoke(
    app: &App,
    actor: &Actor,
    id: &str,
    comment: Option<String>,
) -> Result<Value, AppError> {
    may_revoke(actor)?;
    let r = find(app, id).await?;
    if !may_revoke_grant(actor, &r) {
        return Err(AppError::forbidden(
            "forbidden",
            format!("{} may not revoke {id}", actor.name),
        ));
    }
    let now = app.now();
    if !r.valid_at(now) {
        return Err(AppError::conflict(format!(
            "{id} is {}, not an active grant",
            r.state_at(now)
        )));
    }
    app.append(Fact::admin(
        EntryKind::AccessRevoked,
        actor,
        json!({"request": id, "revoked_by": actor.name, "at": rfc3339(Some(now)), "comment": comment,
               "grant": {"application": r.application, "environment": r.environment,
                         "level": r.level, "holder": r.requested_by}}),
        Effect::Access(AccessEffect::Revoked {
            id: id.to_owned(),
            by: actor.name.clone(),
            at: now,
        }),
    ))
    .await?;
    Ok(view(&find(app, id).await?, app.now()))
}

/// `POST /v1/access/check` (admin): records due expiries now; answers how many.
pub async fn check(app: &App, actor: &Actor) -> Result<usize, AppError> {
    actor.require(&[Role::Admin])?;
    crate::jobs::expiries::record(app).await
}

/// `GET /v1/access/requests`: requests, newest first, by application, environment and
/// state now.
pub async fn list(app: &App, _actor: &Actor, q: RequestsQuery) -> Result<Vec<Value>, AppError> {
    let now = app.now();
    let rows = app
        .store()
        .access_requests(
            q.application.as_deref(),
            q.environment.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await?;
    Ok(rows
        .iter()
        .filter(|r| q.state.as_deref().is_none_or(|s| r.state_at(now) == s))
        .map(|r| view(r, now))
        .collect())
}

/// `GET /v1/access/requests/{id}`.
pub async fn show(app: &App, _actor: &Actor, id: &str) -> Result<Value, AppError> {
    Ok(view(&find(app, id).await?, app.now()))
}

/// A grant as an access system pulls it.
fn grant(r: &AccessRequest) -> Value {
    json!({"request": r.id, "application": r.application, "environment": r.environment,
           "level": r.level, "holder": r.requested_by, "ticket": r.ticket,
           "approved_by": r.decided_by, "starts_at": rfc3339(r.decided_at),
           "expires_at": rfc3339(r.expires_at)})
}

/// `GET /v1/access/grants`: exactly the grants valid now, for an access system to pull.
pub async fn grants(app: &App, _actor: &Actor, q: GrantsQuery) -> Result<Vec<Value>, AppError> {
    let now = app.now();
    let rows = app
        .store()
        .access_requests(q.application.as_deref(), q.environment.as_deref(), 1000)
        .await?;
    Ok(rows.iter().filter(|r| r.valid_at(now)).map(grant).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(name: &str, role: Role) -> Actor {
        Actor {
            name: name.into(),
            role,
            applications: vec![],
            groups: vec![],
            via: None,
            sso: None,
        }
    }

    fn granted() -> AccessRequest {
        AccessRequest {
            id: "AR-1".into(),
            ledger_index: 3,
            application: "shop".into(),
            environment: "prod".into(),
            production: true,
            level: AccessLevel::Write,
            reason: "fix".into(),
            ticket: "T-1".into(),
            requested_by: "ci".into(),
            minutes: 30,
            requested_at: 0,
            status: AccessStatus::Granted,
            decided_by: Some("ann".into()),
            decided_at: Some(60_000),
            comment: None,
            expires_at: Some(60_000 + 30 * 60_000),
            revoked_by: None,
            revoked_at: None,
            expired_index: None,
        }
    }

    #[test]
    fn required_text_is_trimmed_and_present() {
        assert_eq!(required("  T-12 ", "ticket").unwrap(), "T-12");
        let e = required("   ", "reason").unwrap_err();
        assert_eq!(e.code, "missing_field");
        assert_eq!(e.message, "an access request needs a reason");
        let long = "x".repeat(crate::input::MAX_TEXT + 1);
        assert_eq!(required(&long, "reason").unwrap_err().code, "invalid_text");
    }

    #[test]
    fn a_grant_lasts_one_minute_to_the_maximum() {
        assert!(check_minutes(1, 60).is_ok());
        assert!(check_minutes(60, 60).is_ok());
        assert_eq!(check_minutes(0, 60).unwrap_err().code, "duration_too_long");
        let e = check_minutes(61, 60).unwrap_err();
        assert_eq!(
            e.message,
            "a grant lasts 1 to 60 minutes, not 61; ask again when it ends"
        );
    }

    #[test]
    fn the_holder_or_a_decider_revokes() {
        let r = granted();
        assert!(may_revoke_grant(&actor("ci", Role::Pipeline), &r));
        assert!(may_revoke_grant(&actor("ann", Role::Approver), &r));
        assert!(may_revoke_grant(&actor("root", Role::Admin), &r));
        assert!(!may_revoke_grant(&actor("other-ci", Role::Pipeline), &r));
        assert!(may_revoke(&actor("aud", Role::Auditor)).is_err());
    }

    #[test]
    fn a_view_says_what_the_request_is_now() {
        let r = granted();
        let during = view(&r, 120_000);
        assert_eq!(during["state"], "active");
        assert_eq!(during["valid"], true);
        assert_eq!(during["requested_time"], "1970-01-01T00:00:00Z");
        assert_eq!(during["decided_time"], "1970-01-01T00:01:00Z");
        assert_eq!(during["expires_time"], "1970-01-01T00:31:00Z");
        assert!(during.get("revoked_time").is_none());
        let after = view(&r, 31 * 60_000);
        assert_eq!(after["state"], "expired");
        assert_eq!(after["valid"], false);
    }
}
