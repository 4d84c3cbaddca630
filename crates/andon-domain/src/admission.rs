//! Admission (docs/admission.md): the clusters whose Kubernetes API servers ask Andon
//! before a workload starts, and what Andon refused or would have refused.

use serde::{Deserialize, Serialize};

/// `audit` or `enforce`.
pub const MODES: [&str; 2] = ["audit", "enforce"];

/// `PUT /v1/admission/clusters/{name}`: a cluster registered or changed.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
pub struct ClusterInput {
    /// The environment the cluster runs: the gate decisions for it are those admitted.
    pub environment: String,
    /// `audit` (admit, and record what would be refused) or `enforce` (refuse).
    pub mode: String,
    /// How old an allowing decision may be, in days (30 when not given).
    #[serde(default)]
    pub max_decision_age_days: Option<u32>,
    /// Issue a new token (the first registration always issues one).
    #[serde(default)]
    pub new_token: bool,
}

/// A registered cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Cluster {
    /// Its name, in the webhook's address: `/k8s/admission/v1/{name}`.
    pub name: String,
    /// The environment it runs.
    pub environment: String,
    /// `audit` or `enforce`.
    pub mode: String,
    /// How old an allowing decision may be, in days.
    pub max_decision_age_days: u32,
    /// The `admission.cluster` entry that set it last.
    pub ledger_index: u64,
    /// The token the API server sends (`Authorization: Bearer`), shown once when issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// One container image judged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct ImageVerdict {
    /// The container's name.
    pub container: String,
    /// The image as the object gives it.
    pub image: String,
    /// Its digest (`sha256:<hex>`), when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The control that refused it: `image_pinned`, `release_gate`, `decision_expired`, or
    /// a control of the gate decision that denied it.
    pub control: String,
    /// Why, in a sentence.
    pub reason: String,
    /// The gate decision read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

/// A workload refused (or, in audit mode, that would have been).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct AdmissionEvent {
    /// Its `admission.refused` entry.
    #[serde(default)]
    pub ledger_index: u64,
    /// The cluster.
    pub cluster: String,
    /// Refused (enforce), or admitted with a warning (audit).
    pub enforced: bool,
    /// The review's uid.
    pub uid: String,
    /// `CREATE` or `UPDATE`.
    pub operation: String,
    /// The object's kind (`Pod`, `Deployment`, ...).
    pub kind: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name (empty for a pod named by its generator).
    pub name: String,
    /// Who asked the API server.
    pub user: String,
    /// When (Unix ms).
    pub at: i64,
    /// The images refused.
    pub images: Vec<ImageVerdict>,
    /// For a break-glass override: the access grant named by the object's
    /// `andon.dev/break-glass` annotation, its holder and its approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantUsed>,
}

/// The break-glass grant that admitted a workload the gate would refuse.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct GrantUsed {
    /// `AR-…`.
    pub id: String,
    /// Who holds it.
    pub holder: String,
    /// Who approved it.
    pub approved_by: String,
    /// Its ticket.
    pub ticket: String,
}

/// The annotation naming a break-glass grant, on the object or its pod template.
pub const BREAK_GLASS_ANNOTATION: &str = "andon.dev/break-glass";

/// `GET /v1/admission/events`: which refusals.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct EventsQuery {
    /// Only this cluster's.
    pub cluster: Option<String>,
}
