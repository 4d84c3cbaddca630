//! What the sequencer hands the store to commit: each ledger append, and the index rows its
//! fact implies.

use andon_domain::scm::SourceFacts;

/// One ledger append and the rows it implies.
#[derive(Clone, Debug)]
pub struct Append {
    /// The leaf index assigned by the sequencer.
    pub index: u64,
    /// The entry kind's wire name.
    pub kind: &'static str,
    /// The leaf bytes.
    pub entry: Vec<u8>,
    /// RFC 6962 leaf hash of `entry`.
    pub leaf_hash: [u8; 32],
    /// Acceptance time, Unix milliseconds.
    pub time_ms: i64,
    /// The rows this fact adds to the indexes.
    pub effect: Effect,
}

/// One SBOM component as stored: the component as the document gives it, and the package
/// key matching reads, derived from its purl by the application (empty without one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomComponent {
    /// The component.
    pub row: andon_domain::components::ComponentRow,
    /// The purl's type (`npm`, `pypi`, `deb`).
    pub purl_type: String,
    /// Its namespace, or empty.
    pub purl_namespace: String,
    /// Its name.
    pub purl_name: String,
}

/// Index rows implied by an append. Serialized (without the documents, which entries bind
/// by digest and the store keeps beside them) it is what an entry carries for the
/// projection to rebuild its rows.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Evidence: its index row, its subjects and its raw document.
    Evidence {
        /// The evidence id (sha256 hex of the document).
        id: String,
        /// Application.
        application: String,
        /// Pipeline run.
        run: Option<String>,
        /// Predicate type.
        predicate_type: String,
        /// Identity whose key signed it.
        signer: String,
        /// The signing key.
        keyid: String,
        /// (name, sha256 hex) per subject.
        subjects: Vec<(String, String)>,
        /// The raw envelope.
        #[serde(skip)]
        document: Vec<u8>,
        /// For typed evidence: the derived summary, JSON.
        summary: Option<String>,
        /// Commits the evidence names (a provenance's source commit).
        commits: Vec<String>,
        /// Source-control facts it carries (a review attestation).
        scm: Option<SourceFacts>,
        /// For a keyless bundle: who its certificate says signed, JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyless: Option<String>,
        /// For an SBOM: every component, in document order (the entry binds their digest).
        #[serde(skip)]
        components: std::sync::Arc<Vec<SbomComponent>>,
    },
    /// A policy bundle published.
    Policy {
        /// SHA-256 of the bundle.
        version: String,
        /// Its name.
        name: String,
        /// Applications it applies to, JSON array.
        applications: String,
        /// Environments it applies to, JSON array.
        environments: String,
        /// The resolved bundle's bytes.
        #[serde(skip)]
        bundle: Vec<u8>,
    },
    /// A gate decision.
    Decision {
        /// SHA-256 of the signed envelope.
        id: String,
        /// Application.
        application: String,
        /// Target environment.
        environment: String,
        /// `sha256:<hex>` of the artifact.
        artifact_digest: String,
        /// Allowed.
        allow: bool,
        /// The policy version used.
        policy_version: String,
        /// The signed decision (DSSE envelope JSON).
        #[serde(skip)]
        envelope: Vec<u8>,
    },
    /// A waiver requested.
    WaiverRequested {
        /// Waiver id.
        id: String,
        /// Application.
        application: String,
        /// Control id.
        control: String,
        /// A vulnerability id, for a waiver of one finding.
        vulnerability: Option<String>,
        /// Why.
        reason: String,
        /// The ticket tracking it.
        ticket: String,
        /// Who asked.
        requested_by: String,
        /// How long it lasts once approved.
        duration_ms: i64,
    },
    /// A waiver approved.
    WaiverApproved {
        /// Waiver id.
        id: String,
        /// Who approved.
        approved_by: String,
        /// When it expires (Unix ms).
        expires_at: i64,
    },
    /// A source-control webhook delivery and its facts.
    SourceEvent {
        /// `github` or `gitlab`.
        provider: String,
        /// The delivery id.
        delivery: String,
        /// The event name.
        event: String,
        /// The payload as received.
        #[serde(skip)]
        payload: Vec<u8>,
        /// The facts read from it.
        facts: SourceFacts,
    },
    /// A new application.
    Application {
        /// Its name.
        name: String,
        /// Its owning team.
        team: String,
    },
    /// A new identity.
    Identity {
        /// Its name.
        name: String,
        /// Its role's wire name.
        role: String,
        /// The applications it is scoped to, as a JSON array.
        applications: String,
        /// The approver groups it belongs to, as a JSON array.
        groups: String,
    },
    /// A token issued to an identity (its SHA-256, never the token).
    Token {
        /// sha256 hex of the token.
        hash: String,
        /// The identity.
        identity: String,
    },
    /// A public key registered to an identity.
    Key {
        /// Its key id.
        keyid: String,
        /// The identity.
        identity: String,
        /// The 32 raw bytes.
        public_key: Vec<u8>,
    },
    /// A key revoked.
    KeyRevoked {
        /// Its key id.
        keyid: String,
    },
    /// Deployments, change records, approvals, alerts.
    Change(crate::changes::ChangeEffect),
    /// Break-glass access, standing accounts, runtime snapshots.
    Access(crate::access::AccessEffect),
    /// An OSV advisory imported (a newer version replaces the older).
    Advisory(crate::advisories::AdvisoryEffect),
    /// A vulnerability item opened or moved on.
    Vuln(crate::vuln_items::VulnEffect),
    /// An admission cluster set, or a workload refused at admission.
    Admission(crate::admission::AdmissionEffect),
    /// A drill started, finished or reviewed, or an application's risk set.
    Drill(crate::drills::DrillEffect),
    /// A batch of telemetry events, stored in order (`seq` from 0).
    #[serde(skip)]
    Telemetry(std::sync::Arc<Vec<andon_telemetry::Event>>),
    /// No row: the entry alone is the state (a token revoked, an identity disabled, an
    /// enrollment code handed out), read by the application's ledger-derived authority.
    EntryOnly,
    /// Settings (name, value) written with the entry that records why (the log keys after a
    /// rotation).
    Settings(Vec<(String, String)>),
}
