//! Identity lifecycle: enrollment, listing, tokens and their revocation, disabling an
//! identity. Every step is a ledger entry; every read comes from the ledger-derived
//! authority, never from the database's tables.

use andon_domain::api::IssuedToken;
use andon_domain::identity::{
    Ended, EnrollRequest, Enrollment, IdentityDetail, IdentityView, KeyInfo, ReasonInput, TokenView,
};
use andon_domain::{EntryKind, IdentityName, Role};
use andon_store::Effect;

use crate::admin::{Issue, existing_identity, record_token, require_admin};
use crate::authority::{Authority, IdentityState, TokenState};
use crate::input::{check_text, rfc3339};
use crate::ledger::fact::Who;
use crate::{Actor, App, AppError, ErrorKind, Fact, token_hash};

/// How long a person's token works: 90 days.
pub const PERSON_TOKEN_MS: i64 = 90 * 24 * 3_600_000;
/// How long an enrollment code works: 7 days.
pub const ENROLLMENT_MS: i64 = 7 * 24 * 3_600_000;

fn ended(d: &crate::authority::Disabled) -> Ended {
    Ended {
        ledger_index: d.index,
        by: d.by.clone(),
        at: d.at.clone(),
        reason: d.reason.clone(),
    }
}

fn identity_view(i: &IdentityState) -> IdentityView {
    IdentityView {
        name: i.name.clone(),
        role: i.role.to_string(),
        applications: i.applications.clone(),
        groups: i.groups.clone(),
        created_by: i.created_by.clone(),
        ledger_index: i.created_index,
        created_at: i.created_at.clone(),
        disabled: i.disabled.as_ref().map(ended),
    }
}

fn token_view(t: &TokenState) -> TokenView {
    TokenView {
        id: t.id.clone(),
        identity: t.identity.clone(),
        issued_by: t.issued_by.clone(),
        self_issued: t.issued_by == t.identity,
        ledger_index: t.issued_index,
        issued_at: t.issued_at.clone(),
        expires_at: t.expires_at.clone(),
        revoked: t.revoked.as_ref().map(ended),
        federated: t.federated.clone(),
    }
}

/// Records (by `by`) a one-time enrollment code for `name`: only its SHA-256 is recorded.
pub(crate) async fn record_enrollment(
    app: &App,
    by: Who,
    name: &IdentityName,
) -> Result<IssuedToken, AppError> {
    let code = format!("enroll_{}", &crate::new_token()?["andon_".len()..]);
    let expires_at = rfc3339(Some(app.now() + ENROLLMENT_MS)).unwrap_or_default();
    let receipt = app
        .append(Fact::admin(
            EntryKind::EnrollmentCreated,
            by,
            serde_json::json!({
                "identity": name, "code_sha256": token_hash(&code), "expires_at": expires_at,
            }),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(IssuedToken {
        identity: name.to_string(),
        token: String::new(),
        token_id: None,
        issued_by: None,
        expires_at: None,
        enrollment: Some(Enrollment { code, expires_at }),
        receipt,
    })
}

/// `POST /v1/identities/{name}/enrollments` (admin): a new one-time code with which the
/// identity issues itself a token (a person who lost theirs, or one who never enrolled).
pub async fn create_enrollment(
    app: &App,
    actor: &Actor,
    name: &str,
) -> Result<IssuedToken, AppError> {
    require_admin(actor)?;
    let (name, role) = existing_identity(app, name)?;
    if role == Role::Pipeline {
        return Err(AppError::bad_request(
            "pipeline_enrollment",
            "pipelines do not enroll: an admin issues their tokens (POST /v1/identities/{name}/tokens)",
        ));
    }
    record_enrollment(app, actor.into(), &name).await
}

/// `POST /v1/enroll` (no token): redeems a one-time enrollment code for a token the identity
/// issues for itself. A code works once, within its lifetime.
pub async fn enroll(app: &App, req: EnrollRequest) -> Result<IssuedToken, AppError> {
    let hash = token_hash(req.code.trim());
    let now = app.now();
    let identity = app
        .with_authority(|a| a.enrollment(&hash, now).map(|e| e.identity.clone()))
        .ok_or_else(|| AppError::unauthorized("unknown, used or expired enrollment code"))?;
    let (name, role) = existing_identity(app, &identity)?;
    // Recorded as the identity's own act: it holds the code. The sequencer refuses a code
    // used meanwhile (two redemptions racing), so a code issues one token.
    record_token(
        app,
        Who::from(name.as_str()),
        &name,
        role,
        Issue::Enrollment(hash),
    )
    .await
}

/// `GET /v1/identities` (admin, auditor): every identity as the ledger made it.
pub fn list_identities(app: &App, actor: &Actor) -> Result<Vec<IdentityView>, AppError> {
    actor.require(&[Role::Admin, Role::Auditor])?;
    Ok(app.with_authority(|a| a.identities().map(identity_view).collect()))
}

/// Whether `actor` sees everyone's identities and tokens (admins, auditors) rather than
/// only its own.
fn sees_everyone(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Auditor)
}

/// `GET /v1/identities/{name}` (admin, auditor, or the identity itself: to anyone else
/// another identity is `not_found`): one identity with its tokens and keys.
pub fn show_identity(app: &App, actor: &Actor, name: &str) -> Result<IdentityDetail, AppError> {
    if actor.name != name && !sees_everyone(actor) {
        return Err(AppError::not_found(format!("no identity {name}")));
    }
    app.with_authority(|a| {
        let i = a
            .identity(name)
            .ok_or_else(|| AppError::not_found(format!("no identity {name}")))?;
        Ok(IdentityDetail {
            identity: identity_view(i),
            tokens: a
                .tokens()
                .into_iter()
                .filter(|t| t.identity == name)
                .map(token_view)
                .collect(),
            keys: a
                .keys_of(name)
                .into_iter()
                .map(|k| KeyInfo {
                    keyid: k.keyid.clone(),
                    algorithm: k.key.algorithm().as_str().to_owned(),
                    ledger_index: k.registered_index,
                    revoked_index: k.revoked_index,
                })
                .collect(),
        })
    })
}

/// `GET /v1/tokens` (admin, auditor: every token; others: their own), optionally of one
/// identity. Never the secrets.
pub fn list_tokens(
    app: &App,
    actor: &Actor,
    identity: Option<&str>,
) -> Result<Vec<TokenView>, AppError> {
    let everyone = sees_everyone(actor);
    Ok(app.with_authority(|a: &Authority| {
        a.tokens()
            .into_iter()
            .filter(|t| everyone || t.identity == actor.name)
            .filter(|t| identity.is_none_or(|i| t.identity == i))
            .map(token_view)
            .collect()
    }))
}

pub(crate) fn check_reason(r: &ReasonInput) -> Result<(), AppError> {
    check_text(&r.reason, "a reason")?;
    if r.reason.trim().is_empty() {
        return Err(AppError::bad_request("missing_reason", "say why (reason)"));
    }
    Ok(())
}

/// `POST /v1/tokens/{id}/revoke` (admin, or the token's own identity; to anyone else
/// another's token is `not_found`): the token is refused from this entry on, on every
/// server.
pub async fn revoke_token(
    app: &App,
    actor: &Actor,
    id: &str,
    req: ReasonInput,
) -> Result<TokenView, AppError> {
    let token = app
        .with_authority(|a| a.token(id).cloned())
        .filter(|t| t.identity == actor.name || sees_everyone(actor))
        .ok_or_else(|| AppError::not_found(format!("no token {id}")))?;
    if token.identity != actor.name {
        require_admin(actor)?;
    }
    check_reason(&req)?;
    if token.revoked.is_some() {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "already_revoked",
            format!("token {id} is already revoked"),
        ));
    }
    app.append(Fact::admin(
        EntryKind::TokenRevoked,
        actor,
        serde_json::json!({"token": id, "identity": token.identity, "reason": req.reason}),
        Effect::EntryOnly,
    ))
    .await?;
    app.with_authority(|a| a.token(id).map(token_view))
        .ok_or_else(|| AppError::not_found(format!("no token {id}")))
}

/// `POST /v1/identities/{name}/disable` (admin): every token and key of the identity is
/// refused from this entry on. The last enabled admin cannot be disabled.
pub async fn disable_identity(
    app: &App,
    actor: &Actor,
    name: &str,
    req: ReasonInput,
) -> Result<IdentityView, AppError> {
    require_admin(actor)?;
    check_reason(&req)?;
    let (name, role) = existing_identity(app, name)?;
    let admins = app.with_authority(|a| {
        a.identities()
            .filter(|i| i.role == Role::Admin && i.disabled.is_none())
            .count()
    });
    if role == Role::Admin && admins <= 1 {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "last_admin",
            format!("{name} is the last enabled admin"),
        ));
    }
    app.append(Fact::admin(
        EntryKind::IdentityDisabled,
        actor,
        serde_json::json!({"name": name, "reason": req.reason}),
        Effect::EntryOnly,
    ))
    .await?;
    app.with_authority(|a| a.identity(name.as_str()).map(identity_view))
        .ok_or_else(|| AppError::not_found(format!("no identity {name}")))
}
