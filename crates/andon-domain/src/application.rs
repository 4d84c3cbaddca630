//! Applications over the API: creating one, listing them, and how many of an application's
//! registered keys must sign each envelope.

use serde::{Deserialize, Serialize};

use crate::api::Receipt;

/// Create an application.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewApplication {
    /// Name.
    pub name: String,
    /// Owning team.
    pub team: String,
}

/// An application as listed: its team, its creation and its signing policy.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApplicationView {
    /// Name.
    pub name: String,
    /// Owning team.
    pub team: String,
    /// Ledger index of its creation.
    pub ledger_index: u64,
    /// Distinct registered keys whose signatures must verify on each envelope.
    pub signing_threshold: u32,
    /// The `application.signing_policy` entry that set it; absent for the default of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_policy_index: Option<u64>,
}

/// How many of an application's registered keys must sign each envelope.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSigningPolicy {
    /// Distinct registered keys whose signatures must verify: 1 (the default) to 16.
    pub threshold: u32,
}

/// An application's signing policy as recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SigningPolicyView {
    /// The application.
    pub application: String,
    /// Distinct registered keys whose signatures must verify.
    pub threshold: u32,
    /// The `application.signing_policy` ledger entry.
    pub receipt: Receipt,
}
