//! Applications over the API: creating one, listing them, how many of an application's
//! registered keys must sign each envelope, which keyless signers it accepts, and how its
//! SBOMs' schemas are enforced.

use serde::{Deserialize, Serialize};

use crate::api::Receipt;
use crate::sigstore::KeylessPolicy;

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
    /// The keyless signers it accepts, when an `application.keyless_policy` entry set them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless_policy: Option<KeylessPolicy>,
    /// That entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless_policy_index: Option<u64>,
    /// What happens to its SBOMs that break their format's schema.
    #[serde(default)]
    pub schema_validation: SchemaValidation,
}

/// What intake does with an SBOM that breaks its format's official schema.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SchemaValidation {
    /// Refused (422 `schema_invalid`), naming the failing paths: the default.
    #[default]
    Strict,
    /// Recorded, with its schema errors in the summary for controls to read.
    Lenient,
}

impl SchemaValidation {
    /// `strict` or `lenient`.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaValidation::Strict => "strict",
            SchemaValidation::Lenient => "lenient",
        }
    }
}

/// How an application's evidence is checked at intake.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvidencePolicy {
    /// `strict` (refuse SBOMs that break their schema) or `lenient` (record them with
    /// their errors).
    pub schema_validation: SchemaValidation,
}

/// An application's evidence policy as recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvidencePolicyView {
    /// The application.
    pub application: String,
    /// What happens to SBOMs that break their schema.
    pub schema_validation: SchemaValidation,
    /// The `application.evidence_policy` ledger entry.
    pub receipt: Receipt,
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

/// An application's keyless signers as recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeylessPolicyView {
    /// The application.
    pub application: String,
    /// The policy now in force.
    pub policy: KeylessPolicy,
    /// The `application.keyless_policy` ledger entry.
    pub receipt: Receipt,
}

/// A Sigstore trusted root as registered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrustedRootView {
    /// The name it was registered under.
    pub name: String,
    /// SHA-256 of the document exactly as registered.
    pub sha256: String,
    /// The `sigstore.trusted_root` ledger entry.
    pub ledger_index: u64,
    /// Who registered it.
    pub registered_by: String,
    /// Fulcio certificate authorities, Rekor logs, CT logs and timestamp authorities in it.
    pub certificate_authorities: usize,
    /// Rekor logs.
    pub tlogs: usize,
    /// Certificate transparency logs.
    pub ctlogs: usize,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: usize,
}
