//! Security telemetry: sending events, reading them back, and the rules in force.

use crate::{Client, ClientError};

impl Client {
    /// Sends a batch of security telemetry events (a JSON array, or one event per line);
    /// answers the batch's ledger index, digest and the alerts its rules raised.
    pub fn send_telemetry(&self, body: &[u8]) -> Result<serde_json::Value, ClientError> {
        self.post("/v1/telemetry", &[], body)
    }

    /// Stored telemetry events matching the query (`application`, `kind`, `source`,
    /// `batch`, `since`, `until`, `limit`).
    pub fn telemetry(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/telemetry", query)
    }

    /// The telemetry rules in force.
    pub fn telemetry_rules(&self) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/telemetry/rules", &[])
    }
}
