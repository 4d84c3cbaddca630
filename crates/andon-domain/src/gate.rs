//! Release-gate decisions: per-control verdicts, the signed decision document, waivers.

use serde::{Deserialize, Serialize};

/// The payload type of a signed decision envelope.
pub const DECISION_PAYLOAD_TYPE: &str = "application/vnd.andon.decision+json";
/// The version of the decision document.
pub const DECISION_VERSION: &str = "andon.decision/v1";

/// A control's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The control holds.
    Pass,
    /// The control does not hold.
    Fail,
    /// The evidence it needs is not there: a deny, never a pass.
    Missing,
    /// It failed or was missing, and a valid waiver covers it.
    Waived,
    /// It does not apply to this target.
    NotApplicable,
    /// It could not be evaluated: a deny (fail closed).
    Error,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 6] = [
        Verdict::Pass,
        Verdict::Fail,
        Verdict::Missing,
        Verdict::Waived,
        Verdict::NotApplicable,
        Verdict::Error,
    ];

    /// Whether the verdict lets the release through.
    pub fn allows(self) -> bool {
        matches!(
            self,
            Verdict::Pass | Verdict::Waived | Verdict::NotApplicable
        )
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Missing => "missing",
            Verdict::Waived => "waived",
            Verdict::NotApplicable => "not_applicable",
            Verdict::Error => "error",
        }
    }
}

/// One control's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    /// Control id.
    pub id: String,
    /// Control title.
    pub title: String,
    /// Verdict.
    pub verdict: Verdict,
    /// Why, in a sentence.
    pub reason: String,
    /// The evidence ids behind the verdict.
    pub evidence: Vec<String>,
    /// The waiver that covered a failure, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<String>,
}

/// The policy a decision used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// Its name.
    pub name: String,
    /// Its version: SHA-256 of the bundle.
    pub version: String,
}

/// A gate decision as signed by the server: everything needed to replay it. `I` is how the
/// input is held: a JSON value (read back, replayed), or for the server signing it, any
/// form that serializes as that value does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionDoc<I = serde_json::Value> {
    /// `andon.decision/v1`.
    pub version: String,
    /// Application.
    pub application: String,
    /// Target environment.
    pub environment: String,
    /// The artifact, `name@sha256:<hex>`.
    pub artifact: String,
    /// The policy used.
    pub policy: PolicyRef,
    /// Allow or deny.
    pub allow: bool,
    /// Per control.
    pub controls: Vec<ControlResult>,
    /// The whole gate input the policy saw.
    pub input: I,
    /// When, RFC 3339.
    pub decided_at: String,
    /// Who asked.
    pub requested_by: String,
}

impl<I> DecisionDoc<I> {
    /// The decision without its input (null): what an answer carries, the input staying in
    /// the signed, stored decision.
    pub fn without_input(self) -> DecisionDoc {
        DecisionDoc {
            version: self.version,
            application: self.application,
            environment: self.environment,
            artifact: self.artifact,
            policy: self.policy,
            allow: self.allow,
            controls: self.controls,
            input: serde_json::Value::Null,
            decided_at: self.decided_at,
            requested_by: self.requested_by,
        }
    }
}
