//! Single sign-on for people: an ID token from the company's identity provider, mapped by
//! person rules (ledgered) to a role and approver groups, becomes a session of the person's
//! own identity. The first sign-in creates the identity, linked to the token's issuer and
//! subject, with an `identity.created` entry; every sign-in is a `token.issued` entry the
//! person issued for themselves, carrying the token's issuer, subject and `jti`.
//!
//! A person linked this way decides (approvals, waivers, access) only with such a session
//! ([`crate::Actor::require_own_token`]): a token an admin minted or an enrollment code an
//! admin redeemed does not decide in their name.

use andon_domain::api::IssuedToken;
use andon_domain::identity::ReasonInput;
use andon_domain::oidc::{Federated, IdToken, PersonRule, identity_name_for};
use andon_domain::{EntryKind, IdentityName, Role};
use andon_store::Effect;
use serde::Serialize;

use crate::admin::require_admin;
use crate::authority::{IssuerState, PersonRuleState};
use crate::identities::check_reason;
use crate::ledger::fact::Who;
use crate::{Actor, App, AppError, ErrorKind, Fact, new_token, token_hash};

/// How long a person's session lasts.
pub const PERSON_SESSION_MS: i64 = 8 * 3_600_000;

/// A person rule as the API shows it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct PersonRuleView {
    /// Its name.
    pub name: String,
    /// The rule.
    pub rule: PersonRule,
    /// The `oidc.person_rule` entry.
    pub ledger_index: u64,
    /// Who set it.
    pub set_by: String,
}

fn view(r: &PersonRuleState) -> PersonRuleView {
    PersonRuleView {
        name: r.name.clone(),
        rule: r.rule.clone(),
        ledger_index: r.index,
        set_by: r.by.clone(),
    }
}

/// `PUT /v1/oidc/person-rules/{name}` (admin): people whose ID token from a registered
/// issuer matches get a role and approver groups when they first sign in.
pub async fn set_person_rule(
    app: &App,
    actor: &Actor,
    name: &str,
    rule: PersonRule,
) -> Result<PersonRuleView, AppError> {
    require_admin(actor)?;
    let name = andon_domain::oidc::check_name(name)?;
    rule.check()?;
    if !app.with_authority(|a| a.oidc_issuers().any(|i| i.name == rule.issuer)) {
        return Err(AppError::bad_request(
            "unknown_issuer",
            format!("no issuer {} (PUT /v1/oidc/issuers/{{name}})", rule.issuer),
        ));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::PersonRuleSet,
            actor,
            serde_json::json!({"name": name, "rule": rule}),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(PersonRuleView {
        name: name.to_string(),
        rule,
        ledger_index: receipt.ledger_index,
        set_by: actor.name.clone(),
    })
}

/// `GET /v1/oidc/person-rules` (admin, auditor).
pub fn list_person_rules(app: &App, actor: &Actor) -> Result<Vec<PersonRuleView>, AppError> {
    actor.require(&[Role::Admin, Role::Auditor])?;
    Ok(app.with_authority(|a| a.person_rules().map(view).collect()))
}

/// `POST /v1/oidc/person-rules/{name}/remove` (admin): answers the entry's index.
pub async fn remove_person_rule(
    app: &App,
    actor: &Actor,
    name: &str,
    reason: ReasonInput,
) -> Result<u64, AppError> {
    require_admin(actor)?;
    check_reason(&reason)?;
    if !app.with_authority(|a| a.person_rules().any(|r| r.name == name)) {
        return Err(AppError::not_found(format!("no person rule {name}")));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::PersonRuleRemoved,
            actor,
            serde_json::json!({"name": name, "reason": reason.reason}),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(receipt.ledger_index)
}

/// The role and groups the person rules of `issuer` give the token, and the first rule's
/// name; refused when none matches or two give different roles.
fn mapped(
    app: &App,
    issuer: &IssuerState,
    t: &IdToken,
) -> Result<(String, Role, Vec<String>), AppError> {
    let rules: Vec<PersonRuleState> = app.with_authority(|a| {
        a.person_rules()
            .filter(|r| r.rule.issuer == issuer.name && r.rule.matches(&t.claims))
            .cloned()
            .collect()
    });
    let Some(first) = rules.first() else {
        return Err(AppError::forbidden(
            "no_person_rule",
            format!(
                "no person rule of issuer {} admits {:?}: ask an admin for access",
                issuer.name, t.subject
            ),
        ));
    };
    let role: Role = first.rule.role.parse()?;
    let mut groups: Vec<String> = Vec::new();
    for r in &rules {
        if r.rule.role != first.rule.role {
            return Err(AppError::forbidden(
                "ambiguous_person_rules",
                format!(
                    "rules {} and {} give {:?} different roles ({} and {})",
                    first.name, r.name, t.subject, first.rule.role, r.rule.role
                ),
            ));
        }
        for g in &r.rule.groups {
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
    }
    Ok((first.name.clone(), role, groups))
}

/// The person's identity: the one linked to the token's subject, else a new one (named
/// after `preferred_username`, `email` or `sub`) created and linked now.
async fn identity_of(
    app: &App,
    t: &IdToken,
    role: Role,
    groups: Vec<String>,
    rule: &str,
    link: Option<&Actor>,
) -> Result<IdentityName, AppError> {
    let linked = app.with_authority(|a| {
        a.identity_for_subject(&t.issuer, &t.subject)
            .map(|i| (i.name.clone(), i.disabled.as_ref().map(|d| d.index)))
    });
    if let Some((name, disabled)) = linked {
        if let Some(index) = disabled {
            return Err(AppError::forbidden(
                "identity_disabled",
                format!("identity {name} was disabled (ledger entry {index})"),
            ));
        }
        return Ok(name.parse()?);
    }
    if let Some(me) = link {
        return link_identity(app, t, me).await;
    }
    let name: IdentityName = identity_name_for(&t.claims)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            AppError::bad_request(
                "no_identity_name",
                "the ID token has no preferred_username, email or sub to name an identity by",
            )
        })?;
    if app.with_authority(|a| a.identity(name.as_str()).is_some()) {
        return Err(AppError::conflict(format!(
            "an identity named {name} exists and is not linked to {} of {}: an admin links it, or renames one",
            t.subject, t.issuer
        )));
    }
    let groups_json = serde_json::to_string(&groups).unwrap_or_else(|_| "[]".into());
    app.append(Fact::admin(
        EntryKind::IdentityCreated,
        Who::from("andon"),
        serde_json::json!({
            "name": name, "role": role, "applications": [], "groups": groups,
            "sso": {"issuer": t.issuer, "subject": t.subject}, "person_rule": rule,
        }),
        Effect::Identity {
            name: name.to_string(),
            role: role.as_str().into(),
            applications: "[]".into(),
            groups: groups_json,
        },
    ))
    .await?;
    Ok(name)
}

/// Links `me` (a person acting with a token it issued for itself) to the token's subject.
async fn link_identity(app: &App, t: &IdToken, me: &Actor) -> Result<IdentityName, AppError> {
    let own = me.via.as_ref().is_some_and(|v| v.self_issued(&me.name));
    if me.role == Role::Pipeline || !own || me.sso.is_some() {
        return Err(AppError::forbidden(
            "link_refused",
            format!(
                "{} cannot be linked: a person links their own identity once, with a token they issued for themselves",
                me.name
            ),
        ));
    }
    app.append(Fact::admin(
        EntryKind::IdentityLinked,
        me,
        serde_json::json!({"name": me.name, "sso": {"issuer": t.issuer, "subject": t.subject}}),
        Effect::EntryOnly,
    ))
    .await?;
    Ok(me.name.parse()?)
}

/// Signs a person in with an ID token from a registered issuer whose audiences include the
/// client the token was issued to: checks it (and its `nonce` when the sign-in sent one),
/// maps it by the person rules, creates or finds the linked identity and records a session
/// of `lifetime_ms` the person issued for themselves.
pub async fn sign_in(
    app: &App,
    id_token: &str,
    nonce: Option<&str>,
    how: &str,
    link: Option<&Actor>,
) -> Result<IssuedToken, AppError> {
    let (issuer, t) = super::verify(app, id_token.trim()).await?;
    if let Some(expected) = nonce {
        let said = t.claims.get("nonce").and_then(|v| v.as_str());
        if said != Some(expected) {
            return Err(AppError::new(
                ErrorKind::Unauthorized,
                "id_token_nonce",
                "the ID token's nonce is not the one this sign-in sent",
            ));
        }
    }
    super::refuse_replay(app, &t)?;
    let (rule, role, groups) = mapped(app, &issuer, &t)?;
    let name = identity_of(app, &t, role, groups, &rule, link).await?;
    let token = new_token()?;
    let hash = token_hash(&token);
    let id = andon_domain::token_id(&hash);
    let expires_at = super::rfc3339(app.now() + PERSON_SESSION_MS);
    let federated = Federated {
        issuer: t.issuer.clone(),
        subject: t.subject.clone(),
        jti: t.jti.clone(),
    };
    let claims: serde_json::Map<String, serde_json::Value> = ["email", "name", "groups"]
        .iter()
        .filter_map(|c| t.claims.get(*c).map(|v| ((*c).to_owned(), v.clone())))
        .collect();
    let body = serde_json::json!({
        "identity": name, "token_sha256": hash, "id": id, "issued_by": name,
        "expires_at": expires_at, "issuer": issuer.name, "rule": rule, "person": how,
        "federated": federated, "id_token_expires_at": super::rfc3339(t.expires.saturating_mul(1000)),
        "kid": t.kid, "alg": t.alg, "claims": claims,
    });
    let receipt = app
        .append(Fact::admin(
            EntryKind::TokenIssued,
            Who::from(name.as_str()),
            body,
            Effect::Token {
                hash,
                identity: name.to_string(),
            },
        ))
        .await
        .map_err(super::replay_race)?;
    Ok(IssuedToken {
        identity: name.to_string(),
        token,
        token_id: Some(id),
        issued_by: Some(name.to_string()),
        expires_at: Some(expires_at),
        enrollment: None,
        receipt,
    })
}

/// Signing out of a session a sign-in through the identity provider started: the session
/// is revoked by the person (a `token.revoked` entry), so it ends on every server. Other
/// sessions (a pasted API token) are left alone.
pub async fn sign_out(app: &App, token_sha256: &str) -> Result<(), AppError> {
    let session = app.with_authority(|a| {
        a.token_by_hash(token_sha256)
            .filter(|t| t.federated.is_some() && t.issued_by == t.identity && t.revoked.is_none())
            .cloned()
    });
    let Some(t) = session else {
        return Ok(());
    };
    let actor = app.actor_by_token_hash(token_sha256.to_owned()).await?;
    crate::identities::revoke_token(
        app,
        &actor,
        &t.id,
        ReasonInput {
            reason: "signed out".into(),
        },
    )
    .await
    .map(|_| ())
}
