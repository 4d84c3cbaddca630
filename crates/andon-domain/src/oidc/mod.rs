//! Federated identity: the OpenID Connect issuers whose ID tokens Andon accepts, and the
//! rules that map a CI job's token (its claims: repository, ref, workflow, environment,
//! project path…) to a pipeline identity.
//!
//! Both are ledger entries (`oidc.issuer`, `oidc.workload_rule`); the authority built from the
//! ledger holds them. A token is verified by [`verify_id_token`] against the issuer's keys,
//! then matched by [`WorkloadRule::matches`].

pub mod api;
mod person;
mod token;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use jsonwebtoken::jwk::JwkSet;
pub use person::{PersonRule, identity_name_for};
pub use token::{IdToken, MAX_TOKEN_BYTES, Peeked, Refusal, parse_key_set, peek, verify_id_token};

use crate::DomainError;

/// The algorithms an issuer may sign ID tokens with. The token's `alg` header chooses
/// nothing outside this list (no `none`, no HMAC: a public key is never a shared secret).
pub const ALGORITHMS: &[&str] = &["RS256", "ES256", "EdDSA"];

/// The default clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_SKEW_SECONDS: u32 = 60;

/// The most claim conditions one rule holds.
pub const MAX_CONDITIONS: usize = 16;

/// An OpenID Connect issuer whose ID tokens are accepted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcIssuer {
    /// The issuer, exactly as its tokens' `iss` claim says
    /// (`https://token.actions.githubusercontent.com`, `https://gitlab.com`). Its keys come
    /// from `<issuer>/.well-known/openid-configuration` unless `jwks` is given.
    pub issuer: String,
    /// The audiences accepted (the token's `aud` must name one): what the pipeline asked its
    /// CI for (`andon`, or the server's URL).
    pub audiences: Vec<String>,
    /// The signing algorithms accepted, among RS256, ES256 and EdDSA (all three by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub algorithms: Vec<String>,
    /// The issuer's public keys as a JWK set, for installs that cannot reach the issuer
    /// (air-gapped): no discovery and no fetching then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (0 to 300; 60 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_seconds: Option<u32>,
}

fn bad(why: impl Into<String>) -> DomainError {
    DomainError::MalformedPolicy(why.into())
}

/// Whether `url` is an https URL, or http on a loopback host (a provider on this machine).
fn secure_url(url: &str) -> bool {
    if url.starts_with("https://") {
        return url.len() > "https://".len();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl OidcIssuer {
    /// Checks the issuer before it is recorded: an https URL (http only on loopback), one to
    /// eight audiences, known algorithms, a readable JWK set when one is given.
    pub fn check(&self) -> Result<(), DomainError> {
        if !secure_url(&self.issuer) || self.issuer.len() > 512 || self.issuer.ends_with('/') {
            return Err(bad(format!(
                "issuer {:?}: an https:// URL of at most 512 characters without a trailing slash (http:// only on a loopback address)",
                self.issuer
            )));
        }
        if self.audiences.is_empty() || self.audiences.len() > 8 {
            return Err(bad("audiences: one to eight"));
        }
        if let Some(a) = self
            .audiences
            .iter()
            .find(|a| a.trim().is_empty() || a.len() > 256)
        {
            return Err(bad(format!("audience {a:?}: 1 to 256 characters")));
        }
        if let Some(a) = self
            .algorithms
            .iter()
            .find(|a| !ALGORITHMS.contains(&a.as_str()))
        {
            return Err(bad(format!(
                "algorithm {a:?} is not accepted: use {}",
                ALGORITHMS.join(", ")
            )));
        }
        if self.clock_skew_seconds.is_some_and(|s| s > 300) {
            return Err(bad("clock_skew_seconds: 0 to 300"));
        }
        if let Some(jwks) = &self.jwks {
            let keys = token::key_set(jwks).map_err(|e| bad(format!("jwks: {e}")))?;
            if keys.keys.is_empty() {
                return Err(bad("jwks: the set has no keys"));
            }
        }
        Ok(())
    }

    /// The algorithms accepted.
    pub fn algorithms(&self) -> Vec<&str> {
        if self.algorithms.is_empty() {
            ALGORITHMS.to_vec()
        } else {
            self.algorithms.iter().map(String::as_str).collect()
        }
    }

    /// The clock skew tolerated, in milliseconds.
    pub fn skew_ms(&self) -> i64 {
        i64::from(self.clock_skew_seconds.unwrap_or(DEFAULT_SKEW_SECONDS)) * 1000
    }

    /// Where its discovery document is.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }
}

/// A rule mapping a CI job's ID token to a pipeline identity: the token comes from the
/// named issuer and every listed claim matches its pattern (exact text; `*` stands for any
/// run of characters, as in `repo:acme/shop:ref:refs/heads/*`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadRule {
    /// The registered issuer's name.
    pub issuer: String,
    /// Claim name to pattern; at least one, and none only `*`: a rule that admits every
    /// token of a shared issuer (every repository on GitHub) admits strangers.
    pub claims: BTreeMap<String, String>,
    /// The pipeline identity a matching job acts as.
    pub identity: String,
}

impl WorkloadRule {
    /// Checks the rule's shape (the issuer and identity are checked against the ledger).
    pub fn check(&self) -> Result<(), DomainError> {
        if self.claims.is_empty() {
            return Err(bad(
                "claims: name at least one claim the token must carry (repository, project_path, sub…): without one, every job the issuer serves would match",
            ));
        }
        if self.claims.len() > MAX_CONDITIONS {
            return Err(bad(format!("claims: at most {MAX_CONDITIONS}")));
        }
        for (name, pattern) in &self.claims {
            if name.is_empty() || name.len() > 128 {
                return Err(bad(format!("claim name {name:?}: 1 to 128 characters")));
            }
            if pattern.chars().all(|c| c == '*') || pattern.len() > 512 {
                return Err(bad(format!(
                    "claim {name}: the pattern {pattern:?} must say something besides '*' (at most 512 characters)"
                )));
            }
        }
        Ok(())
    }

    /// Whether every condition holds for the token's `claims`. A claim that is a string,
    /// number or boolean is compared as text; a list matches when one of its items does.
    pub fn matches(&self, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.claims
            .iter()
            .all(|(name, pattern)| claims.get(name).is_some_and(|v| value_matches(v, pattern)))
    }
}

fn value_matches(v: &serde_json::Value, pattern: &str) -> bool {
    match v {
        serde_json::Value::String(s) => glob(pattern, s),
        serde_json::Value::Bool(b) => glob(pattern, &b.to_string()),
        serde_json::Value::Number(n) => glob(pattern, &n.to_string()),
        serde_json::Value::Array(items) => items.iter().any(|i| value_matches(i, pattern)),
        _ => false,
    }
}

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for p in middle {
        match rest.find(p) {
            Some(at) => rest = &rest[at + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Who an entry's actor proved to be with an ID token: recorded in every entry made with
/// the session it was exchanged for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Federated {
    /// The token's `iss`.
    pub issuer: String,
    /// The token's `sub`.
    pub subject: String,
    /// The token's `jti` (or, for a token without one, `sha256:` and its SHA-256).
    pub jti: String,
}

/// The names a registered issuer or rule may have (as application names).
pub fn check_name(name: &str) -> Result<crate::AppName, DomainError> {
    name.parse()
}

/// The standard claims every recorded exchange keeps, besides a rule's own.
pub const RECORDED_CLAIMS: &[&str] = &["iss", "sub", "aud", "jti", "iat", "nbf", "exp"];

/// Sorted claims for the ledger: the token's claims, without any over 1,024 characters
/// of JSON (a group list, a picture) so an entry stays small.
pub fn recorded_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
) -> BTreeMap<String, serde_json::Value> {
    claims
        .iter()
        .filter(|(_, v)| v.to_string().len() <= 1024)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_runs() {
        assert!(glob(
            "repo:acme/shop:ref:refs/heads/*",
            "repo:acme/shop:ref:refs/heads/main"
        ));
        assert!(!glob(
            "repo:acme/shop:ref:refs/heads/*",
            "repo:acme/shopx:ref:refs/heads/main"
        ));
        assert!(glob("acme/*", "acme/"));
        assert!(glob("*/shop", "acme/shop"));
        assert!(!glob("*/shop", "acme/shop2"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXcYYb"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exact2"));
        assert!(!glob("ab*ba", "aba"), "the parts may not overlap");
    }

    #[test]
    fn a_rule_must_narrow_the_issuer() {
        let rule = |claims: &[(&str, &str)]| WorkloadRule {
            issuer: "github".into(),
            claims: claims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            identity: "ci".into(),
        };
        assert!(rule(&[]).check().is_err());
        assert!(rule(&[("repository", "*")]).check().is_err());
        assert!(rule(&[("repository", "acme/shop")]).check().is_ok());
        let claims = serde_json::json!({"repository": "acme/shop", "ref": "refs/heads/main",
            "run_attempt": 2, "groups": ["a", "b"]});
        let claims = claims.as_object().expect("object");
        assert!(rule(&[("repository", "acme/shop"), ("ref", "refs/heads/*")]).matches(claims));
        assert!(!rule(&[("repository", "acme/shop"), ("ref", "refs/tags/*")]).matches(claims));
        assert!(rule(&[("run_attempt", "2")]).matches(claims));
        assert!(rule(&[("groups", "b")]).matches(claims));
        assert!(
            !rule(&[("environment", "prod")]).matches(claims),
            "absent claims never match"
        );
    }

    #[test]
    fn issuers_are_https_or_loopback() {
        let issuer = |url: &str| OidcIssuer {
            issuer: url.into(),
            audiences: vec!["andon".into()],
            algorithms: vec![],
            jwks: None,
            clock_skew_seconds: None,
        };
        assert!(
            issuer("https://token.actions.githubusercontent.com")
                .check()
                .is_ok()
        );
        assert!(issuer("http://127.0.0.1:8080").check().is_ok());
        assert!(issuer("http://localhost:8080/realms/x").check().is_ok());
        assert!(issuer("http://idp.example.com").check().is_err());
        assert!(issuer("http://127.0.0.1.evil.com").check().is_err());
        assert!(issuer("https://gitlab.com/").check().is_err());
        let mut hs = issuer("https://gitlab.com");
        hs.algorithms = vec!["HS256".into()];
        assert!(hs.check().is_err());
    }
}
