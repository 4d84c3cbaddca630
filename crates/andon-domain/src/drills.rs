//! Game days (docs/drills.md): an exercise that rehearses a change under pressure ("rebuild
//! the checkout image for CVE-X"), the pipeline runs, gate decisions and deployments that
//! happened during it, its time to production, and its signed retrospective.

use serde::{Deserialize, Serialize};

/// The risk levels an application can be given, lowest first.
pub const RISKS: [&str; 4] = ["low", "medium", "high", "critical"];

/// The payload type of a signed retrospective (a DSSE envelope, signed like gate decisions).
pub const RETROSPECTIVE_PAYLOAD_TYPE: &str = "application/vnd.andon.drill-retrospective+json";

/// `POST /v1/drills`: a drill begins.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillStart {
    /// The application whose delivery is rehearsed.
    pub application: String,
    /// What happens in the exercise ("a critical CVE in the base image, Tuesday 14:00").
    pub scenario: String,
    /// The change it rehearses ("rebuild the checkout image for CVE-2022-40897").
    pub rehearses: String,
    /// The vulnerability the exercise pretends to fix, if any.
    #[serde(default)]
    pub vulnerability: Option<String>,
    /// Who takes part.
    #[serde(default)]
    pub participants: Vec<String>,
}

/// `POST /v1/drills/{id}/finish`: the drill ends.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillFinish {
    /// Stopped before its goal (the default: completed).
    #[serde(default)]
    pub aborted: bool,
}

/// One action a retrospective assigns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillAction {
    /// What is to be done.
    pub what: String,
    /// Who owns it.
    pub owner: String,
    /// By when (RFC 3339 date or time), if said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
}

/// `POST /v1/drills/{id}/retrospective`: what the team learned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retrospective {
    /// What went well.
    #[serde(default)]
    pub went_well: Vec<String>,
    /// What went badly.
    #[serde(default)]
    pub went_badly: Vec<String>,
    /// The actions, each with an owner.
    #[serde(default)]
    pub actions: Vec<DrillAction>,
}

/// How long each step of the path to production took, from the drill's start (ms).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Segments {
    /// To the first evidence of the application recorded during the drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_evidence_ms: Option<i64>,
    /// To the first production gate decision that allowed a release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowing_gate_ms: Option<i64>,
    /// To the first production deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_ms: Option<i64>,
}

/// What happened during a drill, found when it finished.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct DrillLinks {
    /// The pipeline runs that sent evidence.
    pub runs: Vec<String>,
    /// The gate decisions made.
    pub decisions: Vec<String>,
    /// The deployments recorded (`D-…`).
    pub deployments: Vec<String>,
    /// From the start to each step.
    pub segments: Segments,
}

/// The signed retrospective as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct RecordedRetrospective {
    /// What the team said.
    #[serde(flatten)]
    pub retrospective: Retrospective,
    /// Who recorded it.
    pub recorded_by: String,
    /// When (Unix ms).
    pub recorded_at: i64,
    /// SHA-256 of the DSSE envelope that signs it.
    pub document: String,
    /// Its `drill.retrospective` entry.
    pub ledger_index: u64,
}

/// A drill.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Drill {
    /// `DR-` and 16 hex digits.
    pub id: String,
    /// Its `drill.started` entry.
    pub ledger_index: u64,
    /// The application.
    pub application: String,
    /// What happens in it.
    pub scenario: String,
    /// The change it rehearses.
    pub rehearses: String,
    /// The vulnerability it pretends to fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// Who takes part.
    pub participants: Vec<String>,
    /// Who started it.
    pub started_by: String,
    /// When (Unix ms).
    pub started_at: i64,
    /// When it finished (Unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// `completed` or `aborted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// From the start to the first production deployment during it (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_production_ms: Option<i64>,
    /// What happened during it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<DrillLinks>,
    /// Its `drill.finished` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_index: Option<u64>,
    /// The retrospective.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrospective: Option<RecordedRetrospective>,
    /// The signed retrospective (a DSSE envelope, JSON), on the single read only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrospective_envelope: Option<String>,
}

/// `GET /v1/drills`: which.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct DrillQuery {
    /// Only this application's.
    pub application: Option<String>,
}

/// `PUT /v1/applications/{name}/risk`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskInput {
    /// `low`, `medium`, `high` or `critical`.
    pub risk: String,
}
