//! Administration: liveness, who a token belongs to, applications and their signing
//! policies (keys and keyless), Sigstore trusted roots, identities and their keys.

use andon_domain::api::{
    EvidencePolicyView, IssuedToken, KeyView, KeylessPolicyView, NewApplication, NewEvidencePolicy,
    NewIdentity, NewKey, NewSigningPolicy, Receipt, SchemaValidation, SigningPolicyView,
    TrustedRootView, WhoAmI,
};
use andon_domain::sigstore::KeylessPolicy;

use andon_domain::identity::{EnrollRequest, IdentityDetail, IdentityView, ReasonInput, TokenView};

use crate::{Client, ClientError};

impl Client {
    /// Liveness: the server answers `GET /livez` (no token needed).
    pub fn live(&self) -> Result<(), ClientError> {
        let resp = self
            .agent
            .get(&self.url("/livez"))
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        match resp.status().as_u16() {
            200 => Ok(()),
            status => Err(ClientError::Api {
                status,
                code: "not_live".into(),
                message: "the server is not live".into(),
            }),
        }
    }

    /// Who the token belongs to.
    pub fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get("/v1/whoami", &[])
    }

    /// Creates an application.
    pub fn create_application(&self, name: &str, team: &str) -> Result<Receipt, ClientError> {
        self.post_json(
            "/v1/applications",
            &NewApplication {
                name: name.into(),
                team: team.into(),
            },
        )
    }

    /// Sets how many of an application's registered keys must sign each envelope.
    pub fn set_signing_policy(
        &self,
        application: &str,
        threshold: u32,
    ) -> Result<SigningPolicyView, ClientError> {
        self.put_json(
            &format!("/v1/applications/{application}/signing-policy"),
            &NewSigningPolicy { threshold },
        )
    }

    /// Sets whether an application's SBOMs that break their schema are refused or recorded.
    pub fn set_evidence_policy(
        &self,
        application: &str,
        schema_validation: SchemaValidation,
    ) -> Result<EvidencePolicyView, ClientError> {
        self.put_json(
            &format!("/v1/applications/{application}/evidence-policy"),
            &NewEvidencePolicy { schema_validation },
        )
    }

    /// Sets which keyless signers may sign an application's evidence (the whole policy).
    pub fn set_keyless_policy(
        &self,
        application: &str,
        policy: &KeylessPolicy,
    ) -> Result<KeylessPolicyView, ClientError> {
        self.put_json(
            &format!("/v1/applications/{application}/keyless-policy"),
            policy,
        )
    }

    /// Registers (or replaces) a Sigstore trusted root under `name`; `document` is the
    /// `trusted_root.json` as it is.
    pub fn set_trusted_root(
        &self,
        name: &str,
        document: &[u8],
    ) -> Result<TrustedRootView, ClientError> {
        self.put_raw(&format!("/v1/sigstore/trusted-roots/{name}"), document)
    }

    /// The registered Sigstore trusted roots.
    pub fn trusted_roots(&self) -> Result<Vec<TrustedRootView>, ClientError> {
        self.get("/v1/sigstore/trusted-roots", &[])
    }

    /// Lists applications.
    pub fn list_applications(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/applications", &[])
    }

    /// Creates an identity; the answer carries its first token.
    pub fn create_identity(
        &self,
        name: &str,
        role: &str,
        applications: &[String],
    ) -> Result<IssuedToken, ClientError> {
        self.create_identity_in(name, role, applications, &[])
    }

    /// The webhook endpoints and their secrets (admins).
    pub fn webhooks(&self) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/admin/webhooks", &[])
    }

    /// Creates an identity that belongs to approver groups (approvers). A person's identity
    /// answers a one-time enrollment code, which this redeems at once, as the person would:
    /// the token returned is one the identity issued for itself.
    pub fn create_identity_in(
        &self,
        name: &str,
        role: &str,
        applications: &[String],
        groups: &[String],
    ) -> Result<IssuedToken, ClientError> {
        let created = self.create_identity_only(name, role, applications, groups)?;
        match &created.enrollment {
            Some(e) if created.token.is_empty() => self.enroll(&e.code),
            _ => Ok(created),
        }
    }

    /// Creates an identity and answers exactly what the server did: a pipeline's token, or
    /// a person's enrollment code (not redeemed).
    pub fn create_identity_only(
        &self,
        name: &str,
        role: &str,
        applications: &[String],
        groups: &[String],
    ) -> Result<IssuedToken, ClientError> {
        self.post_json(
            "/v1/identities",
            &NewIdentity {
                name: name.into(),
                role: role.into(),
                applications: applications.to_vec(),
                groups: groups.to_vec(),
            },
        )
    }

    /// Redeems a one-time enrollment code for a token of the identity's own (no token
    /// needed).
    pub fn enroll(&self, code: &str) -> Result<IssuedToken, ClientError> {
        self.post_json("/v1/enroll", &EnrollRequest { code: code.into() })
    }

    /// A new enrollment code for an identity (admin).
    pub fn create_enrollment(&self, identity: &str) -> Result<IssuedToken, ClientError> {
        self.post(&format!("/v1/identities/{identity}/enrollments"), &[], b"")
    }

    /// A token for an identity, issued by the calling admin.
    pub fn issue_token(&self, identity: &str) -> Result<IssuedToken, ClientError> {
        self.post(&format!("/v1/identities/{identity}/tokens"), &[], b"")
    }

    /// Every identity, as the ledger made them.
    pub fn list_identities(&self) -> Result<Vec<IdentityView>, ClientError> {
        self.get("/v1/identities", &[])
    }

    /// One identity with its tokens and keys.
    pub fn show_identity(&self, name: &str) -> Result<IdentityDetail, ClientError> {
        self.get(&format!("/v1/identities/{name}"), &[])
    }

    /// Disables an identity, saying why.
    pub fn disable_identity(&self, name: &str, reason: &str) -> Result<IdentityView, ClientError> {
        self.post_json(
            &format!("/v1/identities/{name}/disable"),
            &ReasonInput {
                reason: reason.into(),
            },
        )
    }

    /// Tokens (never the secrets), optionally of one identity.
    pub fn list_tokens(&self, identity: Option<&str>) -> Result<Vec<TokenView>, ClientError> {
        match identity {
            Some(i) => self.get("/v1/tokens", &[("identity", i.to_owned())]),
            None => self.get("/v1/tokens", &[]),
        }
    }

    /// Revokes a token by id, saying why.
    pub fn revoke_token(&self, id: &str, reason: &str) -> Result<TokenView, ClientError> {
        self.post_json(
            &format!("/v1/tokens/{id}/revoke"),
            &ReasonInput {
                reason: reason.into(),
            },
        )
    }

    /// Registers a public key (PEM or base64) to an identity.
    pub fn register_key(&self, identity: &str, public_key: &str) -> Result<KeyView, ClientError> {
        self.post_json(
            &format!("/v1/identities/{identity}/keys"),
            &NewKey {
                public_key: public_key.into(),
            },
        )
    }

    /// Revokes a key.
    pub fn revoke_key(&self, keyid: &str) -> Result<Receipt, ClientError> {
        self.post(&format!("/v1/keys/{keyid}/revoke"), &[], b"")
    }
}
