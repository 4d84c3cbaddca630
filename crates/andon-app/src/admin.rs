//! Administration: applications and their signing policies, identities, tokens and keys. Every change is a ledger
//! entry; only admins make them.

use andon_domain::api::{
    ApplicationView, EvidencePolicyView, IssuedToken, KeyView, NewApplication, NewEvidencePolicy,
    NewIdentity, NewKey, NewSigningPolicy, Receipt, SigningPolicyView, WhoAmI,
};
use andon_domain::{AppName, EntryKind, IdentityName, KeyId, PublicKey, Role};
use andon_store::{ApplicationRow, Effect};

use crate::authority::MAX_THRESHOLD;
use crate::ledger::fact::Who;
use crate::{Actor, App, AppError, Fact, new_token, token_hash};

/// `GET /v1/whoami`: the caller as the server knows it.
pub fn whoami(actor: &Actor) -> WhoAmI {
    WhoAmI {
        name: actor.name.clone(),
        role: actor.role.to_string(),
        applications: actor.applications.clone(),
    }
}

/// Refuses a caller that is not an admin. Every administrative change checks it first,
/// before anything about the request.
pub fn require_admin(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Admin])
}

/// An owning team: 1 to 128 characters, no control characters (`invalid_team`).
fn check_team(team: &str) -> Result<(), AppError> {
    if team.trim().is_empty() || team.chars().count() > 128 || team.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_team",
            "an application needs an owning team: 1 to 128 characters, no control characters",
        ));
    }
    Ok(())
}

/// `POST /v1/applications` (admin): registers an application and its owning team.
pub async fn create_application(
    app: &App,
    actor: &Actor,
    req: NewApplication,
) -> Result<Receipt, AppError> {
    require_admin(actor)?;
    let name: AppName = req.name.parse()?;
    check_team(&req.team)?;
    app.append(Fact::admin(
        EntryKind::ApplicationCreated,
        actor,
        serde_json::json!({ "name": name, "team": req.team }),
        Effect::Application {
            name: name.to_string(),
            team: req.team,
        },
    ))
    .await
}

/// `GET /v1/applications`: every application with its team and signing policy (the policy
/// as the ledger-built authority holds it).
pub async fn list_applications(
    app: &App,
    _actor: &Actor,
) -> Result<Vec<ApplicationView>, AppError> {
    let rows: Vec<ApplicationRow> = app.store().applications().await?;
    Ok(app.with_authority(|a| {
        rows.into_iter()
            .map(|r| {
                let policy = a.signing_policy(&r.name);
                let keyless = a.keyless_policy(&r.name);
                let schema_validation = a.evidence_policy(&r.name).0;
                ApplicationView {
                    keyless_policy: keyless.map(|(p, _)| p.clone()),
                    keyless_policy_index: keyless.map(|(_, i)| i),
                    name: r.name,
                    team: r.team,
                    ledger_index: r.ledger_index,
                    signing_threshold: policy.threshold,
                    signing_policy_index: policy.index,
                    schema_validation,
                }
            })
            .collect()
    }))
}

/// Pipelines, and only pipelines, are scoped to applications.
fn check_scope(role: Role, applications: &[String]) -> Result<(), AppError> {
    if role == Role::Pipeline && applications.is_empty() {
        return Err(AppError::bad_request(
            "missing_applications",
            "a pipeline identity is scoped to at least one application",
        ));
    }
    if role != Role::Pipeline && !applications.is_empty() {
        return Err(AppError::bad_request(
            "unexpected_applications",
            "only pipeline identities are scoped to applications",
        ));
    }
    Ok(())
}

/// Approver groups are 1 to 64 lowercase letters, digits or `-`, and only approvers belong
/// to any.
fn check_groups(role: Role, groups: &[String]) -> Result<(), AppError> {
    for g in groups {
        let ok = !g.is_empty()
            && g.len() <= 64
            && g.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(AppError::bad_request(
                "invalid_group",
                format!("group {g:?} must be 1 to 64 lowercase letters, digits or '-'"),
            ));
        }
    }
    if role != Role::Approver && !groups.is_empty() {
        return Err(AppError::bad_request(
            "unexpected_groups",
            "only approvers belong to approver groups",
        ));
    }
    Ok(())
}

/// `POST /v1/identities` (admin): creates an identity and its first token.
pub async fn create_identity(
    app: &App,
    actor: &Actor,
    req: NewIdentity,
) -> Result<IssuedToken, AppError> {
    require_admin(actor)?;
    let name: IdentityName = req.name.parse()?;
    let role: Role = req.role.parse()?;
    let mut apps = Vec::new();
    for a in &req.applications {
        apps.push(a.parse::<AppName>()?.to_string());
    }
    check_scope(role, &apps)?;
    let known: Vec<String> = app
        .store()
        .applications()
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    if let Some(missing) = apps.iter().find(|a| !known.contains(a)) {
        return Err(AppError::bad_request(
            "unknown_application",
            format!("no application {missing}"),
        ));
    }
    check_groups(role, &req.groups)?;
    record_identity(app, actor.into(), &name, role, apps, req.groups).await
}

/// The name of an identity the ledger created and did not disable, or `not_found` /
/// `identity_disabled`.
pub(crate) fn existing_identity(app: &App, name: &str) -> Result<(IdentityName, Role), AppError> {
    let name: IdentityName = name.parse()?;
    let role = app.with_authority(|a| match a.identity(name.as_str()) {
        None => Err(AppError::not_found(format!("no identity {name}"))),
        Some(i) if i.disabled.is_some() => Err(AppError::new(
            crate::ErrorKind::Conflict,
            "identity_disabled",
            format!("identity {name} is disabled"),
        )),
        Some(i) => Ok(i.role),
    })?;
    Ok((name, role))
}

/// `POST /v1/identities/{name}/tokens` (admin): a new token for an existing identity,
/// issued by the admin. It reads and acts, but approves nothing: only a token the identity
/// issued for itself (by enrollment) approves.
pub async fn issue_token(app: &App, actor: &Actor, name: &str) -> Result<IssuedToken, AppError> {
    require_admin(actor)?;
    let (name, role) = existing_identity(app, name)?;
    record_token(app, actor.into(), &name, role, Issue::ByActor).await
}

/// `POST /v1/identities/{name}/keys` (admin): registers a public key to an identity.
pub async fn register_key(
    app: &App,
    actor: &Actor,
    name: &str,
    req: NewKey,
) -> Result<KeyView, AppError> {
    require_admin(actor)?;
    let (name, _) = existing_identity(app, name)?;
    let key = PublicKey::parse(&req.public_key)?;
    let keyid = key.key_id();
    // One key, one id: the same RSA key wrapped as PKCS#1 v1.5 and as PSS would otherwise
    // count twice toward a signing threshold.
    if let Some(twin) = app.with_authority(|a| a.twin_of(&key).map(|k| k.keyid.clone())) {
        return Err(AppError::conflict(format!(
            "this key is already registered as {twin} (the same key material in another wrapping)"
        )));
    }
    // The store keeps an Ed25519 key's 32 raw bytes, as it always did, and any other key's
    // DER SubjectPublicKeyInfo.
    let stored = key
        .ed25519_bytes()
        .map_or_else(|| key.spki_der().to_vec(), |raw| raw.to_vec());
    let receipt = app
        .append(Fact::admin(
            EntryKind::KeyRegistered,
            actor,
            serde_json::json!({
                "identity": name,
                "keyid": keyid,
                "algorithm": key.algorithm().as_str(),
                "public_key": key.to_ledger_text(),
            }),
            Effect::Key {
                keyid: keyid.to_string(),
                identity: name.to_string(),
                public_key: stored,
            },
        ))
        .await?;
    Ok(KeyView {
        keyid: keyid.to_string(),
        identity: name.to_string(),
        algorithm: key.algorithm().as_str().to_owned(),
        receipt,
    })
}

/// `PUT /v1/applications/{name}/signing-policy` (admin): how many of the application's
/// registered keys must sign each envelope from now on.
pub async fn set_signing_policy(
    app: &App,
    actor: &Actor,
    name: &str,
    req: NewSigningPolicy,
) -> Result<SigningPolicyView, AppError> {
    require_admin(actor)?;
    let name: AppName = name.parse()?;
    if !(1..=MAX_THRESHOLD).contains(&req.threshold) {
        return Err(AppError::bad_request(
            "invalid_threshold",
            format!(
                "the threshold is how many registered keys must sign each envelope: 1 to {MAX_THRESHOLD}, not {}",
                req.threshold
            ),
        ));
    }
    let known = app.store().applications().await?;
    if !known.iter().any(|a| a.name == name.as_str()) {
        return Err(AppError::not_found(format!("no application {name}")));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::SigningPolicySet,
            actor,
            serde_json::json!({ "application": name, "threshold": req.threshold }),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(SigningPolicyView {
        application: name.to_string(),
        threshold: req.threshold,
        receipt,
    })
}

/// `PUT /v1/applications/{name}/evidence-policy` (admin): whether the application's SBOMs
/// that break their format's schema are refused (strict, the default) or recorded with their
/// errors (lenient), from now on.
pub async fn set_evidence_policy(
    app: &App,
    actor: &Actor,
    name: &str,
    req: NewEvidencePolicy,
) -> Result<EvidencePolicyView, AppError> {
    require_admin(actor)?;
    let name: AppName = name.parse()?;
    let known = app.store().applications().await?;
    if !known.iter().any(|a| a.name == name.as_str()) {
        return Err(AppError::not_found(format!("no application {name}")));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::EvidencePolicySet,
            actor,
            serde_json::json!({
                "application": name,
                "schema_validation": req.schema_validation,
            }),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(EvidencePolicyView {
        application: name.to_string(),
        schema_validation: req.schema_validation,
        receipt,
    })
}

/// `POST /v1/keys/{keyid}/revoke` (admin): evidence signed by the key is refused from now.
pub async fn revoke_key(app: &App, actor: &Actor, keyid: &str) -> Result<Receipt, AppError> {
    require_admin(actor)?;
    let keyid: KeyId = keyid.parse()?;
    app.append(Fact::admin(
        EntryKind::KeyRevoked,
        actor,
        serde_json::json!({ "keyid": keyid }),
        Effect::KeyRevoked {
            keyid: keyid.to_string(),
        },
    ))
    .await
}

/// Records an identity (by `by`) and how it gets its first token: a pipeline's token,
/// issued by `by`; a person's one-time enrollment code, with which they issue their own. The
/// first admin, created by the server at its first start, gets its token directly, recorded
/// as issued by itself (nobody else exists to have issued it). The request is checked
/// already.
pub(crate) async fn record_identity(
    app: &App,
    by: Who,
    name: &IdentityName,
    role: Role,
    applications: Vec<String>,
    groups: Vec<String>,
) -> Result<IssuedToken, AppError> {
    let apps_json = serde_json::to_string(&applications).unwrap_or_else(|_| "[]".into());
    let groups_json = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
    let mut body = serde_json::json!({ "name": name, "role": role, "applications": applications });
    if !groups.is_empty() {
        body["groups"] = groups.into();
    }
    let bootstrap = by.is_server();
    app.append(Fact::admin(
        EntryKind::IdentityCreated,
        by.clone(),
        body,
        Effect::Identity {
            name: name.to_string(),
            role: role.as_str().into(),
            applications: apps_json,
            groups: groups_json,
        },
    ))
    .await?;
    if bootstrap {
        record_token(app, by, name, role, Issue::Bootstrap).await
    } else if role == Role::Pipeline {
        record_token(app, by, name, role, Issue::ByActor).await
    } else {
        crate::identities::record_enrollment(app, by, name).await
    }
}

/// How a token comes to be.
pub(crate) enum Issue {
    /// An admin (the fact's actor) issues it to somebody.
    ByActor,
    /// The server issues the first admin's token at its first start.
    Bootstrap,
    /// The identity redeems an enrollment code (its SHA-256).
    Enrollment(String),
}

/// Issues (by `by`) a new token to an existing identity: only its SHA-256 is recorded, with
/// its id, its issuer (`self_issued`: the identity itself, by enrollment) and, for a person,
/// its expiry.
pub(crate) async fn record_token(
    app: &App,
    by: Who,
    name: &IdentityName,
    role: Role,
    how: Issue,
) -> Result<IssuedToken, AppError> {
    let token = new_token()?;
    let hash = token_hash(&token);
    let id = andon_domain::token_id(&hash);
    let issued_by = match how {
        Issue::ByActor => by.name().to_owned(),
        Issue::Bootstrap | Issue::Enrollment(_) => name.to_string(),
    };
    let expires_at = if role == Role::Pipeline {
        None
    } else {
        crate::input::rfc3339(Some(app.now() + crate::identities::PERSON_TOKEN_MS))
    };
    let mut body = serde_json::json!({
        "identity": name, "token_sha256": hash, "id": id, "issued_by": issued_by,
    });
    if let Some(e) = &expires_at {
        body["expires_at"] = e.clone().into();
    }
    if let Issue::Enrollment(code) = how {
        body["enrollment"] = code.into();
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::TokenIssued,
            by,
            body,
            Effect::Token {
                hash,
                identity: name.to_string(),
            },
        ))
        .await?;
    Ok(IssuedToken {
        identity: name.to_string(),
        token,
        token_id: Some(id),
        issued_by: Some(issued_by),
        expires_at,
        enrollment: None,
        receipt,
    })
}

/// The webhook endpoints and the secrets they check, for an admin to configure the
/// providers (or to drive them, as `andon demo` does): `GET /v1/admin/webhooks`.
pub fn webhooks(app: &App, actor: &Actor) -> Result<serde_json::Value, AppError> {
    require_admin(actor)?;
    let config = app.config();
    Ok(serde_json::json!({
        "github": {"path": "/webhooks/github", "secret": config.github_webhook_secret,
                   "header": "X-Hub-Signature-256 (HMAC-SHA256 of the body)"},
        "gitlab": {"path": "/webhooks/gitlab", "token": config.gitlab_webhook_token,
                   "header": "X-Gitlab-Token"},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(r: Result<(), AppError>) -> Option<&'static str> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn a_team_is_short_printable_text() {
        assert_eq!(code(check_team("payments")), None);
        assert_eq!(code(check_team("  ")), Some("invalid_team"));
        assert_eq!(code(check_team(&"t".repeat(129))), Some("invalid_team"));
        assert_eq!(
            code(check_team(&"é".repeat(128))),
            None,
            "characters, not bytes"
        );
        assert_eq!(code(check_team("a\nb")), Some("invalid_team"));
    }

    #[test]
    fn only_pipelines_are_scoped_to_applications() {
        let apps = vec!["shop".to_owned()];
        assert_eq!(code(check_scope(Role::Pipeline, &apps)), None);
        assert_eq!(
            code(check_scope(Role::Pipeline, &[])),
            Some("missing_applications")
        );
        assert_eq!(
            code(check_scope(Role::Auditor, &apps)),
            Some("unexpected_applications")
        );
        assert_eq!(code(check_scope(Role::Admin, &[])), None);
    }

    #[test]
    fn only_approvers_belong_to_well_named_groups() {
        let dba = vec!["dba".to_owned(), "team-2".to_owned()];
        assert_eq!(code(check_groups(Role::Approver, &dba)), None);
        assert_eq!(code(check_groups(Role::Pipeline, &[])), None);
        assert_eq!(
            code(check_groups(Role::Admin, &dba)),
            Some("unexpected_groups")
        );
        for bad in ["", "DBA", "a b", &"g".repeat(65)] {
            assert_eq!(
                code(check_groups(Role::Approver, &[bad.to_owned()])),
                Some("invalid_group"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn whoami_tells_the_caller_its_name_role_and_scope() {
        let me = whoami(&Actor {
            name: "ci".into(),
            role: Role::Pipeline,
            applications: vec!["shop".into()],
            groups: vec!["x".into()],
            via: None,
            sso: None,
        });
        assert_eq!(
            (me.name.as_str(), me.role.as_str(), me.applications),
            ("ci", "pipeline", vec!["shop".to_owned()])
        );
    }
}
