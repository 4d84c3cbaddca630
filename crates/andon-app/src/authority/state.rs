//! The authority as a pure function of the ledger: `apply(index, entry)` in ledger order.

use std::collections::{BTreeMap, HashMap};

use andon_domain::api::SchemaValidation;
use andon_domain::oidc::Federated;
use andon_domain::sigstore::KeylessPolicy;
use andon_domain::{EntryKind, LedgerEntry, PublicKey, Role, Via, token_id};
use serde::Serialize;

use crate::{Actor, AppError};

/// An identity as the ledger made it.
#[derive(Clone, Debug, Serialize)]
pub struct IdentityState {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Applications a pipeline is scoped to.
    pub applications: Vec<String>,
    /// Approver groups it belongs to.
    pub groups: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// The entry that created it.
    pub created_index: u64,
    /// When (RFC 3339).
    pub created_at: String,
    /// When it was disabled, by whom and why: (index, by, reason).
    pub disabled: Option<Disabled>,
    /// The identity provider's subject it signs in as, for a person created (or linked) by
    /// single sign-on: it then decides only with a session from that sign-in.
    pub sso: Option<SsoLink>,
}

/// A person's link to their identity provider: the issuer and the subject (`sub`).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, serde::Deserialize)]
pub struct SsoLink {
    /// The issuer (`iss`).
    pub issuer: String,
    /// The subject (`sub`).
    pub subject: String,
}

/// An identity's or token's end: the entry, who, why.
#[derive(Clone, Debug, Serialize)]
pub struct Disabled {
    /// The entry that ended it.
    pub index: u64,
    /// Who ended it.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Why.
    pub reason: String,
}

/// A token as the ledger issued it (its SHA-256 only).
#[derive(Clone, Debug, Serialize)]
pub struct TokenState {
    /// Its public id.
    pub id: String,
    /// SHA-256 hex of the token.
    #[serde(skip)]
    pub hash: String,
    /// The identity it acts as.
    pub identity: String,
    /// Who issued it: the identity itself (enrollment, first admin) or an admin.
    pub issued_by: String,
    /// The entry that issued it.
    pub issued_index: u64,
    /// When (RFC 3339).
    pub issued_at: String,
    /// When it stops working (RFC 3339), if it does.
    pub expires_at: Option<String>,
    /// Its expiry in Unix ms.
    #[serde(skip)]
    pub expires_ms: Option<i64>,
    /// Its revocation.
    pub revoked: Option<Disabled>,
    /// The enrollment code it was issued with, when the identity redeemed one.
    pub enrollment: Option<EnrollmentOrigin>,
    /// The ID token it was exchanged for, when a CI job or a sign-in proved who it is.
    pub federated: Option<Federated>,
}

/// The enrollment code a token was issued with: who handed it out, where and when.
#[derive(Clone, Debug, Serialize)]
pub struct EnrollmentOrigin {
    /// The admin who handed it out.
    pub created_by: String,
    /// The `enrollment.created` entry.
    pub created_index: u64,
    /// When (RFC 3339).
    pub created_at: String,
}

/// A signing key as the ledger registered it.
#[derive(Clone, Debug)]
pub struct KeyState {
    /// Its key id.
    pub keyid: String,
    /// The identity it belongs to.
    pub identity: String,
    /// The key.
    pub key: PublicKey,
    /// The entry that registered it.
    pub registered_index: u64,
    /// The entry that revoked it.
    pub revoked_index: Option<u64>,
    /// For a job key (registered with a CI job's ID token exchange): when it stops signing
    /// (Unix ms), with the session it came with.
    pub expires_ms: Option<i64>,
    /// The session token (public id) a job key came with: revoking it ends the key.
    pub session: Option<String>,
}

/// A one-time enrollment code (its SHA-256 only).
#[derive(Clone, Debug)]
pub struct EnrollmentState {
    /// The identity it enrolls.
    pub identity: String,
    /// Who handed it out.
    pub created_by: String,
    /// The entry that handed it out.
    pub created_index: u64,
    /// When (RFC 3339).
    pub created_at: String,
    /// When it stops working (Unix ms).
    pub expires_ms: i64,
    /// The entry that used it.
    pub used_index: Option<u64>,
}

/// Everything authorization needs, as of the last entry applied.
#[derive(Clone, Debug, Default)]
pub struct Authority {
    identities: BTreeMap<String, IdentityState>,
    tokens: HashMap<String, TokenState>,
    token_ids: HashMap<String, String>,
    keys: HashMap<String, KeyState>,
    enrollments: HashMap<String, EnrollmentState>,
    thresholds: HashMap<String, SigningPolicy>,
    evidence_policies: HashMap<String, (SchemaValidation, u64)>,
    trusted_roots: BTreeMap<String, TrustedRootState>,
    keyless: HashMap<String, (KeylessPolicy, u64)>,
    federation: federation::Federation,
    applied: u64,
}

pub use keyless::TrustedRootState;

/// How many of an application's keys must sign each envelope, and the entry that said so.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct SigningPolicy {
    /// Distinct registered keys that must verify (1 to [`MAX_THRESHOLD`]).
    pub threshold: u32,
    /// The `application.signing_policy` entry; `None` for the default of one.
    pub index: Option<u64>,
}

impl Authority {
    /// How an application's SBOMs' schemas are enforced, and the entry that said so
    /// (`None` for the default, strict).
    pub fn evidence_policy(&self, application: &str) -> (SchemaValidation, Option<u64>) {
        self.evidence_policies
            .get(application)
            .map_or((SchemaValidation::Strict, None), |(m, i)| (*m, Some(*i)))
    }
}

/// The highest threshold: an envelope carries at most this many signatures.
pub const MAX_THRESHOLD: u32 = andon_domain::MAX_SIGNATURES as u32;

pub(super) fn text(body: &serde_json::Value, field: &str) -> Result<String, String> {
    body.get(field)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("the body has no {field}"))
}

fn list(body: &serde_json::Value, field: &str) -> Vec<String> {
    body.get(field)
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn millis(rfc3339: &str) -> Option<i64> {
    rfc3339
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

impl Authority {
    /// Entries applied so far (the index after the last one).
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Applies the entry at `index`. Entries of other kinds change nothing. An entry that
    /// names what no earlier entry introduced is refused with why (it changes nothing).
    pub fn apply(&mut self, index: u64, e: &LedgerEntry) -> Result<(), String> {
        self.applied = self.applied.max(index + 1);
        let b = &e.body;
        match e.kind {
            EntryKind::IdentityCreated => {
                let name = text(b, "name")?;
                if self.identities.contains_key(&name) {
                    return Err(format!("identity {name} already exists"));
                }
                let role: Role = text(b, "role")?.parse().map_err(|x| format!("{x}"))?;
                let sso = self.sso_link(b)?;
                self.identities.insert(
                    name.clone(),
                    IdentityState {
                        name,
                        role,
                        applications: list(b, "applications"),
                        groups: list(b, "groups"),
                        created_by: e.actor.clone(),
                        created_index: index,
                        created_at: e.time.clone(),
                        disabled: None,
                        sso,
                    },
                );
            }
            EntryKind::TokenIssued => {
                let identity = text(b, "identity")?;
                let hash = text(b, "token_sha256")?;
                if !self.identities.contains_key(&identity) {
                    return Err(format!("token for unknown identity {identity}"));
                }
                let enrollment = match text(b, "enrollment") {
                    Ok(code) => {
                        let en = self
                            .enrollments
                            .get_mut(&code)
                            .filter(|en| en.identity == identity && en.used_index.is_none())
                            .ok_or_else(|| format!("no unused enrollment code for {identity}"))?;
                        en.used_index = Some(index);
                        Some(EnrollmentOrigin {
                            created_by: en.created_by.clone(),
                            created_index: en.created_index,
                            created_at: en.created_at.clone(),
                        })
                    }
                    Err(_) => None,
                };
                let federated = match b.get("federated") {
                    Some(_) => Some(self.admit_exchange(&identity, e)?),
                    None => None,
                };
                let id = token_id(&hash);
                let issued_by = text(b, "issued_by").unwrap_or_else(|_| e.actor.clone());
                let expires_at = text(b, "expires_at").ok();
                if federated.is_some() && b.get("job_key").is_some() {
                    let expires = expires_at.as_deref().and_then(millis);
                    self.register_job_key(index, &identity, &id, expires, b)?;
                }
                self.token_ids.insert(id.clone(), hash.clone());
                self.tokens.insert(
                    hash.clone(),
                    TokenState {
                        id,
                        hash,
                        identity,
                        issued_by,
                        issued_index: index,
                        issued_at: e.time.clone(),
                        expires_ms: expires_at.as_deref().and_then(millis),
                        expires_at,
                        revoked: None,
                        enrollment,
                        federated,
                    },
                );
            }
            EntryKind::TokenRevoked => {
                let id = text(b, "token")?;
                let hash = self
                    .token_ids
                    .get(&id)
                    .ok_or_else(|| format!("no token {id}"))?;
                if let Some(t) = self.tokens.get_mut(hash) {
                    if t.revoked.is_some() {
                        return Err(format!("token {id} is already revoked"));
                    }
                    t.revoked = Some(Disabled {
                        index,
                        by: e.actor.clone(),
                        at: e.time.clone(),
                        reason: text(b, "reason").unwrap_or_default(),
                    });
                }
            }
            EntryKind::IdentityDisabled => {
                let name = text(b, "name")?;
                let i = self
                    .identities
                    .get_mut(&name)
                    .ok_or_else(|| format!("no identity {name}"))?;
                if i.disabled.is_some() {
                    return Err(format!("identity {name} is already disabled"));
                }
                i.disabled = Some(Disabled {
                    index,
                    by: e.actor.clone(),
                    at: e.time.clone(),
                    reason: text(b, "reason").unwrap_or_default(),
                });
            }
            EntryKind::EnrollmentCreated => {
                let identity = text(b, "identity")?;
                if !self.identities.contains_key(&identity) {
                    return Err(format!("enrollment for unknown identity {identity}"));
                }
                let expires_ms = millis(&text(b, "expires_at")?).ok_or("bad expires_at")?;
                self.enrollments.insert(
                    text(b, "code_sha256")?,
                    EnrollmentState {
                        identity,
                        created_by: e.actor.clone(),
                        created_index: index,
                        created_at: e.time.clone(),
                        expires_ms,
                        used_index: None,
                    },
                );
            }
            EntryKind::KeyRegistered => {
                let identity = text(b, "identity")?;
                let keyid = text(b, "keyid")?;
                if !self.identities.contains_key(&identity) {
                    return Err(format!("key for unknown identity {identity}"));
                }
                let key = PublicKey::parse(&text(b, "public_key")?)
                    .map_err(|x| format!("key {keyid}: {x}"))?;
                if key.key_id().to_string() != keyid {
                    return Err(format!("key {keyid} does not match its public key"));
                }
                self.keys.insert(
                    keyid.clone(),
                    KeyState {
                        keyid,
                        identity,
                        key,
                        registered_index: index,
                        revoked_index: None,
                        expires_ms: None,
                        session: None,
                    },
                );
            }
            EntryKind::SigningPolicySet => {
                let application = text(b, "application")?;
                let threshold = b
                    .get("threshold")
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|t| u32::try_from(t).ok())
                    .filter(|t| (1..=MAX_THRESHOLD).contains(t))
                    .ok_or_else(|| format!("the threshold is not 1 to {MAX_THRESHOLD}"))?;
                self.thresholds.insert(
                    application,
                    SigningPolicy {
                        threshold,
                        index: Some(index),
                    },
                );
            }
            EntryKind::EvidencePolicySet => {
                let application = text(b, "application")?;
                let mode =
                    serde_json::from_value(b.get("schema_validation").cloned().unwrap_or_default())
                        .map_err(|_| "schema_validation is not strict or lenient".to_owned())?;
                self.evidence_policies.insert(application, (mode, index));
            }
            EntryKind::TrustedRootSet => self.apply_trusted_root(index, e)?,
            EntryKind::KeylessPolicySet => self.apply_keyless_policy(index, e)?,
            EntryKind::OidcIssuerSet => self.apply_oidc_issuer(index, e)?,
            EntryKind::WorkloadRuleSet => self.apply_workload_rule(index, e)?,
            EntryKind::WorkloadRuleRemoved => self.remove_workload_rule(e)?,
            EntryKind::PersonRuleSet => self.apply_person_rule(index, e)?,
            EntryKind::PersonRuleRemoved => self.remove_person_rule(e)?,
            EntryKind::IdentityLinked => self.link_identity(e)?,
            EntryKind::KeyRevoked => {
                let keyid = text(b, "keyid")?;
                let k = self
                    .keys
                    .get_mut(&keyid)
                    .ok_or_else(|| format!("no key {keyid}"))?;
                k.revoked_index.get_or_insert(index);
            }
            _ => {}
        }
        Ok(())
    }

    /// The actor a token (by SHA-256) acts as at `now_ms`, or why not (`unauthorized`).
    pub fn actor(&self, token_hash: &str, now_ms: i64) -> Result<Actor, AppError> {
        let t = self
            .tokens
            .get(token_hash)
            .ok_or_else(|| AppError::unauthorized("unknown token"))?;
        self.check_token(t, now_ms)?;
        let i = self
            .identities
            .get(&t.identity)
            .ok_or_else(|| AppError::unauthorized("unknown token"))?;
        Ok(Actor {
            name: i.name.clone(),
            role: i.role,
            applications: i.applications.clone(),
            groups: i.groups.clone(),
            sso: i.sso.clone(),
            via: Some(Via {
                token: t.id.clone(),
                issued_by: t.issued_by.clone(),
                federated: t.federated.clone(),
            }),
        })
    }

    fn check_token(&self, t: &TokenState, now_ms: i64) -> Result<(), AppError> {
        if let Some(r) = &t.revoked {
            return Err(AppError::unauthorized(format!(
                "token {} was revoked (ledger entry {})",
                t.id, r.index
            )));
        }
        if t.expires_ms.is_some_and(|e| e <= now_ms) {
            return Err(AppError::unauthorized(format!(
                "token {} expired at {}",
                t.id,
                t.expires_at.as_deref().unwrap_or("")
            )));
        }
        match self.identities.get(&t.identity) {
            None => Err(AppError::unauthorized("unknown token")),
            Some(i) => match &i.disabled {
                Some(d) => Err(AppError::unauthorized(format!(
                    "identity {} was disabled (ledger entry {})",
                    i.name, d.index
                ))),
                None => Ok(()),
            },
        }
    }

    /// Whether the token with public id `id` may still act at `now_ms` (checked again where
    /// its entry is sequenced).
    pub fn token_valid(&self, id: &str, now_ms: i64) -> Result<(), AppError> {
        let t = self
            .token_ids
            .get(id)
            .and_then(|h| self.tokens.get(h))
            .ok_or_else(|| AppError::unauthorized(format!("unknown token {id}")))?;
        self.check_token(t, now_ms)
    }

    /// The key `keyid` if it is registered, unrevoked and its owner enabled.
    pub fn signing_key(&self, keyid: &str) -> Result<Option<&KeyState>, AppError> {
        let Some(k) = self.keys.get(keyid) else {
            return Ok(None);
        };
        if let Some(i) = k.revoked_index {
            return Err(AppError::forbidden(
                "key_revoked",
                format!("key {keyid} was revoked (ledger entry {i})"),
            ));
        }
        if let Some(d) = self
            .identities
            .get(&k.identity)
            .and_then(|i| i.disabled.as_ref())
        {
            return Err(AppError::forbidden(
                "identity_disabled",
                format!(
                    "key {keyid} belongs to {}, disabled at ledger entry {}",
                    k.identity, d.index
                ),
            ));
        }
        Ok(Some(k))
    }

    /// An identity by name.
    pub fn identity(&self, name: &str) -> Option<&IdentityState> {
        self.identities.get(name)
    }

    /// Every identity, by name.
    pub fn identities(&self) -> impl Iterator<Item = &IdentityState> {
        self.identities.values()
    }

    /// Every token, oldest first.
    pub fn tokens(&self) -> Vec<&TokenState> {
        let mut t: Vec<&TokenState> = self.tokens.values().collect();
        t.sort_by_key(|t| t.issued_index);
        t
    }

    /// A token by its SHA-256.
    pub fn token_by_hash(&self, token_sha256: &str) -> Option<&TokenState> {
        self.tokens.get(token_sha256)
    }

    /// A token by public id.
    pub fn token(&self, id: &str) -> Option<&TokenState> {
        self.token_ids.get(id).and_then(|h| self.tokens.get(h))
    }

    /// The unused, unexpired enrollment code with this SHA-256.
    pub fn enrollment(&self, code_sha256: &str, now_ms: i64) -> Option<&EnrollmentState> {
        self.enrollments
            .get(code_sha256)
            .filter(|e| e.used_index.is_none() && e.expires_ms > now_ms)
    }
}

#[path = "keyless.rs"]
mod keyless;

#[path = "federation.rs"]
mod federation;

#[path = "signers.rs"]
mod signers;

pub use federation::{IssuerState, PersonRuleState, RuleState};

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
