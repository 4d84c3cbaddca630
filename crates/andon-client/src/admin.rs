//! Administration: liveness, who a token belongs to, applications, identities and their
//! keys.

use andon_domain::api::{
    IssuedToken, KeyView, NewApplication, NewIdentity, NewKey, Receipt, WhoAmI,
};

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

    /// Creates an identity that belongs to approver groups (approvers).
    pub fn create_identity_in(
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
