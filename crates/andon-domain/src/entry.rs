//! Ledger entry documents: the exact bytes each Merkle leaf commits to.
//!
//! An entry is JSON written once by the sequencer and stored verbatim; verification hashes
//! the stored bytes, so no canonicalisation is needed.

use serde::{Deserialize, Serialize};

use crate::{AppName, KeyId, Sha256Digest};

/// What kind of fact an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// Signed evidence accepted at intake.
    #[serde(rename = "evidence")]
    Evidence,
    /// An application was created.
    #[serde(rename = "application.created")]
    ApplicationCreated,
    /// An identity was created with a role.
    #[serde(rename = "identity.created")]
    IdentityCreated,
    /// An API token was issued to an identity (its hash, never the token).
    #[serde(rename = "token.issued")]
    TokenIssued,
    /// An Ed25519 public key was registered to an identity.
    #[serde(rename = "key.registered")]
    KeyRegistered,
    /// A key was revoked: evidence signed by it is refused from then on.
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    /// A source-control webhook delivery (GitHub, GitLab) and the facts read from it.
    #[serde(rename = "scm.event")]
    SourceEvent,
    /// A policy bundle was published.
    #[serde(rename = "policy.published")]
    PolicyPublished,
    /// A release gate decided.
    #[serde(rename = "gate.decision")]
    GateDecision,
    /// A waiver was requested.
    #[serde(rename = "waiver.requested")]
    WaiverRequested,
    /// A waiver was approved by someone other than its requester.
    #[serde(rename = "waiver.approved")]
    WaiverApproved,
    /// A change record was opened and classed.
    #[serde(rename = "change.created")]
    ChangeCreated,
    /// A change was approved or rejected by an approver.
    #[serde(rename = "change.approval")]
    ChangeApproval,
    /// A change's status moved (approved, deployed, reviewed).
    #[serde(rename = "change.updated")]
    ChangeUpdated,
    /// A deployment was recorded.
    #[serde(rename = "deployment.recorded")]
    DeploymentRecorded,
    /// A deployment failed, was rolled back, or service was restored.
    #[serde(rename = "deployment.state")]
    DeploymentState,
    /// An alert was raised.
    #[serde(rename = "alert.raised")]
    AlertRaised,
    /// A batch of security telemetry events (their digest; the events are stored beside).
    #[serde(rename = "telemetry.batch")]
    TelemetryBatch,
    /// Break-glass access was requested.
    #[serde(rename = "access.requested")]
    AccessRequested,
    /// A request was approved: the grant starts.
    #[serde(rename = "access.granted")]
    AccessGranted,
    /// A request was rejected.
    #[serde(rename = "access.rejected")]
    AccessRejected,
    /// A grant was revoked early.
    #[serde(rename = "access.revoked")]
    AccessRevoked,
    /// A grant reached its end.
    #[serde(rename = "access.expired")]
    AccessExpired,
    /// A persistent production account was registered.
    #[serde(rename = "access.account_registered")]
    AccountRegistered,
    /// A persistent account was retired.
    #[serde(rename = "access.account_retired")]
    AccountRetired,
    /// A persistent account was used.
    #[serde(rename = "access.account_used")]
    AccountUsed,
    /// An environment reported what runs.
    #[serde(rename = "environment.snapshot")]
    EnvironmentSnapshot,
    /// An alert was acknowledged, resolved, or seen again.
    #[serde(rename = "alert.updated")]
    AlertUpdated,
    /// The log signing key was rotated: the retiring key's signature hands the log over to
    /// the next key (`previous`, `next`, `signature`).
    #[serde(rename = "log.key_rotated")]
    LogKeyRotated,
    /// A token was revoked: it is refused from this entry on.
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    /// An identity was disabled: its tokens and keys are refused from this entry on.
    #[serde(rename = "identity.disabled")]
    IdentityDisabled,
    /// An admin handed out a one-time enrollment code with which an identity issues its own
    /// token (its SHA-256, never the code).
    #[serde(rename = "enrollment.created")]
    EnrollmentCreated,
    /// How many of an application's registered keys must sign each envelope
    /// (`application`, `threshold`), from this entry on.
    #[serde(rename = "application.signing_policy")]
    SigningPolicySet,
    /// Whether an application's SBOMs that break their format's schema are refused
    /// (`strict`, the default) or recorded with their errors (`lenient`)
    /// (`application`, `schema_validation`), from this entry on.
    #[serde(rename = "application.evidence_policy")]
    EvidencePolicySet,
    /// A Sigstore trusted root (`name`, its exact `document`, `sha256`) that keyless
    /// bundles are verified against from this entry on; the same name replaces it.
    #[serde(rename = "sigstore.trusted_root")]
    TrustedRootSet,
    /// Which keyless signers (OIDC issuer, certificate identity, claims) may sign an
    /// application's evidence (`application`, `policy`), from this entry on.
    #[serde(rename = "application.keyless_policy")]
    KeylessPolicySet,
    /// An OpenID Connect issuer whose ID tokens are accepted (`name`, `config`); the same
    /// name replaces it.
    #[serde(rename = "oidc.issuer")]
    OidcIssuerSet,
    /// A rule mapping CI jobs' ID tokens to a pipeline identity (`name`, `rule`); the same
    /// name replaces it.
    #[serde(rename = "oidc.workload_rule")]
    WorkloadRuleSet,
    /// A workload rule was removed (`name`, `reason`).
    #[serde(rename = "oidc.workload_rule_removed")]
    WorkloadRuleRemoved,
    /// A rule mapping people's ID tokens to a role and approver groups (`name`, `rule`);
    /// the same name replaces it.
    #[serde(rename = "oidc.person_rule")]
    PersonRuleSet,
    /// A person rule was removed (`name`, `reason`).
    #[serde(rename = "oidc.person_rule_removed")]
    PersonRuleRemoved,
    /// An existing identity linked itself, with a token of its own, to the subject it signs in
    /// as at an identity provider (`name`, `sso`).
    #[serde(rename = "identity.linked")]
    IdentityLinked,
    /// The first start on a restored database, or on one behind a larger signed checkpoint:
    /// the backup's last checkpoint (`backup`), the entries known lost (`lost`: the range
    /// and the checkpoints that show it) and the operator's `reason` for serving it anyway.
    #[serde(rename = "ledger.restored")]
    LedgerRestored,
    /// An OSV advisory imported, or a newer version of it (`id`, `modified`, `aliases`,
    /// `severity`, `affected`, `sha256` of the record as sent).
    #[serde(rename = "advisory.imported")]
    AdvisoryImported,
    /// A vulnerability found running in production for an application: an item opens
    /// (`item`, `application`, `vulnerability`, `severity`, `priority`, `due_at`, `artifacts`).
    #[serde(rename = "vuln.detected")]
    VulnDetected,
    /// An item's fix built: an artifact of the application whose SBOM no longer has it
    /// (`item`, `at`, `artifact`, `evidence`).
    #[serde(rename = "vuln.fix_built")]
    VulnFixBuilt,
    /// An item's fixed artifact seen running in production (`item`, `at`, `artifact`).
    #[serde(rename = "vuln.fix_deployed")]
    VulnFixDeployed,
    /// An item closed (`item`, `at`, `reason`, `detail`).
    #[serde(rename = "vuln.closed")]
    VulnClosed,
    /// A cluster registered for admission, or changed (`cluster`, `environment`, `mode`,
    /// `max_decision_age_days`, `token_sha256`).
    #[serde(rename = "admission.cluster")]
    AdmissionCluster,
    /// A workload refused at admission, or one audit mode admitted that enforce would refuse
    /// (`cluster`, `enforced`, the object, `images` with the failing control of each).
    #[serde(rename = "admission.refused")]
    AdmissionRefused,
    /// A workload the gate would refuse admitted by the break-glass grant its annotation
    /// names (`grant` with its holder and approver, and what would have been refused).
    #[serde(rename = "admission.override")]
    AdmissionOverride,
    /// A game day began (`drill`, `application`, `scenario`, `rehearses`, `participants`).
    #[serde(rename = "drill.started")]
    DrillStarted,
    /// A game day ended (`drill`, `outcome`, the runs, decisions and deployments during it,
    /// its time to production and segments).
    #[serde(rename = "drill.finished")]
    DrillFinished,
    /// A game day's retrospective (`drill`, `went_well`, `went_badly`, `actions`, and the
    /// SHA-256 of the DSSE envelope that signs it).
    #[serde(rename = "drill.retrospective")]
    DrillRetrospective,
    /// An application's risk level set (`application`, `risk`).
    #[serde(rename = "application.risk")]
    ApplicationRisk,
}

impl EntryKind {
    /// The kind's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Evidence => "evidence",
            EntryKind::ApplicationCreated => "application.created",
            EntryKind::IdentityCreated => "identity.created",
            EntryKind::TokenIssued => "token.issued",
            EntryKind::KeyRegistered => "key.registered",
            EntryKind::KeyRevoked => "key.revoked",
            EntryKind::SourceEvent => "scm.event",
            EntryKind::PolicyPublished => "policy.published",
            EntryKind::GateDecision => "gate.decision",
            EntryKind::WaiverRequested => "waiver.requested",
            EntryKind::WaiverApproved => "waiver.approved",
            EntryKind::ChangeCreated => "change.created",
            EntryKind::ChangeApproval => "change.approval",
            EntryKind::ChangeUpdated => "change.updated",
            EntryKind::DeploymentRecorded => "deployment.recorded",
            EntryKind::DeploymentState => "deployment.state",
            EntryKind::AlertRaised => "alert.raised",
            EntryKind::TelemetryBatch => "telemetry.batch",
            EntryKind::AccessRequested => "access.requested",
            EntryKind::AccessGranted => "access.granted",
            EntryKind::AccessRejected => "access.rejected",
            EntryKind::AccessRevoked => "access.revoked",
            EntryKind::AccessExpired => "access.expired",
            EntryKind::AccountRegistered => "access.account_registered",
            EntryKind::AccountRetired => "access.account_retired",
            EntryKind::AccountUsed => "access.account_used",
            EntryKind::EnvironmentSnapshot => "environment.snapshot",
            EntryKind::AlertUpdated => "alert.updated",
            EntryKind::LogKeyRotated => "log.key_rotated",
            EntryKind::TokenRevoked => "token.revoked",
            EntryKind::IdentityDisabled => "identity.disabled",
            EntryKind::EnrollmentCreated => "enrollment.created",
            EntryKind::SigningPolicySet => "application.signing_policy",
            EntryKind::EvidencePolicySet => "application.evidence_policy",
            EntryKind::TrustedRootSet => "sigstore.trusted_root",
            EntryKind::KeylessPolicySet => "application.keyless_policy",
            EntryKind::OidcIssuerSet => "oidc.issuer",
            EntryKind::WorkloadRuleSet => "oidc.workload_rule",
            EntryKind::WorkloadRuleRemoved => "oidc.workload_rule_removed",
            EntryKind::PersonRuleSet => "oidc.person_rule",
            EntryKind::PersonRuleRemoved => "oidc.person_rule_removed",
            EntryKind::IdentityLinked => "identity.linked",
            EntryKind::LedgerRestored => "ledger.restored",
            EntryKind::AdvisoryImported => "advisory.imported",
            EntryKind::VulnDetected => "vuln.detected",
            EntryKind::VulnFixBuilt => "vuln.fix_built",
            EntryKind::VulnFixDeployed => "vuln.fix_deployed",
            EntryKind::VulnClosed => "vuln.closed",
            EntryKind::AdmissionCluster => "admission.cluster",
            EntryKind::AdmissionRefused => "admission.refused",
            EntryKind::AdmissionOverride => "admission.override",
            EntryKind::DrillStarted => "drill.started",
            EntryKind::DrillFinished => "drill.finished",
            EntryKind::DrillRetrospective => "drill.retrospective",
            EntryKind::ApplicationRisk => "application.risk",
        }
    }
}

/// One ledger entry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    /// The entry format version (1).
    pub v: u32,
    /// What is recorded.
    pub kind: EntryKind,
    /// When the server accepted it, RFC 3339 UTC.
    pub time: String,
    /// Who caused it (an identity name).
    pub actor: String,
    /// The token the actor acted with and who issued it; absent for the server's own
    /// entries (`andon`, webhooks) and for entries written before tokens were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// The fact itself; for evidence an [`EvidenceFact`].
    pub body: serde_json::Value,
    /// The rows the entry writes, for the kinds whose body does not say them all: the
    /// projection rebuilds the database's tables from entries alone (`andon verify`
    /// compares them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<serde_json::Value>,
}

/// Which token an actor acted with: its id (never the secret) and the identity that issued
/// it. An identity acting with a token somebody else issued is visible in every entry.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Via {
    /// The token's id (`tok_` and the first 16 hex digits of its SHA-256).
    pub token: String,
    /// The identity that issued the token (the actor itself for a self-issued token;
    /// `oidc:<issuer>` for a session an ID token was exchanged for).
    pub issued_by: String,
    /// For a session exchanged for an OpenID Connect ID token: the token's issuer, subject
    /// and `jti`, so every entry made with it says which CI job (or sign-in) acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated: Option<crate::oidc::Federated>,
}

impl Via {
    /// Whether the actor issued this token to itself.
    pub fn self_issued(&self, actor: &str) -> bool {
        self.issued_by == actor
    }
}

/// A token's public id from its SHA-256 hex: `tok_` and the first 16 hex digits.
pub fn token_id(token_sha256: &str) -> String {
    format!("tok_{}", &token_sha256[..token_sha256.len().min(16)])
}

impl LedgerEntry {
    /// Serialises the entry to the bytes that become the Merkle leaf.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A subject as recorded in the ledger.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SubjectRef {
    /// The artifact name.
    pub name: String,
    /// Its primary digest: sha256 when the statement gave one (every entry before sha384,
    /// sha512 and gitCommit subjects were read has one), else sha512, sha384, gitCommit.
    pub digest: crate::SubjectDigest,
    /// Its other known digests, which tie them to the primary one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<crate::SubjectDigest>,
}

impl SubjectRef {
    /// Every digest, the primary one first.
    pub fn digests(&self) -> impl Iterator<Item = &crate::SubjectDigest> {
        std::iter::once(&self.digest).chain(&self.also)
    }
}

/// The body of an evidence entry: what was accepted and on whose signature. The document
/// itself is stored content-addressed; `document` binds the entry to its exact bytes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EvidenceFact {
    /// SHA-256 of the raw DSSE envelope as received.
    pub document: Sha256Digest,
    /// The application the evidence belongs to.
    pub application: AppName,
    /// The pipeline run that produced it, when given.
    pub run: Option<String>,
    /// The statement's predicate type.
    pub predicate_type: String,
    /// The statement's subjects.
    pub subjects: Vec<SubjectRef>,
    /// The key that signed it (for a keyless bundle, the SHA-256 of its certificate's
    /// public key).
    pub keyid: KeyId,
    /// The identity that key is registered to (for a keyless bundle, the certificate
    /// identity).
    pub signer: String,
    /// For a Sigstore bundle signed keylessly: the verified certificate identity, issuer,
    /// workload claims, trusted root and Rekor entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless: Option<crate::sigstore::KeylessSignature>,
    /// The other registered keys whose signatures on the envelope verify.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cosigners: Vec<KeyId>,
    /// The keyid hints (as the envelope gives them, empty when absent) of the signatures no
    /// registered key verifies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified_signatures: Vec<String>,
    /// For typed evidence: the summary Andon derived from the report itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
    /// The commits the evidence names (a provenance's source commit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// The source-control facts it carries (a review attestation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scm: Option<crate::scm::SourceFacts>,
    /// The report the statement names by digest, uploaded on its own and stored beside the
    /// ledger (the envelope, which this entry binds, signs the digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<crate::StoredReport>,
    /// For an SBOM: how many components it lists and the digest of them all, which the
    /// component rows must hash to (`components::ComponentsBinding`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<crate::components::ComponentsBinding>,
}

/// The body of a source-control event entry: which delivery, a digest binding the entry to
/// the exact payload bytes (stored beside it), and the facts Andon read from it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SourceEventFact {
    /// `github` or `gitlab`.
    pub provider: String,
    /// The delivery id (`X-GitHub-Delivery`, GitLab `Idempotency-Key` or `X-Gitlab-Event-UUID`).
    pub delivery: String,
    /// The event name (`pull_request`, `Merge Request Hook`, ...).
    pub event: String,
    /// SHA-256 of the payload as received.
    pub payload: Sha256Digest,
    /// The normalized facts.
    pub facts: crate::scm::SourceFacts,
}
