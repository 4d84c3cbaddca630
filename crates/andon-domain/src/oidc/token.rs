//! Verifying an OpenID Connect ID token (a JWS in compact form) against an issuer's keys:
//! the algorithm is checked against the issuer's allow-list before any key is touched, the
//! signature by `jsonwebtoken` (aws-lc-rs), then issuer, audience and times here, each
//! refusal with its own reason.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::OidcIssuer;

/// The largest ID token read (GitHub's and GitLab's are 1 to 2 KB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why an ID token is refused. Each names the check, for the caller and the logs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not a compact JWS with a JSON header and claims.
    #[error("not an ID token: {0}")]
    Malformed(String),
    /// `alg` is not one the issuer signs with (`none`, HMAC, or outside its list).
    #[error("the token's algorithm {alg:?} is not accepted (accepted: {accepted})")]
    Algorithm {
        /// The header's `alg`.
        alg: String,
        /// What the issuer accepts.
        accepted: String,
    },
    /// `iss` names no registered issuer.
    #[error("the token's issuer {0:?} is not registered")]
    UnknownIssuer(String),
    /// No key of the issuer has the token's `kid` (after refreshing the keys).
    #[error("no key of {issuer} has the token's key id {kid:?}")]
    UnknownKey {
        /// The issuer.
        issuer: String,
        /// The header's `kid`.
        kid: String,
    },
    /// The signature does not verify with the issuer's key.
    #[error("the token's signature does not verify with {issuer}'s key {kid:?}")]
    BadSignature {
        /// The issuer.
        issuer: String,
        /// The key tried.
        kid: String,
    },
    /// `aud` names none of the issuer's accepted audiences.
    #[error("the token's audience {got} is not accepted (accepted: {accepted})")]
    Audience {
        /// The token's `aud`.
        got: String,
        /// What is accepted.
        accepted: String,
    },
    /// `exp` has passed (beyond the clock skew).
    #[error("the token expired at {0} (Unix seconds)")]
    Expired(i64),
    /// `nbf` or `iat` is still ahead (beyond the clock skew).
    #[error("the token is not valid before {0} (Unix seconds)")]
    NotYetValid(i64),
    /// A required claim is absent or of the wrong type.
    #[error("the token has no usable {0} claim")]
    MissingClaim(&'static str),
}

impl Refusal {
    /// The refusal's code, as the API answers it.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed_id_token",
            Refusal::Algorithm { .. } => "id_token_algorithm",
            Refusal::UnknownIssuer(_) => "unknown_issuer",
            Refusal::UnknownKey { .. } => "unknown_key_id",
            Refusal::BadSignature { .. } => "id_token_signature",
            Refusal::Audience { .. } => "wrong_audience",
            Refusal::Expired(_) => "id_token_expired",
            Refusal::NotYetValid(_) => "id_token_not_yet_valid",
            Refusal::MissingClaim(_) => "malformed_id_token",
        }
    }
}

/// A verified ID token.
#[derive(Clone, Debug, PartialEq)]
pub struct IdToken {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `jti`, or `sha256:` and the token's SHA-256 when it has none: what replay is judged by.
    pub jti: String,
    /// `exp`, Unix seconds.
    pub expires: i64,
    /// The key that verified it.
    pub kid: String,
    /// The algorithm.
    pub alg: String,
    /// Every claim.
    pub claims: Map<String, Value>,
}

/// What a token says before it is verified: its header's `alg` and `kid`, and its `iss`
/// (which issuer's keys to try). Nothing here is trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peeked {
    /// `alg`.
    pub alg: String,
    /// `kid`, if any.
    pub kid: Option<String>,
    /// `iss`.
    pub issuer: String,
}

fn part(segment: &str, what: &str) -> Result<Map<String, Value>, Refusal> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|e| Refusal::Malformed(format!("its {what} is not base64url: {e}")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Refusal::Malformed(format!(
            "its {what} is not a JSON object"
        ))),
    }
}

/// Reads a token's header and `iss` without trusting them.
pub fn peek(token: &str) -> Result<Peeked, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::Malformed(format!(
            "longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let segments: Vec<&str> = token.split('.').collect();
    let [header, claims, _signature] = segments[..] else {
        return Err(Refusal::Malformed(
            "a JWS in compact form has three parts separated by dots".into(),
        ));
    };
    let header = part(header, "header")?;
    let claims = part(claims, "claims")?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| Refusal::Malformed("its header has no alg".into()))?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(Refusal::MissingClaim("iss"))?;
    Ok(Peeked {
        alg: alg.to_owned(),
        kid: header.get("kid").and_then(Value::as_str).map(str::to_owned),
        issuer: issuer.to_owned(),
    })
}

/// Reads a JWK set.
pub(super) fn key_set(jwks: &Value) -> Result<JwkSet, String> {
    serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())
}

/// Parses a JWK set (an issuer's `jwks_uri` document, or one given inline).
pub fn parse_key_set(jwks: &Value) -> Result<JwkSet, crate::DomainError> {
    key_set(jwks).map_err(|e| crate::DomainError::MalformedKey(format!("JWK set: {e}")))
}

fn algorithm(alg: &str) -> Option<Algorithm> {
    match alg {
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// The key for a token: by `kid`; a token without one may use the set's only key.
fn find_key<'k>(keys: &'k JwkSet, kid: Option<&str>) -> Option<&'k Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None if keys.keys.len() == 1 => keys.keys.first(),
        None => None,
    }
}

fn seconds(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, Refusal> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(Refusal::MissingClaim(name)),
    }
}

/// Verifies `token` as an ID token of `issuer` with its `keys`, at `now_ms`: the header's
/// algorithm among the issuer's, the signature, `iss`, `aud`, `exp` (required), `nbf` and
/// `iat` with the issuer's clock skew, and a `sub`.
pub fn verify_id_token(
    token: &str,
    issuer: &OidcIssuer,
    keys: &JwkSet,
    now_ms: i64,
) -> Result<IdToken, Refusal> {
    let token = token.trim();
    let peeked = peek(token)?;
    let accepted = issuer.algorithms();
    let alg = algorithm(&peeked.alg)
        .filter(|_| accepted.contains(&peeked.alg.as_str()))
        .ok_or_else(|| Refusal::Algorithm {
            alg: peeked.alg.clone(),
            accepted: accepted.join(", "),
        })?;
    if peeked.issuer != issuer.issuer {
        return Err(Refusal::UnknownIssuer(peeked.issuer));
    }
    let kid = peeked.kid.clone().unwrap_or_default();
    let jwk = find_key(keys, peeked.kid.as_deref()).ok_or_else(|| Refusal::UnknownKey {
        issuer: issuer.issuer.clone(),
        kid: kid.clone(),
    })?;
    let bad_signature = || Refusal::BadSignature {
        issuer: issuer.issuer.clone(),
        kid: kid.clone(),
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|_| bad_signature())?;
    // Times, audience and issuer are checked below with named reasons and the server's
    // clock; the library checks the signature with exactly the one algorithm chosen above.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|_| bad_signature())?;
    let claims = data.claims;
    check_audience(&claims, &issuer.audiences)?;
    let now = now_ms.div_euclid(1000);
    let skew = issuer.skew_ms() / 1000;
    let expires = seconds(&claims, "exp")?.ok_or(Refusal::MissingClaim("exp"))?;
    if expires + skew <= now {
        return Err(Refusal::Expired(expires));
    }
    for name in ["nbf", "iat"] {
        if let Some(t) = seconds(&claims, name)?
            && t - skew > now
        {
            return Err(Refusal::NotYetValid(t));
        }
    }
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(Refusal::MissingClaim("sub"))?
        .to_owned();
    let jti = match claims.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() => j.to_owned(),
        _ => format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes()))),
    };
    Ok(IdToken {
        issuer: peeked.issuer,
        subject,
        jti,
        expires,
        kid,
        alg: peeked.alg,
        claims,
    })
}

fn check_audience(claims: &Map<String, Value>, accepted: &[String]) -> Result<(), Refusal> {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => return Err(Refusal::MissingClaim("aud")),
    };
    if audiences.iter().any(|a| accepted.iter().any(|x| x == a)) {
        Ok(())
    } else {
        Err(Refusal::Audience {
            got: audiences.join(", "),
            accepted: accepted.join(", "),
        })
    }
}
