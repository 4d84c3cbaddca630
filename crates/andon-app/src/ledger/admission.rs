//! The checks a fact must pass where it is sequenced: administrative facts that would
//! collide with what exists, access decisions on requests already decided.

use crate::AppError;
use andon_store::{Effect, Store};
use std::collections::HashSet;

/// Refuses administrative facts that would collide with what exists (the sequencer is the
/// only writer, so checking here is free of races on one server).
/// `decisions` are the batch's decision ids already recorded
/// ([`Store::decisions_recorded`], read once for the batch).
pub(super) async fn check_admin(
    store: &Store,
    effect: &Effect,
    claimed: &mut HashSet<String>,
    decisions: &HashSet<String>,
) -> Result<(), AppError> {
    match effect {
        Effect::Application { name, .. } => {
            if !claimed.insert(format!("app:{name}"))
                || store.applications().await?.iter().any(|a| &a.name == name)
            {
                return Err(AppError::conflict(format!(
                    "application {name} already exists"
                )));
            }
        }
        Effect::Identity { name, .. } => {
            if !claimed.insert(format!("identity:{name}")) || store.identity(name).await?.is_some()
            {
                return Err(AppError::conflict(format!(
                    "identity {name} already exists"
                )));
            }
        }
        Effect::Key { keyid, .. } => {
            if !claimed.insert(format!("key:{keyid}")) || store.key(keyid).await?.is_some() {
                return Err(AppError::conflict(format!(
                    "key {keyid} is already registered"
                )));
            }
        }
        Effect::KeyRevoked { keyid } => match store.key(keyid).await? {
            None => return Err(AppError::not_found(format!("no key {keyid}"))),
            Some(k) if k.revoked_at.is_some() => {
                return Err(AppError::conflict(format!(
                    "key {keyid} is already revoked"
                )));
            }
            Some(_) => {}
        },
        Effect::WaiverApproved { id, .. } => {
            let w = store.waiver(id).await?;
            if !claimed.insert(format!("waiver-approval:{id}"))
                || w.as_ref().is_some_and(|w| w.approved_by.is_some())
            {
                return Err(AppError::conflict(format!(
                    "waiver {id} is already approved"
                )));
            }
            if w.is_none() {
                return Err(AppError::not_found(format!("no waiver {id}")));
            }
        }
        Effect::Change(andon_store::ChangeEffect::Approval(a)) => {
            let decided = store
                .change(&a.change)
                .await?
                .is_some_and(|c| c.approvals.iter().any(|x| x.approver == a.approver));
            if !claimed.insert(format!("approval:{}:{}", a.change, a.approver)) || decided {
                return Err(AppError::conflict(format!(
                    "{} already decided on {}",
                    a.approver, a.change
                )));
            }
        }
        Effect::Policy { version, .. } => {
            // Two servers starting together publish the same bundle: the second finds it.
            if !claimed.insert(format!("policy:{version}"))
                || store
                    .policies()
                    .await?
                    .iter()
                    .any(|p| &p.version == version)
            {
                return Err(AppError::new(
                    crate::ErrorKind::Conflict,
                    "policy_exists",
                    format!("policy version {version} is already published"),
                ));
            }
        }
        Effect::Access(e) => check_access(store, e, claimed).await?,
        Effect::Decision { id, .. } => {
            // The same request with the same inputs at the same instant is signed into the
            // same envelope (Ed25519 is deterministic): one decision, recorded once.
            if !claimed.insert(format!("decision:{id}")) || decisions.contains(id) {
                return Err(AppError::new(
                    crate::ErrorKind::Conflict,
                    "decision_exists",
                    format!("decision {id} is already recorded"),
                ));
            }
        }
        Effect::Advisory(a) => {
            // One version of an advisory is recorded once; an older one never replaces a
            // newer (two imports racing, or a stale copy sent again).
            let recorded = store.advisory_versions(std::slice::from_ref(&a.id)).await?;
            let newer = recorded.iter().any(|(_, m)| !newer_than(&a.modified, m));
            if !claimed.insert(format!("advisory:{}", a.id)) || newer {
                return Err(AppError::new(
                    crate::ErrorKind::Conflict,
                    "advisory_recorded",
                    format!(
                        "advisory {} modified {} is not newer than the version recorded",
                        a.id, a.modified
                    ),
                ));
            }
        }
        Effect::Vuln(v) => check_vuln(store, v, claimed).await?,
        Effect::Drill(d) => check_drill(store, d, claimed).await?,
        Effect::Admission(_) => {}
        Effect::Change(_)
        | Effect::Token { .. }
        | Effect::Settings(_)
        | Effect::EntryOnly
        | Effect::Evidence { .. }
        | Effect::SourceEvent { .. }
        | Effect::WaiverRequested { .. }
        | Effect::Telemetry(_) => {}
    }
    Ok(())
}

/// Refuses a drill finished twice, or reviewed before it finished or twice: two servers
/// (or a retried request) record each step once.
async fn check_drill(
    store: &Store,
    effect: &andon_store::DrillEffect,
    claimed: &mut HashSet<String>,
) -> Result<(), AppError> {
    use andon_store::DrillEffect as D;
    let conflict = |what: String| AppError::new(crate::ErrorKind::Conflict, "drill_recorded", what);
    match effect {
        D::Started(d) => {
            if !claimed.insert(format!("drill:{}", d.id)) || store.drill(&d.id).await?.is_some() {
                return Err(conflict(format!("drill {} is already recorded", d.id)));
            }
        }
        D::Finished { drill, .. } => {
            let d = store.drill(drill).await?;
            if !claimed.insert(format!("drill:{drill}:finished"))
                || d.as_ref().is_none_or(|d| d.finished_at.is_some())
            {
                return Err(conflict(format!("drill {drill} is not running")));
            }
        }
        D::Retrospective { drill, .. } => {
            let d = store.drill(drill).await?;
            if !claimed.insert(format!("drill:{drill}:retrospective"))
                || d.as_ref()
                    .is_none_or(|d| d.finished_at.is_none() || d.retrospective.is_some())
            {
                return Err(conflict(format!(
                    "drill {drill} is not finished, or already has its retrospective"
                )));
            }
        }
        D::Risk { .. } => {}
    }
    Ok(())
}

/// Refuses a vulnerability item opened twice (one open item per application and
/// vulnerability) or a transition already made: two servers advancing items at once write
/// each step once.
async fn check_vuln(
    store: &Store,
    effect: &andon_store::VulnEffect,
    claimed: &mut HashSet<String>,
) -> Result<(), AppError> {
    let conflict =
        |what: String| AppError::new(crate::ErrorKind::Conflict, "vuln_item_recorded", what);
    match effect {
        andon_store::VulnEffect::Detected(i) => {
            let key = format!("vuln-open:{}:{}", i.application, i.vulnerability);
            if !claimed.insert(key)
                || store
                    .open_vuln_item(&i.application, &i.vulnerability)
                    .await?
                    .is_some()
            {
                return Err(conflict(format!(
                    "{} already has an open item for {}",
                    i.application, i.vulnerability
                )));
            }
        }
        andon_store::VulnEffect::Advanced { item, state, .. } => {
            let states = store.vuln_item_states(item).await?;
            if states.is_empty() && !claimed.contains(&format!("vuln:{item}:detected")) {
                return Err(conflict(format!("no vulnerability item {item}")));
            }
            if !claimed.insert(format!("vuln:{item}:{state}"))
                || states.iter().any(|s| s == state || s == "closed")
            {
                return Err(conflict(format!("item {item} already entered {state}")));
            }
        }
    }
    if let andon_store::VulnEffect::Detected(i) = effect {
        claimed.insert(format!("vuln:{}:detected", i.id));
    }
    Ok(())
}

/// Refuses access facts that collide with what exists: an account name taken, a request
/// decided, revoked or expired twice.
async fn check_access(
    store: &Store,
    effect: &andon_store::AccessEffect,
    claimed: &mut HashSet<String>,
) -> Result<(), AppError> {
    use andon_store::AccessEffect as A;
    match effect {
        A::AccountRegistered(a) => {
            if !claimed.insert(format!("account:{}", a.name))
                || store.standing_account(&a.name).await?.is_some()
            {
                return Err(AppError::conflict(format!(
                    "account {} is already registered",
                    a.name
                )));
            }
        }
        A::Decided { id, .. } => {
            let decided = store
                .access_request(id)
                .await?
                .is_some_and(|r| r.status != andon_domain::access::AccessStatus::Pending);
            if !claimed.insert(format!("access-decision:{id}")) || decided {
                return Err(AppError::conflict(format!("{id} is already decided")));
            }
        }
        A::Revoked { id, .. } => {
            let revoked = store
                .access_request(id)
                .await?
                .is_some_and(|r| r.revoked_at.is_some());
            if !claimed.insert(format!("access-revocation:{id}")) || revoked {
                return Err(AppError::conflict(format!("{id} is already revoked")));
            }
        }
        A::Expired { id } => {
            let recorded = store
                .access_request(id)
                .await?
                .is_some_and(|r| r.expired_index.is_some());
            if !claimed.insert(format!("access-expiry:{id}")) || recorded {
                return Err(AppError::conflict(format!(
                    "the expiry of {id} is already recorded"
                )));
            }
        }
        A::Requested(_) | A::AccountRetired { .. } | A::AccountUsed(_) | A::Snapshot(_) => {}
    }
    Ok(())
}

/// Whether OSV time `a` is later than `b` (RFC 3339; compared as instants, as text when
/// either does not read).
pub(crate) fn newer_than(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(x), Ok(y)) => x > y,
        _ => a > b,
    }
}
