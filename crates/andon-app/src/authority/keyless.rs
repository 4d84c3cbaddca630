//! The authority's keyless part: Sigstore trusted roots and application keyless policies,
//! as their ledger entries set them, and the rule that admits a keyless signer.

use andon_domain::LedgerEntry;
use andon_domain::sigstore::{KeylessPolicy, KeylessSignature, TrustedRoot};

use super::{Authority, text};
use crate::AppError;

/// A Sigstore trusted root as the ledger registered it.
#[derive(Clone, Debug)]
pub struct TrustedRootState {
    /// The parsed root.
    pub root: TrustedRoot,
    /// The `sigstore.trusted_root` entry.
    pub index: u64,
    /// Who registered it.
    pub by: String,
}

impl Authority {
    /// A `sigstore.trusted_root` entry: the document parsed whole, checked against its
    /// recorded SHA-256; the same name replaces the root.
    pub(super) fn apply_trusted_root(&mut self, index: u64, e: &LedgerEntry) -> Result<(), String> {
        let b = &e.body;
        let name = text(b, "name")?;
        let root = TrustedRoot::parse(&name, text(b, "document")?.as_bytes())
            .map_err(|x| format!("trusted root {name}: {x}"))?;
        if text(b, "sha256")? != root.sha256().hex() {
            return Err(format!("trusted root {name} does not match its sha256"));
        }
        self.trusted_roots.insert(
            name,
            TrustedRootState {
                root,
                index,
                by: e.actor.clone(),
            },
        );
        Ok(())
    }

    /// An `application.keyless_policy` entry: the whole policy, checked.
    pub(super) fn apply_keyless_policy(
        &mut self,
        index: u64,
        e: &LedgerEntry,
    ) -> Result<(), String> {
        let b = &e.body;
        let application = text(b, "application")?;
        let policy: KeylessPolicy =
            serde_json::from_value(b.get("policy").cloned().unwrap_or_default())
                .map_err(|x| format!("keyless policy: {x}"))?;
        policy.check().map_err(|x| x.to_string())?;
        self.keyless.insert(application, (policy, index));
        Ok(())
    }

    /// Every registered Sigstore trusted root, by name.
    pub fn trusted_roots(&self) -> impl Iterator<Item = &TrustedRootState> {
        self.trusted_roots.values()
    }

    /// The trusted roots keyless bundles are verified against.
    pub fn sigstore_roots(&self) -> Vec<TrustedRoot> {
        self.trusted_roots
            .values()
            .map(|t| t.root.clone())
            .collect()
    }

    /// The keyless signers `application` accepts, and the entry that said so.
    pub fn keyless_policy(&self, application: &str) -> Option<(&KeylessPolicy, u64)> {
        self.keyless.get(application).map(|(p, i)| (p, *i))
    }

    /// Checks a verified keyless signature on `application`'s evidence as of now: the trusted
    /// root that verified it is still registered with the same document, and a rule of the
    /// application's keyless policy admits its issuer, identity and claims. Intake, the
    /// sequencer and the audit apply this same rule.
    pub fn admit_keyless(&self, application: &str, s: &KeylessSignature) -> Result<(), AppError> {
        let root = self.trusted_roots.get(&s.trusted_root);
        if root.is_none_or(|r| r.root.sha256() != s.trusted_root_sha256) {
            return Err(AppError::forbidden(
                "trusted_root_changed",
                format!(
                    "the Sigstore trusted root {} that verified the bundle is no longer registered as it was",
                    s.trusted_root
                ),
            ));
        }
        let admitted = self
            .keyless
            .get(application)
            .is_some_and(|(p, _)| p.admitting(s).is_some());
        if !admitted {
            let at = self
                .keyless
                .get(application)
                .map(|(_, i)| format!(" (ledger entry {i})"))
                .unwrap_or_else(|| " (it has none)".into());
            return Err(AppError::forbidden(
                "identity_not_allowed",
                format!(
                    "the keyless signer {} (issuer {}) is not admitted by application {application}'s keyless policy{at}",
                    s.identity, s.issuer
                ),
            ));
        }
        Ok(())
    }
}
