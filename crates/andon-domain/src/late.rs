//! Facts recorded late (docs/changes.md, "Time"): a fact that carries its own past time
//! (a deployment, a failure or restoration, a standing account's use, a runtime snapshot)
//! is accepted within the server's late window; an older one only with an admin's reason,
//! which its ledger entry and its rows keep.

use serde::{Deserialize, Serialize};

/// Why an admin allowed a fact older than the late window, and who did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Late {
    /// The admin's reason, as given.
    pub reason: String,
    /// The admin who allowed it.
    pub allowed_by: String,
}
