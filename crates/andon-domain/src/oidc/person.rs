//! Rules that map people's ID tokens (from the company's identity provider) to a role and
//! approver groups: the same claim patterns as workload rules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MAX_CONDITIONS, bad, value_matches};
use crate::{DomainError, Role};

/// A rule: people whose ID token from `issuer` carries every listed claim (a pattern as in
/// workload rules; a list claim such as `groups` matches when one item does) get `role` and
/// `groups`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonRule {
    /// The registered issuer's name.
    pub issuer: String,
    /// Claim name to pattern, at least one (`groups` = `release-approvers`).
    pub claims: BTreeMap<String, String>,
    /// The role: approver, auditor or admin (people are never pipelines).
    pub role: String,
    /// Approver groups the person joins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl PersonRule {
    /// Checks the rule's shape (the issuer is checked against the ledger).
    pub fn check(&self) -> Result<Role, DomainError> {
        if self.claims.is_empty() || self.claims.len() > MAX_CONDITIONS {
            return Err(bad(format!(
                "claims: one to {MAX_CONDITIONS} conditions (groups, email, hd…)"
            )));
        }
        if let Some((name, _)) = self
            .claims
            .iter()
            .find(|(n, p)| n.is_empty() || p.chars().all(|c| c == '*'))
        {
            return Err(bad(format!(
                "claim {name}: name it and give a pattern besides '*'"
            )));
        }
        let role: Role = self.role.parse()?;
        if role == Role::Pipeline {
            return Err(bad("role: people are approvers, auditors or admins"));
        }
        if self.groups.len() > 32
            || self
                .groups
                .iter()
                .any(|g| g.trim().is_empty() || g.len() > 128)
        {
            return Err(bad("groups: at most 32, each 1 to 128 characters"));
        }
        Ok(role)
    }

    /// Whether every condition holds for the token's `claims`.
    pub fn matches(&self, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.claims
            .iter()
            .all(|(name, pattern)| claims.get(name).is_some_and(|v| value_matches(v, pattern)))
    }
}

/// An identity name for a person signing in for the first time: their
/// `preferred_username`, else the part of `email` before the `@`, else `sub`; lowercased,
/// with anything but a-z, 0-9, '-', '_' and '.' turned into '-'.
pub fn identity_name_for(claims: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let raw = ["preferred_username", "email", "sub"]
        .iter()
        .find_map(|c| {
            claims
                .get(*c)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        })?;
    let raw = raw.split('@').next().unwrap_or(raw);
    let name: String = raw
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let name = name.trim_start_matches(['-', '_', '.']).to_owned();
    (!name.is_empty()).then_some(name)
}
