//! Alerts and the outbound notifications that carry them.

use crate::{Client, ClientError};

impl Client {
    /// Looks for overdue emergency reviews now (admin); how many alerts were raised.
    pub fn check_alerts(&self) -> Result<u64, ClientError> {
        let v: serde_json::Value = self.post("/v1/alerts/check", &[], b"")?;
        Ok(v["raised"].as_u64().unwrap_or(0))
    }

    /// The outbound notification delivery log, newest first (admin, auditor).
    pub fn notifications(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/notifications", &[])
    }

    /// Alerts matching `state`, `kind`, `application`, `severity`, `limit`, newest first.
    pub fn alerts_where(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<andon_domain::change::Alert>, ClientError> {
        self.get("/v1/alerts", query)
    }

    /// One alert, with what happened to it.
    pub fn alert(&self, id: &str) -> Result<andon_domain::change::Alert, ClientError> {
        self.get(&format!("/v1/alerts/{id}"), &[])
    }

    /// Acknowledges (`acknowledge`) or resolves (`resolve`) an alert.
    pub fn alert_action(
        &self,
        id: &str,
        verb: &str,
        note: Option<&str>,
    ) -> Result<andon_domain::change::Alert, ClientError> {
        self.post_json(
            &format!("/v1/alerts/{id}/{verb}"),
            &serde_json::json!({ "note": note }),
        )
    }

    /// Alerts, newest first.
    pub fn alerts(&self) -> Result<Vec<andon_domain::change::Alert>, ClientError> {
        self.get("/v1/alerts", &[])
    }
}
