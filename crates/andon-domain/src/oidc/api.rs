//! Federated identity as the API shows it.

use serde::{Deserialize, Serialize};

use super::{OidcIssuer, WorkloadRule};

/// A registered OpenID Connect issuer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct IssuerView {
    /// Its name.
    pub name: String,
    /// The issuer as registered.
    pub config: OidcIssuer,
    /// The `oidc.issuer` entry.
    pub ledger_index: u64,
    /// Who registered it.
    pub registered_by: String,
}

/// A workload rule.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct RuleView {
    /// Its name.
    pub name: String,
    /// The rule.
    pub rule: WorkloadRule,
    /// The `oidc.workload_rule` entry.
    pub ledger_index: u64,
    /// Who set it.
    pub set_by: String,
}

/// `POST /v1/auth/sso`: a person's ID token from the organisation's identity provider (as
/// `andon login` obtains it by the device authorization grant), for a session of their own.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The ID token.
    pub id_token: String,
    /// Link the identity whose own token authorizes this request (`Authorization: Bearer`)
    /// to the token's subject, on a first sign-in: a person who enrolled before single
    /// sign-on keeps their identity.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub link: bool,
}

/// `POST /v1/auth/oidc`: a CI job's ID token, exchanged once for a short-lived session token.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRequest {
    /// The ID token (a JWT), as the CI platform issued it.
    pub id_token: String,
    /// A public key the job made for itself (PEM, any algorithm a pipeline key may have):
    /// registered to the pipeline for as long as the session lives, so the job signs its
    /// evidence without a stored key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}
