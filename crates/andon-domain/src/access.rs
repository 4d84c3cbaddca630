//! Production access (docs/access.md): break-glass requests and grants, the standing
//! access register, and what environments report running.

use serde::{Deserialize, Serialize};

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    /// Look, do not touch.
    Read,
    /// Change things.
    Write,
}

impl AccessLevel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// Where a request stands. `Granted` says nothing of time: whether a grant is valid now is
/// [`AccessRequest::valid_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessStatus {
    /// Waiting for someone else's decision.
    Pending,
    /// Refused.
    Rejected,
    /// Approved: valid from `granted_at` until `expires_at` unless revoked.
    Granted,
}

impl AccessStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Rejected => "rejected",
            Self::Granted => "granted",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "rejected" => Some(Self::Rejected),
            "granted" => Some(Self::Granted),
            _ => None,
        }
    }
}

/// A break-glass access request and, once approved, its grant. Times are Unix ms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// `AR-<hex>`.
    pub id: String,
    /// Its ledger entry.
    #[serde(default)]
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Environment.
    pub environment: String,
    /// Whether the environment is production.
    pub production: bool,
    /// Read or write.
    pub level: AccessLevel,
    /// Why.
    pub reason: String,
    /// The ticket it is for.
    pub ticket: String,
    /// Who asked (and would hold the grant).
    pub requested_by: String,
    /// How long the grant lasts once approved.
    pub minutes: u32,
    /// When it was asked.
    pub requested_at: i64,
    /// Pending, rejected or granted.
    pub status: AccessStatus,
    /// Who approved or rejected it.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// When.
    #[serde(default)]
    pub decided_at: Option<i64>,
    /// The approver's or rejecter's comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// When the grant ends by itself.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Who revoked it early.
    #[serde(default)]
    pub revoked_by: Option<String>,
    /// When.
    #[serde(default)]
    pub revoked_at: Option<i64>,
    /// The ledger entry recording its expiry, once written.
    #[serde(default)]
    pub expired_index: Option<u64>,
}

impl AccessRequest {
    /// When the grant stopped or stops: revocation or expiry, whichever is first.
    pub fn ends_at(&self) -> Option<i64> {
        match (self.expires_at, self.revoked_at) {
            (Some(e), Some(r)) => Some(e.min(r)),
            (e, r) => e.or(r),
        }
    }

    /// Whether the grant is valid at `t`.
    pub fn valid_at(&self, t: i64) -> bool {
        self.status == AccessStatus::Granted
            && self.decided_at.is_some_and(|g| g <= t)
            && self.ends_at().is_none_or(|e| t < e)
    }

    /// Whether the grant was valid at some time in `[from, to]`.
    pub fn valid_during(&self, from: i64, to: i64) -> bool {
        self.status == AccessStatus::Granted
            && self.decided_at.is_some_and(|g| g <= to)
            && self.ends_at().is_none_or(|e| from < e)
    }

    /// The state a reader sees at `t`: `pending`, `rejected`, `active`, `expired` or
    /// `revoked`.
    pub fn state_at(&self, t: i64) -> &'static str {
        match self.status {
            AccessStatus::Pending => "pending",
            AccessStatus::Rejected => "rejected",
            AccessStatus::Granted if self.revoked_at.is_some_and(|r| r <= t) => "revoked",
            AccessStatus::Granted if self.expires_at.is_some_and(|e| e <= t) => "expired",
            AccessStatus::Granted => "active",
        }
    }
}

/// A persistent production account, and who owns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StandingAccount {
    /// Its name (`deploy-admin`, `root@db-1`).
    pub name: String,
    /// Its ledger entry.
    #[serde(default)]
    pub ledger_index: u64,
    /// Environment.
    pub environment: String,
    /// Whether the environment is production.
    pub production: bool,
    /// The application it reaches, when it is one application's.
    #[serde(default)]
    pub application: Option<String>,
    /// The people who can use it.
    pub owners: Vec<String>,
    /// When it was registered (Unix ms).
    pub registered_at: i64,
    /// When it was retired.
    #[serde(default)]
    pub retired_at: Option<i64>,
    /// Uses recorded (filled by reads).
    #[serde(default)]
    pub uses: u64,
}

/// A recorded use of a standing account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountUse {
    /// The account.
    pub account: String,
    /// When (Unix ms).
    pub at: i64,
    /// Who used it, when the reporter knows.
    #[serde(default)]
    pub actor: Option<String>,
    /// Who reported it (an environment, an access system).
    pub source: String,
    /// It arrived after the late window: the admin's reason and name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<crate::late::Late>,
}

/// One workload an environment reports running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Workload {
    /// Its name (a Kubernetes pod or deployment, a host's service).
    pub name: String,
    /// The image or artifact, `ref@sha256:<hex>`.
    pub image: String,
}

/// What an environment reported running.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Its ledger entry.
    #[serde(default)]
    pub ledger_index: u64,
    /// Environment.
    pub environment: String,
    /// When only one application's workloads are reported.
    #[serde(default)]
    pub application: Option<String>,
    /// What produced it (`kubernetes`, `hosts`, `list`).
    pub source: String,
    /// When it was taken (Unix ms).
    pub taken_at: i64,
    /// Who reported it.
    #[serde(default)]
    pub reported_by: String,
    /// The workloads.
    pub workloads: Vec<Workload>,
    /// It arrived after the late window: the admin's reason and name (null when on time).
    #[serde(default)]
    pub late: Option<crate::late::Late>,
}
