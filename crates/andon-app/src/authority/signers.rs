//! The authority's signing part: which registered keys may sign an application's evidence,
//! and how many of them must.

use andon_domain::{KeyId, PublicKey, Role};

use super::{Authority, KeyState, SigningPolicy};
use crate::AppError;

impl Authority {
    /// Every key a signature on `application`'s evidence may verify with: registered,
    /// unrevoked, and owned by an enabled pipeline allowed for the application; with the
    /// owner's name.
    pub fn application_keys(&self, application: &str) -> Vec<(KeyId, PublicKey, String)> {
        self.keys
            .values()
            .filter(|k| k.revoked_index.is_none())
            .filter(|k| {
                self.identities
                    .get(&k.identity)
                    .is_some_and(|i| i.disabled.is_none())
                    && self.pipeline_of(&k.identity, application)
            })
            .filter_map(|k| Some((k.keyid.parse().ok()?, k.key.clone(), k.identity.clone())))
            .collect()
    }

    /// How many of `application`'s keys must sign each envelope (one unless an entry said
    /// otherwise).
    pub fn signing_policy(&self, application: &str) -> SigningPolicy {
        self.thresholds
            .get(application)
            .copied()
            .unwrap_or(SigningPolicy {
                threshold: 1,
                index: None,
            })
    }

    /// A job key signs only while its session lives: not after it expired, nor after the
    /// session was revoked.
    pub fn job_key_current(&self, k: &KeyState, now_ms: i64) -> Result<(), AppError> {
        if k.expires_ms.is_some_and(|e| e <= now_ms) {
            return Err(AppError::forbidden(
                "key_expired",
                format!(
                    "job key {} expired with its session (registered at ledger entry {})",
                    k.keyid, k.registered_index
                ),
            ));
        }
        let session = k.session.as_deref().and_then(|t| self.token(t));
        if let Some(r) = session.and_then(|t| t.revoked.as_ref()) {
            return Err(AppError::forbidden(
                "key_revoked",
                format!(
                    "job key {} ended with its session, revoked at ledger entry {}",
                    k.keyid, r.index
                ),
            ));
        }
        Ok(())
    }

    /// Whether `identity` is a pipeline allowed for `application`.
    pub(super) fn pipeline_of(&self, identity: &str, application: &str) -> bool {
        self.identities.get(identity).is_some_and(|i| {
            i.role == Role::Pipeline && i.applications.iter().any(|a| a == application)
        })
    }

    /// The key `keyid` as a signing key for `application`: none when no such key is
    /// registered, refused when it is revoked, its identity disabled
    /// ([`Authority::signing_key`]) or it belongs to anything but a pipeline allowed for
    /// `application` (`key_not_allowed`).
    pub fn key_for(&self, keyid: &str, application: &str) -> Result<Option<&KeyState>, AppError> {
        let Some(k) = self.signing_key(keyid)? else {
            return Ok(None);
        };
        if !self.pipeline_of(&k.identity, application) {
            return Err(AppError::forbidden(
                "key_not_allowed",
                format!(
                    "key {keyid} belongs to {}, which is not allowed for application {application}",
                    k.identity
                ),
            ));
        }
        Ok(Some(k))
    }

    /// Checks the keys an evidence entry names, its signer and co-signers, as of now: each
    /// registered, unrevoked, of an enabled pipeline allowed for `application`, and as many
    /// distinct ones as the application's threshold. The sequencer checks this again when
    /// it writes the entry (a key revoked or a threshold raised since intake counts), and
    /// the audit at the entry's index.
    pub fn admit_signers<'k>(
        &self,
        application: &str,
        keys: impl IntoIterator<Item = &'k str>,
        now_ms: i64,
    ) -> Result<(), AppError> {
        let mut counted: Vec<&str> = Vec::new();
        for keyid in keys {
            let k = self
                .key_for(keyid, application)?
                .ok_or_else(|| AppError::forbidden("unknown_key", format!("no key {keyid}")))?;
            self.job_key_current(k, now_ms)?;
            if !counted.contains(&keyid) {
                counted.push(keyid);
            }
        }
        let policy = self.signing_policy(application);
        if counted.len() < policy.threshold as usize {
            let at = policy
                .index
                .map(|i| format!(" (ledger entry {i})"))
                .unwrap_or_default();
            return Err(AppError::forbidden(
                "below_threshold",
                format!(
                    "application {application} needs {} of its registered keys to sign each envelope{at}; {} did: {}",
                    policy.threshold,
                    counted.len(),
                    counted.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// A registered key (revoked or not) with the same material as `key` under another id.
    pub fn twin_of(&self, key: &PublicKey) -> Option<&KeyState> {
        let id = key.key_id().to_string();
        self.keys
            .values()
            .find(|k| k.keyid != id && k.key.same_material(key))
    }

    /// A key by id, whatever its state.
    pub fn key(&self, keyid: &str) -> Option<&KeyState> {
        self.keys.get(keyid)
    }

    /// Keys registered to `identity`.
    pub fn keys_of(&self, identity: &str) -> Vec<&KeyState> {
        let mut k: Vec<&KeyState> = self
            .keys
            .values()
            .filter(|k| k.identity == identity)
            .collect();
        k.sort_by_key(|k| k.registered_index);
        k
    }
}
