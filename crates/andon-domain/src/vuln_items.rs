//! Vulnerability items (docs/vulnerabilities.md): one per application and vulnerability
//! found running in production, tracked from detection to the fix deployed, each step a
//! ledger entry, with the deadline its severity gives.

use serde::{Deserialize, Serialize};

/// The states of an item, in order: `detected`, `fix_built`, `fix_deployed`, `closed`.
pub const STATES: [&str; 4] = ["detected", "fix_built", "fix_deployed", "closed"];

/// Why an item closed.
pub const CLOSE_REASONS: [&str; 5] = [
    "fixed",
    "waived",
    "vex_not_affected",
    "vex_fixed",
    "withdrawn",
];

/// One vulnerability of one application, from detection to its close.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnItem {
    /// `V-` and 16 hex digits.
    pub id: String,
    /// The application affected.
    pub application: String,
    /// Its team when the item opened.
    pub team: String,
    /// The vulnerability: its CVE id when an advisory names one, else the advisory's id.
    pub vulnerability: String,
    /// Every other id of it the advisories give (GHSA, PYSEC, OSV).
    pub aliases: Vec<String>,
    /// The imported advisories that found it.
    pub advisories: Vec<String>,
    /// `critical`, `high`, `medium`, `low` or `unknown`: the most severe advisory's word.
    pub severity: String,
    /// `P1` to `P4`, from the SLA policy at detection.
    pub priority: String,
    /// Where it stands: one of [`STATES`].
    pub state: String,
    /// When it was detected (Unix ms).
    pub detected_at: i64,
    /// When the fix is due (Unix ms), fixed at detection: a later policy never moves it.
    pub due_at: i64,
    /// The artifacts of the application running in production with it at detection
    /// (`sha256:<hex>`).
    pub artifacts: Vec<String>,
    /// The first artifact built without it (`sha256:<hex>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_artifact: Option<String>,
    /// The SBOM evidence that shows the fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_evidence: Option<String>,
    /// When the fix was built (Unix ms; the SBOM's recording, never before detection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_built_at: Option<i64>,
    /// When the fixed artifact was first seen running in production (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_deployed_at: Option<i64>,
    /// When it closed (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    /// Why: one of [`CLOSE_REASONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    /// What closed it: the waiver, the VEX evidence and its justification, or the
    /// artifacts now running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_detail: Option<String>,
    /// The `vuln.detected` entry.
    pub ledger_index: u64,
    /// Open and past its deadline at the time of the answer.
    #[serde(default)]
    pub overdue: bool,
    /// Its transitions, oldest first (in the answer for one item).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ItemEvent>,
}

impl VulnItem {
    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.state != "closed"
    }

    /// Every id it goes by: the vulnerability, its aliases, its advisories.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.vulnerability.as_str())
            .chain(self.aliases.iter().map(String::as_str))
            .chain(self.advisories.iter().map(String::as_str))
    }
}

/// One transition of an item, as its ledger entry recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemEvent {
    /// The entry.
    pub ledger_index: u64,
    /// The state entered.
    pub state: String,
    /// When (Unix ms).
    pub at: i64,
    /// What moved it, in a sentence.
    pub detail: String,
}

/// What `POST /v1/vulnerabilities/check` did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAnswer {
    /// Transitions recorded: (item, state entered).
    pub transitions: Vec<(String, String)>,
    /// `vulnerability_sla_overdue` alerts raised.
    pub overdue_alerts: usize,
}
