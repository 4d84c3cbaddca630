//! Release gates: policy bundles, gate decisions, and waivers.

use andon_domain::api::{DecisionView, GateRequest, PublishedPolicy, WaiverRequest};

use crate::{Client, ClientError};

impl Client {
    /// Publishes a policy bundle (admin): validated by the server, ledgered.
    pub fn publish_policy(
        &self,
        bundle: &serde_json::Value,
    ) -> Result<PublishedPolicy, ClientError> {
        self.post_json("/v1/policies", bundle)
    }

    /// The published policies.
    pub fn list_policies(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/policies", &[])
    }

    /// A policy bundle's exact bytes, checked against its version (their SHA-256).
    pub fn policy_bundle(&self, version: &str) -> Result<Vec<u8>, ClientError> {
        let mut resp = self
            .get_request(&format!("/v1/policies/{version}"))
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if status >= 400 {
            return Err(ClientError::Api {
                status,
                code: "http_error".into(),
                message: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let got = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
        if got != version {
            return Err(ClientError::Unverified(format!(
                "policy bundle {version} hashes to {got}"
            )));
        }
        Ok(body)
    }

    /// Asks the gate whether an artifact may go to an environment.
    pub fn gate(&self, req: &GateRequest) -> Result<DecisionView, ClientError> {
        self.post_json("/v1/gate", req)
    }

    /// A recorded decision.
    pub fn decision(&self, id: &str) -> Result<DecisionView, ClientError> {
        self.get(&format!("/v1/decisions/{id}"), &[])
    }

    /// Requests a waiver.
    pub fn request_waiver(&self, req: &WaiverRequest) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/waivers", req)
    }

    /// Approves a waiver (someone other than its requester).
    pub fn approve_waiver(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.post(&format!("/v1/waivers/{id}/approve"), &[], b"")
    }

    /// Waivers, newest first.
    pub fn list_waivers(&self, app: Option<&str>) -> Result<Vec<serde_json::Value>, ClientError> {
        let q: Vec<(&str, String)> = app.map(|a| ("app", a.to_owned())).into_iter().collect();
        self.get("/v1/waivers", &q)
    }
}
