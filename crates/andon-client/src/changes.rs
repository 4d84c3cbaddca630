//! Change management: deployments and their state, incidents, change records, their
//! approvals and their requests for change (docs/changes.md).

use crate::{Client, ClientError};

impl Client {
    /// Records a deployment (linked to its allowing decision, or flagged as a gate bypass):
    /// `{"deployment", "alert", "receipt"}`.
    pub fn record_deployment(
        &self,
        req: &andon_domain::api::DeploymentRequest,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/deployments", req)
    }

    /// Reports that a deployment failed, was rolled back, or was restored.
    pub fn deployment_state(
        &self,
        id: &str,
        req: &andon_domain::api::DeploymentStateRequest,
    ) -> Result<andon_domain::change::Deployment, ClientError> {
        self.post_json(&format!("/v1/deployments/{id}/state"), req)
    }

    /// Reports an incident: `{"deployment", "linked_by"}`.
    pub fn report_incident(
        &self,
        req: &andon_domain::api::IncidentRequest,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/incidents", req)
    }

    /// Deployments, newest first.
    pub fn deployments(
        &self,
        app: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<andon_domain::change::Deployment>, ClientError> {
        let mut q = Vec::new();
        if let Some(a) = app {
            q.push(("application", a.to_owned()));
        }
        if let Some(e) = environment {
            q.push(("environment", e.to_owned()));
        }
        self.get("/v1/deployments", &q)
    }

    /// One deployment.
    pub fn deployment(&self, id: &str) -> Result<andon_domain::change::Deployment, ClientError> {
        self.get(&format!("/v1/deployments/{id}"), &[])
    }

    /// One change record with its approvals.
    pub fn change(&self, id: &str) -> Result<andon_domain::change::Change, ClientError> {
        self.get(&format!("/v1/changes/{id}"), &[])
    }

    /// Change records, newest first.
    pub fn changes(
        &self,
        app: Option<&str>,
    ) -> Result<Vec<andon_domain::change::Change>, ClientError> {
        let q: Vec<(&str, String)> = app
            .map(|a| ("application", a.to_owned()))
            .into_iter()
            .collect();
        self.get("/v1/changes", &q)
    }

    /// Approves (`approve`) or rejects a change, with a comment.
    pub fn decide_change(
        &self,
        id: &str,
        approve: bool,
        comment: &str,
    ) -> Result<andon_domain::change::Change, ClientError> {
        let verb = if approve { "approve" } else { "reject" };
        self.post_json(
            &format!("/v1/changes/{id}/{verb}"),
            &andon_domain::api::ApprovalRequest {
                comment: comment.to_owned(),
            },
        )
    }

    /// A JSON Schema the server publishes (`rfc`).
    pub fn schema(&self, name: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/schemas/{name}.json"), &[])
    }

    /// The request for change as JSON (`andon.rfc/v1`).
    pub fn rfc_json(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/changes/{id}/rfc.json"), &[])
    }

    /// The request for change as Markdown.
    pub fn rfc_markdown(&self, id: &str) -> Result<String, ClientError> {
        self.get_text(&format!("/v1/changes/{id}/rfc.md"), &[])
    }
}
