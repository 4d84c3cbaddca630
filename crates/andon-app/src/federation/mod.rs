//! Federated identity for pipelines: a CI job proves who it is with its platform's OpenID
//! Connect ID token instead of a stored Andon token.
//!
//! An admin registers the issuers Andon trusts (`oidc.issuer`) and the rules that map a
//! job's claims to a pipeline identity (`oidc.workload_rule`); both are ledger entries. The
//! job sends its ID token to `POST /v1/auth/oidc` and gets back a session token that lives
//! no longer than the ID token (an hour at most). The exchange is a `token.issued` entry
//! that records the token's issuer, subject, `jti`, key and claims, and every entry made
//! with the session carries the issuer, subject and `jti` in its `via`. An ID token is
//! exchanged once: the authority remembers every `jti` until the token has expired, and the
//! sequencer refuses a second exchange even when two servers race.

mod keys;
pub mod person;
pub mod sso;

pub use keys::KeyCache;

use andon_domain::api::IssuedToken;
use andon_domain::oidc::api::{IssuerView, RuleView};
use andon_domain::oidc::{
    Federated, IdToken, OidcIssuer, Refusal, WorkloadRule, peek, recorded_claims, verify_id_token,
};
use andon_domain::{EntryKind, Role};
use andon_store::Effect;

use crate::admin::{existing_identity, require_admin};
use crate::authority::{IssuerState, RuleState};
use crate::identities::check_reason;
use crate::ledger::fact::Who;
use crate::{Actor, App, AppError, ErrorKind, Fact, new_token, token_hash};
use andon_domain::identity::ReasonInput;

/// The longest a session exchanged for an ID token lives (it never outlives the ID token).
pub const MAX_SESSION_MS: i64 = 3_600_000;

fn refused(r: Refusal) -> AppError {
    AppError::new(ErrorKind::Unauthorized, r.code(), r.to_string())
}

fn issuer_view(i: &IssuerState) -> IssuerView {
    IssuerView {
        name: i.name.clone(),
        config: i.config.clone(),
        ledger_index: i.index,
        registered_by: i.by.clone(),
    }
}

fn rule_view(r: &RuleState) -> RuleView {
    RuleView {
        name: r.name.clone(),
        rule: r.rule.clone(),
        ledger_index: r.index,
        set_by: r.by.clone(),
    }
}

/// `PUT /v1/oidc/issuers/{name}` (admin): trusts an OpenID issuer's ID tokens, or replaces
/// the issuer registered under `name`. Unless the issuer comes with its JWK set, its keys
/// are fetched through discovery first: an issuer that cannot be reached, or whose
/// discovery names another issuer, is refused before anything is written.
pub async fn set_issuer(
    app: &App,
    actor: &Actor,
    name: &str,
    config: OidcIssuer,
) -> Result<IssuerView, AppError> {
    require_admin(actor)?;
    let name = andon_domain::oidc::check_name(name)?;
    config.check()?;
    let clash = app.with_authority(|a| {
        a.oidc_issuer_for(&config.issuer)
            .filter(|i| i.name != name.as_str())
            .map(|i| i.name.clone())
    });
    if let Some(other) = clash {
        return Err(AppError::conflict(format!(
            "issuer {} is already registered as {other}",
            config.issuer
        )));
    }
    keys::keys(app, &config, true).await?;
    let receipt = app
        .append(Fact::admin(
            EntryKind::OidcIssuerSet,
            actor,
            serde_json::json!({"name": name, "config": config}),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(IssuerView {
        name: name.to_string(),
        config,
        ledger_index: receipt.ledger_index,
        registered_by: actor.name.clone(),
    })
}

/// `GET /v1/oidc/issuers` (admin, auditor): the registered issuers.
pub fn list_issuers(app: &App, actor: &Actor) -> Result<Vec<IssuerView>, AppError> {
    actor.require(&[Role::Admin, Role::Auditor])?;
    Ok(app.with_authority(|a| a.oidc_issuers().map(issuer_view).collect()))
}

/// `PUT /v1/oidc/workload-rules/{name}` (admin): maps CI jobs' ID tokens of a registered
/// issuer, by their claims, to an enabled pipeline identity.
pub async fn set_rule(
    app: &App,
    actor: &Actor,
    name: &str,
    rule: WorkloadRule,
) -> Result<RuleView, AppError> {
    require_admin(actor)?;
    let name = andon_domain::oidc::check_name(name)?;
    rule.check()?;
    let issuer_known = app.with_authority(|a| a.oidc_issuers().any(|i| i.name == rule.issuer));
    if !issuer_known {
        return Err(AppError::bad_request(
            "unknown_issuer",
            format!("no issuer {} (PUT /v1/oidc/issuers/{{name}})", rule.issuer),
        ));
    }
    let (identity, role) = existing_identity(app, &rule.identity)?;
    if role != Role::Pipeline {
        return Err(AppError::bad_request(
            "not_a_pipeline",
            format!(
                "{identity} is not an enabled pipeline identity: workload rules map CI jobs to pipelines"
            ),
        ));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::WorkloadRuleSet,
            actor,
            serde_json::json!({"name": name, "rule": rule}),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(RuleView {
        name: name.to_string(),
        rule,
        ledger_index: receipt.ledger_index,
        set_by: actor.name.clone(),
    })
}

/// `POST /v1/oidc/workload-rules/{name}/remove` (admin): no job is mapped by the rule from
/// this entry on (sessions already exchanged run to their end unless revoked). Answers the
/// entry's index.
pub async fn remove_rule(
    app: &App,
    actor: &Actor,
    name: &str,
    reason: ReasonInput,
) -> Result<u64, AppError> {
    require_admin(actor)?;
    check_reason(&reason)?;
    if app.with_authority(|a| a.workload_rule(name).is_none()) {
        return Err(AppError::not_found(format!("no workload rule {name}")));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::WorkloadRuleRemoved,
            actor,
            serde_json::json!({"name": name, "reason": reason.reason}),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(receipt.ledger_index)
}

/// `GET /v1/oidc/workload-rules` (admin, auditor): the rules, by name.
pub fn list_rules(app: &App, actor: &Actor) -> Result<Vec<RuleView>, AppError> {
    actor.require(&[Role::Admin, Role::Auditor])?;
    Ok(app.with_authority(|a| a.workload_rules().map(rule_view).collect()))
}

/// Verifies an ID token against its registered issuer's keys (fetched again once when it
/// names a key id the cache lacks).
pub(crate) async fn verify(app: &App, token: &str) -> Result<(IssuerState, IdToken), AppError> {
    let peeked = peek(token).map_err(refused)?;
    let issuer = app
        .with_authority(|a| a.oidc_issuer_for(&peeked.issuer).cloned())
        .ok_or_else(|| refused(Refusal::UnknownIssuer(peeked.issuer.clone())))?;
    let accepted = issuer.config.algorithms();
    if !accepted.contains(&peeked.alg.as_str()) {
        return Err(refused(Refusal::Algorithm {
            alg: peeked.alg,
            accepted: accepted.join(", "),
        }));
    }
    let now = app.now();
    let jwks = keys::keys(app, &issuer.config, false).await?;
    let verified = match verify_id_token(token, &issuer.config, &jwks, now) {
        Err(Refusal::UnknownKey { .. }) if issuer.config.jwks.is_none() => {
            let jwks = keys::keys(app, &issuer.config, true).await?;
            verify_id_token(token, &issuer.config, &jwks, now)
        }
        other => other,
    }
    .map_err(refused)?;
    Ok((issuer, verified))
}

/// The one rule of `issuer` mapping the token's claims, or why none does.
fn mapping_rule(app: &App, issuer: &IssuerState, t: &IdToken) -> Result<RuleState, AppError> {
    let matching: Vec<RuleState> = app.with_authority(|a| {
        a.workload_rules()
            .filter(|r| r.rule.issuer == issuer.name && r.rule.matches(&t.claims))
            .cloned()
            .collect()
    });
    let Some(first) = matching.first() else {
        return Err(AppError::forbidden(
            "no_workload_rule",
            format!(
                "no workload rule of issuer {} maps the token's subject {:?}",
                issuer.name, t.subject
            ),
        ));
    };
    if let Some(other) = matching
        .iter()
        .find(|r| r.rule.identity != first.rule.identity)
    {
        return Err(AppError::forbidden(
            "ambiguous_workload_rules",
            format!(
                "rules {} and {} map the token to different identities ({} and {})",
                first.name, other.name, first.rule.identity, other.rule.identity
            ),
        ));
    }
    Ok(first.clone())
}

/// A job's own public key, checked: readable, and registered nowhere yet.
fn job_key(app: &App, pem: &str) -> Result<serde_json::Value, AppError> {
    let key = andon_domain::PublicKey::parse(pem)?;
    let keyid = key.key_id().to_string();
    if app.with_authority(|a| a.key(&keyid).is_some() || a.twin_of(&key).is_some()) {
        return Err(AppError::conflict(format!(
            "key {keyid} is already registered: a job makes a new key for itself"
        )));
    }
    Ok(serde_json::json!({"keyid": keyid, "public_key": key.to_ledger_text()}))
}

/// Refuses an ID token exchanged before (by issuer and `jti`).
pub(crate) fn refuse_replay(app: &App, t: &IdToken) -> Result<(), AppError> {
    if app.with_authority(|a| a.exchanged(&t.issuer, &t.jti)) {
        return Err(AppError::new(
            ErrorKind::Unauthorized,
            "id_token_replayed",
            format!(
                "the ID token {} of {} was already exchanged: ask for a new one",
                t.jti, t.issuer
            ),
        ));
    }
    Ok(())
}

/// Two exchanges of one token raced (on two servers): the sequencer let one through, and
/// the other is a replay.
pub(crate) fn replay_race(e: AppError) -> AppError {
    match e.code {
        "conflict" if e.message.contains("already exchanged") => {
            AppError::new(ErrorKind::Unauthorized, "id_token_replayed", e.message)
        }
        _ => e,
    }
}

pub(crate) fn rfc3339(ms: i64) -> String {
    crate::input::rfc3339(Some(ms)).unwrap_or_default()
}

/// `POST /v1/auth/oidc` (no token): exchanges a CI job's ID token for a session token of
/// the pipeline identity a workload rule maps it to. Refused with a named reason, and
/// nothing written, when the token does not verify, has expired or is not yet valid, names
/// another audience or an unregistered issuer, was exchanged before, or no rule maps it to
/// an enabled pipeline.
pub async fn exchange(
    app: &App,
    id_token: &str,
    public_key: Option<&str>,
) -> Result<IssuedToken, AppError> {
    let id_token = id_token.trim();
    let job_key = public_key.map(|k| job_key(app, k)).transpose()?;
    let (issuer, t) = verify(app, id_token).await?;
    refuse_replay(app, &t)?;
    let rule = mapping_rule(app, &issuer, &t)?;
    let (identity, role) = existing_identity(app, &rule.rule.identity).map_err(|e| {
        AppError::forbidden(
            "identity_disabled",
            format!(
                "rule {} maps the token to {}: {}",
                rule.name, rule.rule.identity, e.message
            ),
        )
    })?;
    if role != Role::Pipeline {
        return Err(AppError::forbidden(
            "not_a_pipeline",
            format!(
                "rule {} maps the token to {identity}, which is not a pipeline",
                rule.name
            ),
        ));
    }
    let token = new_token()?;
    let hash = token_hash(&token);
    let id = andon_domain::token_id(&hash);
    let id_token_expires = t.expires.saturating_mul(1000);
    let expires_at = rfc3339(id_token_expires.min(app.now() + MAX_SESSION_MS));
    let issued_by = format!("oidc:{}", issuer.name);
    let federated = Federated {
        issuer: t.issuer.clone(),
        subject: t.subject.clone(),
        jti: t.jti.clone(),
    };
    let body = serde_json::json!({
        "identity": identity, "token_sha256": hash, "id": id, "issued_by": issued_by,
        "expires_at": expires_at, "issuer": issuer.name, "rule": rule.name,
        "federated": federated, "id_token_expires_at": rfc3339(id_token_expires),
        "kid": t.kid, "alg": t.alg, "claims": recorded_claims(&t.claims),
    });
    let mut body = body;
    if let Some(k) = job_key {
        body["job_key"] = k;
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::TokenIssued,
            Who::from(identity.as_str()),
            body,
            Effect::Token {
                hash,
                identity: identity.to_string(),
            },
        ))
        .await
        .map_err(replay_race)?;
    Ok(IssuedToken {
        identity: identity.to_string(),
        token,
        token_id: Some(id),
        issued_by: Some(issued_by),
        expires_at: Some(expires_at),
        enrollment: None,
        receipt,
    })
}
