//! Deployments and change records (docs/changes.md). Times are Unix milliseconds.

use serde::{Deserialize, Serialize};

/// The ITIL class of a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeClass {
    /// Pre-approved: flows when the gate allows it.
    Standard,
    /// Needs the change authority's approval before deployment.
    Normal,
    /// Deployed first under an emergency flag; reviewed afterwards, by a deadline.
    Emergency,
}

impl ChangeClass {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::Normal => "normal",
            Self::Emergency => "emergency",
        }
    }
}

/// Where a change stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Waiting for approvals (normal changes).
    Pending,
    /// Approved, or pre-approved (standard), or under the emergency flag: may deploy.
    Approved,
    /// Rejected by an approver: it does not deploy.
    Rejected,
    /// Deployed.
    Deployed,
    /// Deployed without an allowing gate decision: a gate bypass, whose alert names it.
    Bypassed,
    /// Replaced by a change a later gate of the same artifact opened, because it asked for
    /// more (database migrations, an emergency): it does not deploy.
    Superseded,
}

impl ChangeStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Deployed => "deployed",
            Self::Bypassed => "bypassed",
            Self::Superseded => "superseded",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "deployed" => Self::Deployed,
            "bypassed" => Self::Bypassed,
            "superseded" => Self::Superseded,
            _ => return None,
        })
    }
}

/// What the change rules decided, and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The class (absent only before classification).
    pub class: Option<ChangeClass>,
    /// Approvals required before deployment (normal changes).
    #[serde(default)]
    pub approvals: u32,
    /// The group approvers must belong to, if a rule names one.
    #[serde(default)]
    pub approver_group: Option<String>,
    /// The rules' reasons, with the figures behind them.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The change type's delivery history the rules saw.
    #[serde(default)]
    pub history: serde_json::Value,
    /// Hours until an emergency change's review is due.
    #[serde(default)]
    pub review_hours: Option<f64>,
}

/// A script a change runs, as the pipeline attests it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Script {
    /// Its name or path.
    pub name: String,
    /// Its dry-run output, if the pipeline ran one.
    #[serde(default)]
    pub dry_run: Option<String>,
}

/// The fields of a request for change the pipeline fills at the gate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangeFields {
    /// The change type (`application` when not given): what standard lists name.
    #[serde(default)]
    pub change_type: Option<String>,
    /// Risk, in the team's words.
    #[serde(default)]
    pub risk: Option<String>,
    /// How to roll back.
    #[serde(default)]
    pub rollback_plan: Option<String>,
    /// Scripts to run, with their dry-run output.
    #[serde(default)]
    pub scripts: Vec<Script>,
    /// Paths the change touches (files changed), when the pipeline knows them.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Planned start and end (RFC 3339), for the change calendar.
    #[serde(default)]
    pub planned_start: Option<String>,
    /// Planned end.
    #[serde(default)]
    pub planned_end: Option<String>,
}

/// An approval or rejection of a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// The change.
    pub change: String,
    /// Who.
    pub approver: String,
    /// `true`: approve; `false`: reject.
    pub approve: bool,
    /// Their comment.
    pub comment: String,
    /// When (Unix ms).
    #[serde(default)]
    pub at: i64,
    /// Its ledger entry.
    #[serde(default)]
    pub ledger_index: u64,
    /// Where the approver's authority came from, as the ledger says: filled when a change is
    /// shown (`GET /v1/changes/{id}`, the RFC), never recorded with the approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ApproverProvenance>,
}

/// Who stands behind an approver (docs/identities.md): the admin who created the identity,
/// the token that decided and the admin whose one-time enrollment code issued it, read
/// from the ledger's entries. An admin can create an identity, keep its enrollment code and
/// enroll as it; that admin is named here, and `warnings` say so when the same admin also
/// requested, wrote, deployed or decided on the change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApproverProvenance {
    /// Who created the approver's identity (an admin; the server for the first admin).
    pub identity_created_by: Option<String>,
    /// When (RFC 3339).
    pub identity_created_at: Option<String>,
    /// The `identity.created` entry.
    pub identity_created_index: Option<u64>,
    /// The token the approval was made with (its public id), as its entry records it.
    pub token: Option<String>,
    /// Who issued that token: the approver itself when it redeemed an enrollment code.
    pub token_issued_by: Option<String>,
    /// The `token.issued` entry.
    pub token_issued_index: Option<u64>,
    /// The admin who handed out the enrollment code that token was issued with.
    pub enrolled_by: Option<String>,
    /// When the code was handed out (RFC 3339).
    pub enrollment_created_at: Option<String>,
    /// The `enrollment.created` entry.
    pub enrollment_index: Option<u64>,
    /// Each admin behind the approver who is also involved in the change, in words: "identity
    /// created and enrolled by admin bob, who also requested this change".
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A change record: one per production deployment, whatever its class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// `CHG-<hex>`.
    pub id: String,
    /// The ledger entry that created it.
    #[serde(default)]
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Target environment.
    pub environment: String,
    /// The artifact's name.
    pub artifact_name: String,
    /// `sha256:<hex>`.
    pub artifact_digest: String,
    /// Its change type (`application` unless the pipeline said otherwise).
    pub change_type: String,
    /// Its class.
    pub class: ChangeClass,
    /// Where it stands.
    pub status: ChangeStatus,
    /// The identity whose gate request opened it.
    pub requested_by: String,
    /// The emergency reason, for emergency changes.
    #[serde(default)]
    pub emergency_reason: Option<String>,
    /// When its review is due (emergency changes).
    #[serde(default)]
    pub review_due_at: Option<i64>,
    /// When it was reviewed (emergency changes: the first approval after deployment).
    #[serde(default)]
    pub reviewed_at: Option<i64>,
    /// The rules' verdict and reasons.
    pub classification: Classification,
    /// What the pipeline told about it.
    pub fields: ChangeFields,
    /// When it was opened (Unix ms).
    #[serde(default)]
    pub created_at: i64,
    /// Its approvals and rejections, in order (filled on read).
    #[serde(default)]
    pub approvals: Vec<Approval>,
}

impl Change {
    /// The distinct approvers who approved it.
    pub fn approved_by(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .approvals
            .iter()
            .filter(|a| a.approve)
            .map(|a| a.approver.as_str())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// What happened to a deployment after it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Running as deployed.
    Deployed,
    /// It failed in service (an incident, a failed rollout).
    Failed,
    /// It was rolled back.
    RolledBack,
    /// Service was restored after a failure.
    Restored,
}

impl DeploymentState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
            Self::Restored => "restored",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "deployed" => Self::Deployed,
            "failed" => Self::Failed,
            "rolled_back" => Self::RolledBack,
            "restored" => Self::Restored,
            _ => return None,
        })
    }
}

/// A deployment of an artifact to an environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// `D-<hex>`.
    pub id: String,
    /// The ledger entry that recorded it.
    #[serde(default)]
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Environment.
    pub environment: String,
    /// Whether the environment is production.
    pub production: bool,
    /// The artifact's name.
    pub artifact_name: String,
    /// `sha256:<hex>`.
    pub artifact_digest: String,
    /// The allowing decision, if any.
    #[serde(default)]
    pub decision: Option<String>,
    /// The change record (production).
    #[serde(default)]
    pub change: Option<String>,
    /// The pipeline run.
    #[serde(default)]
    pub run: Option<String>,
    /// Who recorded it.
    pub recorded_by: String,
    /// Deployed without an allowing decision for this artifact and environment.
    pub bypass: bool,
    /// The source commit its provenance names, if known.
    #[serde(default)]
    pub source_commit: Option<String>,
    /// When it was deployed (Unix ms).
    pub deployed_at: i64,
    /// Its latest state.
    pub state: DeploymentState,
    /// When it failed (Unix ms).
    #[serde(default)]
    pub failed_at: Option<i64>,
    /// When service was restored (Unix ms).
    #[serde(default)]
    pub restored_at: Option<i64>,
    /// When telemetry made it suspect (a 5xx spike right after it, docs/telemetry.md).
    #[serde(default)]
    pub suspect_at: Option<i64>,
    /// Its record arrived after the late window: the admin's reason and name (null when
    /// it was recorded on time).
    #[serde(default)]
    pub late: Option<crate::late::Late>,
    /// The latest of its failures, rollbacks or restorations that arrived after the late
    /// window, with the admin's reason (null when none did).
    #[serde(default)]
    pub state_late: Option<crate::late::Late>,
}

/// A deployment's state changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeploymentEvent {
    /// The deployment.
    pub deployment: String,
    /// Its new state.
    pub state: DeploymentState,
    /// When it happened (Unix ms), as reported.
    pub at: i64,
    /// A note (incident id, what failed).
    #[serde(default)]
    pub note: Option<String>,
    /// Who reported it.
    #[serde(default)]
    pub actor: String,
    /// It arrived after the late window: the admin's reason and name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<crate::late::Late>,
}

/// Something a person should look at. Every source raises the same model: gate bypasses,
/// overdue emergency reviews, telemetry rules, drift, access debt.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `A-<hex>`.
    pub id: String,
    /// Its ledger entry.
    #[serde(default)]
    pub ledger_index: u64,
    /// `gate_bypass`, `emergency_review_overdue`, ...
    pub kind: String,
    /// `high`, `medium`, `low`.
    pub severity: String,
    /// Application concerned.
    #[serde(default)]
    pub application: Option<String>,
    /// Environment concerned.
    #[serde(default)]
    pub environment: Option<String>,
    /// What it is about (a deployment or change id).
    pub subject: String,
    /// What happened, in a sentence.
    pub message: String,
    /// When it was raised, which is when it was first seen (Unix ms).
    #[serde(default)]
    pub created_at: i64,
    /// Where the evidence is: API paths (a deployment, a snapshot, a telemetry batch, a
    /// grant).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// `open`, `acknowledged` or `resolved` (filled by reads).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// When it was last seen again, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<i64>,
    /// Who acknowledged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<i64>,
    /// Who resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<i64>,
}

/// Something that happened to an alert after it was raised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertUpdate {
    /// The alert.
    pub alert: String,
    /// `acknowledged`, `resolved` or `seen`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// When (Unix ms).
    pub at: i64,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
