//! Federated identity: the OpenID issuers and workload rules (admin), and exchanging a CI
//! job's ID token for a session token.

use andon_domain::api::IssuedToken;
use andon_domain::identity::ReasonInput;
use andon_domain::oidc::api::{ExchangeRequest, IssuerView, RuleView};
use andon_domain::oidc::{OidcIssuer, WorkloadRule};

use crate::{Client, ClientError};

impl Client {
    /// Exchanges a CI job's ID token, once, for a session token (no Andon token needed).
    pub fn exchange_id_token(&self, id_token: &str) -> Result<IssuedToken, ClientError> {
        self.exchange_id_token_with_key(id_token, None)
    }

    /// Exchanges a CI job's ID token, registering `public_key` (PEM) as the job's signing
    /// key for as long as the session lives.
    pub fn exchange_id_token_with_key(
        &self,
        id_token: &str,
        public_key: Option<&str>,
    ) -> Result<IssuedToken, ClientError> {
        self.post_json(
            "/v1/auth/oidc",
            &ExchangeRequest {
                id_token: id_token.into(),
                public_key: public_key.map(str::to_owned),
            },
        )
    }

    /// Signs a person in with an ID token from the organisation's identity provider (no
    /// Andon token needed): a session of their own.
    pub fn sign_in_sso(&self, id_token: &str) -> Result<IssuedToken, ClientError> {
        self.post_json(
            "/v1/auth/sso",
            &andon_domain::oidc::api::SignInRequest {
                id_token: id_token.into(),
                link: self.token().is_some(),
            },
        )
    }

    /// Sets a person rule under `name`.
    pub fn set_person_rule(
        &self,
        name: &str,
        rule: &andon_domain::oidc::PersonRule,
    ) -> Result<serde_json::Value, ClientError> {
        self.put_json(&format!("/v1/oidc/person-rules/{name}"), rule)
    }

    /// Trusts (or replaces) an OpenID issuer under `name`.
    pub fn set_oidc_issuer(
        &self,
        name: &str,
        issuer: &OidcIssuer,
    ) -> Result<IssuerView, ClientError> {
        self.put_json(&format!("/v1/oidc/issuers/{name}"), issuer)
    }

    /// The registered OpenID issuers.
    pub fn oidc_issuers(&self) -> Result<Vec<IssuerView>, ClientError> {
        self.get("/v1/oidc/issuers", &[])
    }

    /// Sets a workload rule under `name`.
    pub fn set_workload_rule(
        &self,
        name: &str,
        rule: &WorkloadRule,
    ) -> Result<RuleView, ClientError> {
        self.put_json(&format!("/v1/oidc/workload-rules/{name}"), rule)
    }

    /// The workload rules.
    pub fn workload_rules(&self) -> Result<Vec<RuleView>, ClientError> {
        self.get("/v1/oidc/workload-rules", &[])
    }

    /// Removes a workload rule.
    pub fn remove_workload_rule(
        &self,
        name: &str,
        reason: &str,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json(
            &format!("/v1/oidc/workload-rules/{name}/remove"),
            &ReasonInput {
                reason: reason.into(),
            },
        )
    }
}
