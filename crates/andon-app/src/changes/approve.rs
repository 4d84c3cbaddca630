//! Approvals and rejections of a change record, with separation of duty: the requester,
//! the authors of its commits and pull requests, and anyone outside the approver group the
//! change rules name may not decide on it; each approver decides once. Also the check for
//! emergency changes whose review is overdue.

use std::collections::BTreeSet;

use andon_domain::api::ApprovalRequest;
use andon_domain::change::{Approval, Change, ChangeClass, ChangeStatus};
use andon_domain::{EntryKind, Role};
use andon_store::{ChangeEffect, Effect};
use serde_json::json;

use crate::changes::authorized;
use crate::changes::gate::find_change;
use crate::changes::rfc::{authors, rfc_document};
use crate::input::check_text;
use crate::jobs::reviews::raise_overdue;
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError, ErrorKind};

/// The roles that approve or reject changes.
const DECIDERS: &[Role] = &[Role::Approver, Role::Admin];

/// Approves change `id` (approver, admin); answers the change as it now stands. The role
/// is checked before a malformed body is reported.
pub async fn approve<E: From<AppError>>(
    app: &App,
    actor: &Actor,
    id: &str,
    body: Result<ApprovalRequest, E>,
) -> Result<Change, E> {
    let req = authorized(actor, DECIDERS, body)?;
    Ok(decide(app, actor, id, &req, true).await?)
}

/// Rejects change `id`, saying why (approver, admin); answers the change as it now stands.
/// The role is checked before a malformed body is reported.
pub async fn reject<E: From<AppError>>(
    app: &App,
    actor: &Actor,
    id: &str,
    body: Result<ApprovalRequest, E>,
) -> Result<Change, E> {
    let req = authorized(actor, DECIDERS, body)?;
    Ok(decide(app, actor, id, &req, false).await?)
}

/// Looks for overdue emergency reviews and vulnerability items past their deadline now,
/// rather than at the watcher's next tick (admin);
/// answers how many alerts were raised.
pub async fn check_overdue_reviews(app: &App, actor: &Actor) -> Result<usize, AppError> {
    actor.require(&[Role::Admin])?;
    Ok(raise_overdue(app).await? + crate::vulns::overdue::raise(app).await?)
}

/// Records `actor`'s approval or rejection of change `id`.
async fn decide(
    app: &App,
    actor: &Actor,
    id: &str,
    req: &ApprovalRequest,
    approve: bool,
) -> Result<Change, AppError> {
    actor.require_own_token("decide on a change")?;
    check_text(&req.comment, "a comment")?;
    if !approve && req.comment.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_approval",
            "a rejection says why (comment)",
        ));
    }
    let change = find_change(app, id).await?;
    if let Some(why) = closed(&change) {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "change_closed",
            format!("{id} takes no more approvals: {why}"),
        ));
    }
    check_approver(actor, &change)?;
    let rfc = rfc_document(app, &change).await?;
    check_independent(actor, &change, &authors(&rfc))?;
    let approval = Approval {
        change: id.to_owned(),
        approver: actor.name.clone(),
        approve,
        comment: req.comment.clone(),
        at: 0,
        ledger_index: 0,
        provenance: None,
    };
    app.append(Fact::admin(
        EntryKind::ChangeApproval,
        actor,
        json!({"change": id, "approver": actor.name, "approve": approve, "comment": req.comment}),
        Effect::Change(ChangeEffect::Approval(approval)),
    ))
    .await?;
    find_change(app, id).await
}

/// Why a change takes no more approvals, if it does not: rejected, deployed (an emergency
/// change is still reviewed after), standard (pre-approved), or its emergency review done.
fn closed(change: &Change) -> Option<&'static str> {
    match (change.status, change.class) {
        (ChangeStatus::Rejected, _) => Some("it was rejected"),
        (ChangeStatus::Deployed, c) if c != ChangeClass::Emergency => Some("it is deployed"),
        (ChangeStatus::Bypassed, c) if c != ChangeClass::Emergency => {
            Some("it was deployed without an allowing gate decision (a gate bypass)")
        }
        (ChangeStatus::Superseded, _) => Some("a later change for the same artifact superseded it"),
        (_, ChangeClass::Standard) => Some("it is a standard change, pre-approved"),
        (_, ChangeClass::Emergency) if change.reviewed_at.is_some() => {
            Some("its emergency review is done")
        }
        _ => None,
    }
}

/// Refuses an approver outside the change's approver group, and the change's requester.
fn check_approver(actor: &Actor, change: &Change) -> Result<(), AppError> {
    let id = &change.id;
    if let Some(group) = &change.classification.approver_group
        && !actor.groups.contains(group)
    {
        return Err(AppError::forbidden(
            "not_in_group",
            format!(
                "{id} needs an approver from {group}; {} is not in it",
                actor.name
            ),
        ));
    }
    if change.requested_by == actor.name {
        return Err(AppError::forbidden(
            "self_approval",
            format!(
                "{} requested {id} and may not approve it: another approver must",
                actor.name
            ),
        ));
    }
    Ok(())
}

/// Refuses an approver who wrote part of the change, or who already decided on it.
fn check_independent(
    actor: &Actor,
    change: &Change,
    authors: &BTreeSet<String>,
) -> Result<(), AppError> {
    let id = &change.id;
    if authors.contains(&actor.name.to_ascii_lowercase()) {
        return Err(AppError::forbidden(
            "own_change",
            format!(
                "{id} contains commits or pull requests by {}: another approver must",
                actor.name
            ),
        ));
    }
    if change.approvals.iter().any(|a| a.approver == actor.name) {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "already_decided",
            format!("{} already decided on {id}", actor.name),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use andon_domain::change::{ChangeFields, Classification};

    use super::*;

    fn change(class: ChangeClass, status: ChangeStatus) -> Change {
        Change {
            id: "CHG-1".into(),
            ledger_index: 1,
            application: "pay".into(),
            environment: "production".into(),
            artifact_name: "pay".into(),
            artifact_digest: format!("sha256:{}", "a".repeat(64)),
            change_type: "application".into(),
            class,
            status,
            requested_by: "ci".into(),
            emergency_reason: None,
            review_due_at: None,
            reviewed_at: None,
            classification: Classification::default(),
            fields: ChangeFields::default(),
            created_at: 0,
            approvals: Vec::new(),
        }
    }

    fn approver(name: &str, groups: &[&str]) -> Actor {
        Actor {
            name: name.into(),
            role: Role::Approver,
            applications: Vec::new(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            via: None,
            sso: None,
        }
    }

    #[test]
    fn closed_changes_take_no_decisions() {
        use ChangeClass::*;
        use ChangeStatus::*;
        assert_eq!(closed(&change(Normal, Pending)), None);
        assert_eq!(closed(&change(Normal, Rejected)), Some("it was rejected"));
        assert_eq!(closed(&change(Normal, Deployed)), Some("it is deployed"));
        assert_eq!(
            closed(&change(Standard, Approved)),
            Some("it is a standard change, pre-approved")
        );
        // A deployed emergency change is still reviewed, until the review is done.
        let mut emergency = change(Emergency, Deployed);
        assert_eq!(closed(&emergency), None);
        emergency.reviewed_at = Some(5);
        assert_eq!(closed(&emergency), Some("its emergency review is done"));
    }

    #[test]
    fn the_requester_and_outsiders_of_the_group_may_not_decide() {
        let mut c = change(ChangeClass::Normal, ChangeStatus::Pending);
        assert!(check_approver(&approver("ann", &[]), &c).is_ok());
        assert_eq!(
            check_approver(&approver("ci", &[]), &c).unwrap_err().code,
            "self_approval"
        );
        c.classification.approver_group = Some("cab".into());
        assert_eq!(
            check_approver(&approver("ann", &["ops"]), &c)
                .unwrap_err()
                .code,
            "not_in_group"
        );
        assert!(check_approver(&approver("ann", &["cab"]), &c).is_ok());
    }

    #[test]
    fn authors_of_commits_and_pull_requests_may_not_decide_whatever_the_case() {
        let rfc = json!({
            "what": {"commits": [{"author": "Bob"}, {"sha": "no author"}]},
            "why": {"pull_requests": [{"author": "carol"}]},
        });
        let names = authors(&rfc);
        assert_eq!(
            names,
            BTreeSet::from(["bob".to_owned(), "carol".to_owned()])
        );
        let c = change(ChangeClass::Normal, ChangeStatus::Pending);
        assert_eq!(
            check_independent(&approver("BOB", &[]), &c, &names)
                .unwrap_err()
                .code,
            "own_change"
        );
        assert!(check_independent(&approver("ann", &[]), &c, &names).is_ok());
        assert!(authors(&json!({})).is_empty());
    }

    #[test]
    fn an_approver_decides_once() {
        let mut c = change(ChangeClass::Normal, ChangeStatus::Pending);
        c.approvals.push(Approval {
            change: c.id.clone(),
            approver: "ann".into(),
            approve: false,
            comment: "no".into(),
            at: 0,
            ledger_index: 2,
            provenance: None,
        });
        let e = check_independent(&approver("ann", &[]), &c, &BTreeSet::new()).unwrap_err();
        assert_eq!((e.kind, e.code), (ErrorKind::Conflict, "already_decided"));
    }
}
