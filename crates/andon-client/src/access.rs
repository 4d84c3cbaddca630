//! Production access (docs/access.md): break-glass requests and grants, the standing access
//! register, Production Access Debt, and what environments run.

use crate::{Client, ClientError};

impl Client {
    /// Asks for break-glass access (docs/access.md).
    pub fn request_access(
        &self,
        req: &andon_domain::api::AccessRequestInput,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/access/requests", req)
    }

    /// Approves (`approve`), rejects (`reject`) or revokes (`revoke`) an access request.
    pub fn decide_access(
        &self,
        id: &str,
        verb: &str,
        comment: Option<&str>,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json(
            &format!("/v1/access/requests/{id}/{verb}"),
            &andon_domain::api::AccessDecisionInput {
                comment: comment.map(str::to_owned),
            },
        )
    }

    /// Access requests (`application`, `environment`, `state`, `limit`), newest first.
    pub fn access_requests(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/access/requests", query)
    }

    /// One access request.
    pub fn access_request(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/access/requests/{id}"), &[])
    }

    /// The grants valid now (`environment`, `application`).
    pub fn access_grants(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/access/grants", query)
    }

    /// Records due grant expiries now (admin): `{"expired": n}`.
    pub fn check_access(&self) -> Result<serde_json::Value, ClientError> {
        self.post("/v1/access/check", &[], b"")
    }

    /// Registers a persistent production account (admin).
    pub fn register_account(
        &self,
        req: &andon_domain::api::AccountInput,
    ) -> Result<andon_domain::access::StandingAccount, ClientError> {
        self.post_json("/v1/access/accounts", req)
    }

    /// Records a use of a persistent account.
    pub fn account_used(
        &self,
        name: &str,
        req: &andon_domain::api::AccountUseInput,
    ) -> Result<andon_domain::access::StandingAccount, ClientError> {
        self.post_json(&format!("/v1/access/accounts/{name}/uses"), req)
    }

    /// Retires a persistent account (admin).
    pub fn retire_account(
        &self,
        name: &str,
    ) -> Result<andon_domain::access::StandingAccount, ClientError> {
        self.post(&format!("/v1/access/accounts/{name}/retire"), &[], b"")
    }

    /// The standing access register.
    pub fn accounts(&self) -> Result<Vec<andon_domain::access::StandingAccount>, ClientError> {
        self.get("/v1/access/accounts", &[])
    }

    /// The people with standing access to production.
    pub fn standing_access(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/access/standing", &[])
    }

    /// Production Access Debt (`application` or `team`, `period`, `since`, `until`).
    pub fn access_debt(&self, query: &[(&str, String)]) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/access/debt", query)
    }

    /// Reports what runs in an environment; answers the drift found and the alerts raised.
    pub fn report_snapshot(
        &self,
        environment: &str,
        req: &andon_domain::api::SnapshotInput,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json(&format!("/v1/environments/{environment}/snapshots"), req)
    }

    /// The latest snapshots of an environment.
    pub fn snapshots(
        &self,
        environment: &str,
    ) -> Result<Vec<andon_domain::access::Snapshot>, ClientError> {
        self.get(&format!("/v1/environments/{environment}/snapshots"), &[])
    }
}
