//! The authority's federated part: the OpenID Connect issuers accepted, the workload rules
//! that map CI jobs' ID tokens to pipeline identities, and every ID token already exchanged
//! (by issuer and `jti`), so a token is exchanged once however many servers see it.

use std::collections::{BTreeMap, HashMap};

use andon_domain::oidc::{Federated, OidcIssuer, PersonRule, WorkloadRule};
use andon_domain::{LedgerEntry, PublicKey, Role};
use serde::Serialize;

use super::{Authority, KeyState, SsoLink, millis, text};

/// An issuer as the ledger registered it.
#[derive(Clone, Debug, Serialize)]
pub struct IssuerState {
    /// Its name.
    pub name: String,
    /// The issuer.
    pub config: OidcIssuer,
    /// The `oidc.issuer` entry.
    pub index: u64,
    /// Who registered it.
    pub by: String,
}

/// A workload rule as the ledger set it.
#[derive(Clone, Debug, Serialize)]
pub struct RuleState {
    /// Its name.
    pub name: String,
    /// The rule.
    pub rule: WorkloadRule,
    /// The `oidc.workload_rule` entry.
    pub index: u64,
    /// Who set it.
    pub by: String,
}

/// A person rule as the ledger set it.
#[derive(Clone, Debug, Serialize)]
pub struct PersonRuleState {
    /// Its name.
    pub name: String,
    /// The rule.
    pub rule: PersonRule,
    /// The `oidc.person_rule` entry.
    pub index: u64,
    /// Who set it.
    pub by: String,
}

/// Exchanged tokens are forgotten this long after they expire (their `exp` is checked
/// again at every exchange, so a forgotten one is refused as expired).
const REMEMBER_AFTER_EXPIRY_MS: i64 = 10 * 60 * 1000;

#[derive(Clone, Debug, Default)]
pub(super) struct Federation {
    issuers: BTreeMap<String, IssuerState>,
    rules: BTreeMap<String, RuleState>,
    people: BTreeMap<String, PersonRuleState>,
    /// `issuer` and `jti` → the token's expiry (Unix ms).
    exchanged: HashMap<(String, String), i64>,
}

impl Authority {
    /// An `oidc.issuer` entry: the whole issuer, checked; the same name replaces it.
    pub(super) fn apply_oidc_issuer(&mut self, index: u64, e: &LedgerEntry) -> Result<(), String> {
        let name = text(&e.body, "name")?;
        let config: OidcIssuer =
            serde_json::from_value(e.body.get("config").cloned().unwrap_or_default())
                .map_err(|x| format!("issuer {name}: {x}"))?;
        config.check().map_err(|x| x.to_string())?;
        if let Some(other) = self
            .federation
            .issuers
            .values()
            .find(|i| i.name != name && i.config.issuer == config.issuer)
        {
            return Err(format!(
                "issuer {} is already registered as {}",
                config.issuer, other.name
            ));
        }
        self.federation.issuers.insert(
            name.clone(),
            IssuerState {
                name,
                config,
                index,
                by: e.actor.clone(),
            },
        );
        Ok(())
    }

    /// An `oidc.workload_rule` entry: its issuer registered and its identity an enabled
    /// pipeline.
    pub(super) fn apply_workload_rule(
        &mut self,
        index: u64,
        e: &LedgerEntry,
    ) -> Result<(), String> {
        let name = text(&e.body, "name")?;
        let rule: WorkloadRule =
            serde_json::from_value(e.body.get("rule").cloned().unwrap_or_default())
                .map_err(|x| format!("rule {name}: {x}"))?;
        rule.check().map_err(|x| x.to_string())?;
        if !self.federation.issuers.contains_key(&rule.issuer) {
            return Err(format!("rule {name}: no issuer {}", rule.issuer));
        }
        match self.identity(&rule.identity) {
            Some(i) if i.role == Role::Pipeline && i.disabled.is_none() => {}
            _ => {
                return Err(format!(
                    "rule {name}: {} is not an enabled pipeline identity",
                    rule.identity
                ));
            }
        }
        self.federation.rules.insert(
            name.clone(),
            RuleState {
                name,
                rule,
                index,
                by: e.actor.clone(),
            },
        );
        Ok(())
    }

    /// An `oidc.workload_rule_removed` entry.
    pub(super) fn remove_workload_rule(&mut self, e: &LedgerEntry) -> Result<(), String> {
        let name = text(&e.body, "name")?;
        self.federation
            .rules
            .remove(&name)
            .map(|_| ())
            .ok_or_else(|| format!("no workload rule {name}"))
    }

    /// The `federated` part of a `token.issued` entry: the issuer registered, the rule it
    /// names still mapping the identity, and the token never exchanged before (by issuer and
    /// `jti`). Remembers the token until a while after it expires.
    pub(super) fn admit_exchange(
        &mut self,
        identity: &str,
        e: &LedgerEntry,
    ) -> Result<Federated, String> {
        let b = &e.body;
        let federated: Federated =
            serde_json::from_value(b.get("federated").cloned().unwrap_or_default())
                .map_err(|x| format!("federated: {x}"))?;
        let issuer = text(b, "issuer")?;
        let known = self
            .federation
            .issuers
            .get(&issuer)
            .is_some_and(|i| i.config.issuer == federated.issuer);
        if !known {
            return Err(format!(
                "no registered issuer {issuer} for {}",
                federated.issuer
            ));
        }
        let rule = text(b, "rule")?;
        if b.get("person").is_some() {
            // A person's session: the identity is the one linked to the token's subject, and
            // the rule that gave its role still stands.
            let linked = self
                .identity(identity)
                .and_then(|i| i.sso.as_ref())
                .is_some_and(|l| l.issuer == federated.issuer && l.subject == federated.subject);
            if !linked {
                return Err(format!(
                    "{identity} is not linked to {} of {}",
                    federated.subject, federated.issuer
                ));
            }
            if !self.federation.people.contains_key(&rule) {
                return Err(format!("no person rule {rule}"));
            }
        } else {
            let maps = self
                .federation
                .rules
                .get(&rule)
                .is_some_and(|r| r.rule.identity == identity && r.rule.issuer == issuer);
            if !maps {
                return Err(format!(
                    "no workload rule {rule} maps {issuer} to {identity}"
                ));
            }
        }
        let key = (federated.issuer.clone(), federated.jti.clone());
        if self.federation.exchanged.contains_key(&key) {
            return Err(format!(
                "the ID token {} of {} was already exchanged",
                federated.jti, federated.issuer
            ));
        }
        let expires = millis(&text(b, "id_token_expires_at")?).ok_or("bad id_token_expires_at")?;
        let now = millis(&e.time).unwrap_or(i64::MIN);
        self.federation
            .exchanged
            .retain(|_, exp| *exp + REMEMBER_AFTER_EXPIRY_MS > now);
        self.federation.exchanged.insert(key, expires);
        Ok(federated)
    }

    /// The `job_key` of an exchange: a public key the job made for itself, registered to the
    /// pipeline for as long as its session lives.
    pub(super) fn register_job_key(
        &mut self,
        index: u64,
        identity: &str,
        session: &str,
        expires_ms: Option<i64>,
        b: &serde_json::Value,
    ) -> Result<(), String> {
        let k = b.get("job_key").cloned().unwrap_or_default();
        let keyid = text(&k, "keyid")?;
        let key = PublicKey::parse(&text(&k, "public_key")?)
            .map_err(|x| format!("job key {keyid}: {x}"))?;
        if key.key_id().to_string() != keyid {
            return Err(format!("job key {keyid} does not match its public key"));
        }
        if self.keys.contains_key(&keyid) || self.twin_of(&key).is_some() {
            return Err(format!("job key {keyid} is already registered"));
        }
        self.keys.insert(
            keyid.clone(),
            KeyState {
                keyid,
                identity: identity.to_owned(),
                key,
                registered_index: index,
                revoked_index: None,
                expires_ms,
                session: Some(session.to_owned()),
            },
        );
        Ok(())
    }

    /// An `oidc.person_rule` entry: its issuer registered.
    pub(super) fn apply_person_rule(&mut self, index: u64, e: &LedgerEntry) -> Result<(), String> {
        let name = text(&e.body, "name")?;
        let rule: PersonRule =
            serde_json::from_value(e.body.get("rule").cloned().unwrap_or_default())
                .map_err(|x| format!("person rule {name}: {x}"))?;
        rule.check().map_err(|x| x.to_string())?;
        if !self.federation.issuers.contains_key(&rule.issuer) {
            return Err(format!("person rule {name}: no issuer {}", rule.issuer));
        }
        self.federation.people.insert(
            name.clone(),
            PersonRuleState {
                name,
                rule,
                index,
                by: e.actor.clone(),
            },
        );
        Ok(())
    }

    /// An `oidc.person_rule_removed` entry.
    pub(super) fn remove_person_rule(&mut self, e: &LedgerEntry) -> Result<(), String> {
        let name = text(&e.body, "name")?;
        self.federation
            .people
            .remove(&name)
            .map(|_| ())
            .ok_or_else(|| format!("no person rule {name}"))
    }

    /// The `sso` link of an `identity.created` entry, unique per issuer and subject.
    pub(super) fn sso_link(&self, b: &serde_json::Value) -> Result<Option<SsoLink>, String> {
        let Some(v) = b.get("sso") else {
            return Ok(None);
        };
        let link: SsoLink = serde_json::from_value(v.clone()).map_err(|x| format!("sso: {x}"))?;
        if let Some(other) = self.identity_for_subject(&link.issuer, &link.subject) {
            return Err(format!(
                "{} of {} is already linked to {}",
                link.subject, link.issuer, other.name
            ));
        }
        Ok(Some(link))
    }

    /// An `identity.linked` entry: only the identity itself, acting with a token it issued
    /// for itself, links itself, once, to a subject no other identity has.
    pub(super) fn link_identity(&mut self, e: &LedgerEntry) -> Result<(), String> {
        let name = text(&e.body, "name")?;
        let own = e.actor == name && e.via.as_ref().is_some_and(|v| v.self_issued(&name));
        if !own {
            return Err(format!(
                "{name} is linked only by itself, with a token of its own"
            ));
        }
        let link = self
            .sso_link(&e.body)?
            .ok_or_else(|| format!("identity.linked of {name} has no sso"))?;
        let i = self
            .identities
            .get_mut(&name)
            .ok_or_else(|| format!("no identity {name}"))?;
        if i.sso.is_some() {
            return Err(format!("{name} is already linked"));
        }
        i.sso = Some(link);
        Ok(())
    }

    /// The identity linked to `subject` of `issuer`.
    pub fn identity_for_subject(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Option<&super::IdentityState> {
        self.identities().find(|i| {
            i.sso
                .as_ref()
                .is_some_and(|l| l.issuer == issuer && l.subject == subject)
        })
    }

    /// Every person rule, by name.
    pub fn person_rules(&self) -> impl Iterator<Item = &PersonRuleState> {
        self.federation.people.values()
    }

    /// Every registered issuer, by name.
    pub fn oidc_issuers(&self) -> impl Iterator<Item = &IssuerState> {
        self.federation.issuers.values()
    }

    /// The registered issuer whose tokens say `iss`.
    pub fn oidc_issuer_for(&self, iss: &str) -> Option<&IssuerState> {
        self.federation
            .issuers
            .values()
            .find(|i| i.config.issuer == iss)
    }

    /// Every workload rule, by name.
    pub fn workload_rules(&self) -> impl Iterator<Item = &RuleState> {
        self.federation.rules.values()
    }

    /// A workload rule by name.
    pub fn workload_rule(&self, name: &str) -> Option<&RuleState> {
        self.federation.rules.get(name)
    }

    /// Whether the ID token `jti` of `issuer` was already exchanged.
    pub fn exchanged(&self, issuer: &str, jti: &str) -> bool {
        self.federation
            .exchanged
            .contains_key(&(issuer.to_owned(), jti.to_owned()))
    }
}
