//! Identities, tokens and enrollment as the API shows them.

use serde::{Deserialize, Serialize};

/// A one-time enrollment code, shown once: the person it is for redeems it for a token of
/// their own.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Enrollment {
    /// The code.
    pub code: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
}

/// `POST /v1/enroll`: redeem an enrollment code.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EnrollRequest {
    /// The code an admin handed out.
    pub code: String,
}

/// Why something is ended (a token revoked, an identity disabled).
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReasonInput {
    /// Why, 1 to 4,000 characters.
    #[serde(default)]
    pub reason: String,
}

/// When, by whom and why something ended.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Ended {
    /// The ledger entry that ended it.
    pub ledger_index: u64,
    /// Who.
    pub by: String,
    /// When (RFC 3339).
    pub at: String,
    /// Why.
    pub reason: String,
}

/// An identity as the ledger made it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct IdentityView {
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Applications a pipeline is scoped to.
    pub applications: Vec<String>,
    /// Approver groups.
    pub groups: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// The entry that created it.
    pub ledger_index: u64,
    /// When (RFC 3339).
    pub created_at: String,
    /// Set when it was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Ended>,
}

/// A token as the ledger issued it (never the secret).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct TokenView {
    /// Its public id.
    pub id: String,
    /// The identity it acts as.
    pub identity: String,
    /// Who issued it (the identity itself when it enrolled).
    pub issued_by: String,
    /// Whether the identity issued it for itself (only such tokens approve).
    pub self_issued: bool,
    /// The entry that issued it.
    pub ledger_index: u64,
    /// When (RFC 3339).
    pub issued_at: String,
    /// When it stops working, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Set when it was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Ended>,
    /// For a session a sign-in or a CI job's ID token started: the token's issuer, subject
    /// and `jti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated: Option<crate::oidc::Federated>,
}

/// A signing key of an identity.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct KeyInfo {
    /// Key id.
    pub keyid: String,
    /// The key's algorithm: `ed25519`, `ecdsa-p256`, `ecdsa-p384`, `rsa` or `rsa-pss`.
    #[serde(default)]
    pub algorithm: String,
    /// The entry that registered it.
    pub ledger_index: u64,
    /// The entry that revoked it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_index: Option<u64>,
}

/// One identity with its tokens and keys.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct IdentityDetail {
    /// The identity.
    pub identity: IdentityView,
    /// Its tokens, oldest first.
    pub tokens: Vec<TokenView>,
    /// Its signing keys.
    pub keys: Vec<KeyInfo>,
}

/// `GET /v1/tokens?identity=`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokensQuery {
    /// Only the tokens of this identity.
    pub identity: Option<String>,
}
