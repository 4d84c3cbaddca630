//! Vulnerabilities: the blast radius of a package, an advisory or a CVE
//! (`GET /v1/vulnerabilities/impact`, docs/vulnerabilities.md).

use serde::{Deserialize, Serialize};

use crate::components::ComponentRow;

/// What the impact query answers: where the package runs now, and where else it was built in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    /// What was asked, as read: a purl, or an advisory id.
    pub query: String,
    /// The packages matched (purl without version), one per affected package.
    pub packages: Vec<String>,
    /// For a query by id: the imported advisories it names (the record, its aliases' records).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<AdvisoryBrief>,
    /// Artifacts running now whose SBOM lists an affected version: one row per artifact and
    /// environment.
    pub affected: Vec<Affected>,
    /// Artifacts whose SBOM lists an affected version but that run nowhere Andon knows of.
    pub built: Vec<Affected>,
    /// Components found whose version Andon could not judge, and why: never to be read as
    /// unaffected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unevaluated: Vec<Unevaluated>,
    /// The environments whose running artifacts were checked, and how each is known.
    pub environments: Vec<EnvironmentSource>,
    /// Artifacts running now that no recorded SBOM describes: blind spots, never to be read
    /// as unaffected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running_without_sbom: Vec<RunningArtifact>,
    /// For a query by id: artifacts running now whose newest attested vulnerability scan
    /// (Trivy, Grype, any SARIF or CycloneDX report) reports it, by its id or an alias.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reported: Vec<Reported>,
}

/// An artifact running now that a scan reports the vulnerability in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reported {
    /// The application that attested the scan.
    pub application: String,
    /// Its team.
    pub team: String,
    /// Where it runs.
    pub environment: String,
    /// The artifact, `sha256:<hex>`.
    pub artifact: String,
    /// The workloads running it, when a snapshot names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
    /// The scan's evidence id.
    pub evidence: String,
    /// The id the scan gives it.
    pub id: String,
    /// The scanner's severity.
    pub severity: String,
    /// The component, as the scan names it (a purl or a package name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Its installed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The first version without it, when the scan says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
}

/// An artifact running in an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningArtifact {
    /// The environment.
    pub environment: String,
    /// The artifact, `sha256:<hex>`.
    pub artifact: String,
    /// The workloads running it, when a snapshot names them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
}

/// An artifact with an affected component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The application it was recorded for.
    pub application: String,
    /// That application's team.
    pub team: String,
    /// Where it runs (absent for an artifact that runs nowhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The artifact, `sha256:<hex>`.
    pub artifact: String,
    /// The workloads running it, as the latest snapshot names them (empty when only a
    /// deployment says it runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<String>,
    /// The affected components it contains.
    pub components: Vec<AffectedComponent>,
    /// The SBOM evidence that lists them.
    pub evidence: String,
}

/// One affected component of an artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AffectedComponent {
    /// The component as its SBOM gives it.
    #[serde(flatten)]
    pub component: ComponentRow,
    /// Why it matched: `= 2.30.0` for a purl with a version, `any version` without one, or
    /// the advisory's range.
    pub matched: String,
    /// The first fixed version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The advisory that names it, for a query by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
}

/// A component whose version could not be judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unevaluated {
    /// The application.
    pub application: String,
    /// The artifact, `sha256:<hex>`.
    pub artifact: String,
    /// The component.
    #[serde(flatten)]
    pub component: ComponentRow,
    /// Why not.
    pub reason: String,
}

/// An imported advisory, briefly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryBrief {
    /// Its id.
    pub id: String,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    pub severity: String,
    /// One line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Its `modified` time.
    pub modified: String,
    /// When it was withdrawn: a withdrawn advisory affects nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// The entry that imported this version.
    pub ledger_index: u64,
}

/// How Andon knows what runs in an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentSource {
    /// The environment.
    pub environment: String,
    /// `snapshot` (its latest runtime snapshots) or `deployments` (no snapshot: its latest
    /// recorded deployment of each application).
    pub source: String,
    /// The ledger index of the newest snapshot read, for a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<u64>,
}

/// What `POST /v1/advisories` answers: each record's fate, in the order sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportAnswer {
    /// Records recorded now (new ids, or newer versions), with their ledger index.
    pub imported: Vec<Imported>,
    /// Records already recorded at this version or a newer one: nothing written.
    pub unchanged: Vec<String>,
    /// `vulnerability_in_production` alerts raised: one per application whose artifacts
    /// running in production an imported record affects.
    #[serde(default)]
    pub alerts: Vec<crate::change::Alert>,
}

/// One advisory recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Imported {
    /// Its id.
    pub id: String,
    /// Its `modified` time.
    pub modified: String,
    /// The `advisory.imported` entry.
    pub ledger_index: u64,
}
