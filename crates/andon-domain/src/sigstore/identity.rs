//! Who may sign an application's evidence without a registered key: the OIDC issuer and
//! certificate identity a keyless signature must carry, and the workload claims it must make.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sigstore_verify::crypto::FulcioCiClaims;

use super::KeylessSignature;
use crate::DomainError;

/// The most rules one application's keyless policy holds.
pub const MAX_IDENTITY_RULES: usize = 32;

/// One accepted signer: an issuer, an identity (exact or a whole-string regular expression)
/// and, optionally, certificate claims that must equal given values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityRule {
    /// The OIDC issuer, exactly (`https://token.actions.githubusercontent.com`).
    pub issuer: String,
    /// The certificate identity, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// A regular expression the whole certificate identity must match (as cosign's
    /// `--certificate-identity-regexp`, but anchored at both ends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_regex: Option<String>,
    /// Certificate claims that must hold exactly, by name (`source_repository_ref`,
    /// `runner_environment`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
}

/// An application's keyless signers: a signature is accepted when any rule admits it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeylessPolicy {
    /// The rules; none means no keyless signature is accepted.
    pub identities: Vec<IdentityRule>,
}

fn bad(why: impl Into<String>) -> DomainError {
    DomainError::MalformedPolicy(why.into())
}

fn anchored(pattern: &str) -> Result<regex::Regex, DomainError> {
    regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| bad(format!("identity_regex {pattern:?}: {e}")))
}

impl IdentityRule {
    fn check(&self) -> Result<(), DomainError> {
        if !(self.issuer.starts_with("https://") && self.issuer.len() <= 512) {
            return Err(bad(format!(
                "issuer {:?}: an https:// URL of at most 512 characters",
                self.issuer
            )));
        }
        match (&self.identity, &self.identity_regex) {
            (Some(i), None) if !i.is_empty() && i.len() <= 1024 => {}
            (None, Some(r)) if !r.is_empty() && r.len() <= 1024 => {
                anchored(r)?;
            }
            _ => {
                return Err(bad(
                    "each rule names exactly one of identity or identity_regex (1 to 1,024 characters)",
                ));
            }
        }
        for name in self.claims.keys() {
            if !CLAIM_NAMES.contains(&name.as_str()) {
                return Err(bad(format!(
                    "unknown claim {name:?}; known: {}",
                    CLAIM_NAMES.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Whether a verified keyless signature satisfies this rule.
    pub fn admits(&self, s: &KeylessSignature) -> bool {
        let identity = match (&self.identity, &self.identity_regex) {
            (Some(i), _) => *i == s.identity,
            (None, Some(r)) => anchored(r).is_ok_and(|re| re.is_match(&s.identity)),
            (None, None) => false,
        };
        self.issuer == s.issuer
            && identity
            && self
                .claims
                .iter()
                .all(|(k, v)| s.claims.get(k).is_some_and(|have| have == v))
    }
}

impl KeylessPolicy {
    /// Checks every rule (issuers, exactly one identity form, valid regular expressions,
    /// known claim names) and the number of rules.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.identities.len() > MAX_IDENTITY_RULES {
            return Err(bad(format!(
                "a policy holds at most {MAX_IDENTITY_RULES} identities"
            )));
        }
        self.identities.iter().try_for_each(IdentityRule::check)
    }

    /// The first rule that admits `s`, by position.
    pub fn admitting(&self, s: &KeylessSignature) -> Option<usize> {
        self.identities.iter().position(|r| r.admits(s))
    }
}

/// The claim names Andon records, as Fulcio's OID registry names its extensions.
pub const CLAIM_NAMES: &[&str] = &[
    "build_signer_uri",
    "build_signer_digest",
    "runner_environment",
    "source_repository_uri",
    "source_repository_digest",
    "source_repository_ref",
    "source_repository_identifier",
    "source_repository_owner_uri",
    "source_repository_owner_identifier",
    "build_config_uri",
    "build_config_digest",
    "build_trigger",
    "run_invocation_uri",
    "source_repository_visibility_at_signing",
    "deployment_environment",
];

/// A certificate's workload claims, by [`CLAIM_NAMES`] name.
pub(super) fn claims(c: &FulcioCiClaims) -> BTreeMap<String, String> {
    let values = [
        &c.build_signer_uri,
        &c.build_signer_digest,
        &c.runner_environment,
        &c.source_repository_uri,
        &c.source_repository_digest,
        &c.source_repository_ref,
        &c.source_repository_identifier,
        &c.source_repository_owner_uri,
        &c.source_repository_owner_identifier,
        &c.build_config_uri,
        &c.build_config_digest,
        &c.build_trigger,
        &c.run_invocation_uri,
        &c.source_repository_visibility_at_signing,
        &c.deployment_environment,
    ];
    CLAIM_NAMES
        .iter()
        .zip(values)
        .filter_map(|(name, v)| v.as_ref().map(|v| ((*name).to_owned(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature(identity: &str) -> KeylessSignature {
        KeylessSignature {
            issuer: "https://token.actions.githubusercontent.com".into(),
            identity: identity.into(),
            trusted_root: "public-good".into(),
            trusted_root_sha256: crate::Sha256Digest::of(b"root"),
            log_index: Some(1),
            integrated_time: None,
            claims: BTreeMap::from([("source_repository_ref".into(), "refs/heads/main".into())]),
        }
    }

    fn rule(identity: Option<&str>, regex: Option<&str>) -> IdentityRule {
        IdentityRule {
            issuer: "https://token.actions.githubusercontent.com".into(),
            identity: identity.map(Into::into),
            identity_regex: regex.map(Into::into),
            claims: BTreeMap::new(),
        }
    }

    const WORKFLOW: &str =
        "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main";

    #[test]
    fn an_exact_identity_matches_only_itself() {
        let r = rule(Some(WORKFLOW), None);
        assert!(r.admits(&signature(WORKFLOW)));
        assert!(!r.admits(&signature(&format!("{WORKFLOW}x"))));
        let mut other_issuer = signature(WORKFLOW);
        other_issuer.issuer = "https://gitlab.com".into();
        assert!(!r.admits(&other_issuer));
    }

    #[test]
    fn a_regex_must_match_the_whole_identity() {
        let r = rule(
            None,
            Some(
                r"https://github\.com/acme/[a-z]+/\.github/workflows/release\.yml@refs/heads/main",
            ),
        );
        assert!(r.admits(&signature(WORKFLOW)));
        // An unanchored pattern would accept an attacker's repository that embeds ours.
        let r = rule(None, Some(r"https://github\.com/acme/shop/.*"));
        assert!(!r.admits(&signature(&format!("https://evil.example/{WORKFLOW}"))));
    }

    #[test]
    fn claims_must_hold_exactly() {
        let mut r = rule(Some(WORKFLOW), None);
        r.claims
            .insert("source_repository_ref".into(), "refs/heads/main".into());
        assert!(r.admits(&signature(WORKFLOW)));
        r.claims
            .insert("runner_environment".into(), "github-hosted".into());
        assert!(
            !r.admits(&signature(WORKFLOW)),
            "a claim the certificate lacks fails"
        );
    }

    #[test]
    fn malformed_rules_are_refused() {
        let both = rule(Some(WORKFLOW), Some(".*"));
        let neither = rule(None, None);
        let bad_regex = rule(None, Some("(unclosed"));
        let mut http = rule(Some(WORKFLOW), None);
        http.issuer = "http://token.actions.githubusercontent.com".into();
        let mut unknown = rule(Some(WORKFLOW), None);
        unknown
            .claims
            .insert("favourite_colour".into(), "blue".into());
        for r in [both, neither, bad_regex, http, unknown] {
            let p = KeylessPolicy {
                identities: vec![r.clone()],
            };
            assert!(p.check().is_err(), "{r:?} should be refused");
        }
        let many = KeylessPolicy {
            identities: vec![rule(Some(WORKFLOW), None); MAX_IDENTITY_RULES + 1],
        };
        assert!(many.check().is_err());
        assert!(
            KeylessPolicy {
                identities: vec![rule(Some(WORKFLOW), None)]
            }
            .check()
            .is_ok()
        );
    }
}
