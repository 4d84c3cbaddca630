//! The JSON bodies of Andon's HTTP API, shared by the server and the client so that both
//! sides agree by construction.

use serde::{Deserialize, Serialize};

pub use crate::application::{
    ApplicationView, EvidencePolicyView, KeylessPolicyView, NewApplication, NewEvidencePolicy,
    NewSigningPolicy, SchemaValidation, SigningPolicyView, TrustedRootView,
};

/// Every error response: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A machine-readable code and a sentence for people.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable code, e.g. `bad_signature`.
    pub code: String,
    /// What went wrong, naming the offending value.
    pub message: String,
}

/// The answer to a report upload (`PUT /v1/reports/sha256:<hex>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReceipt {
    /// `sha256:<hex>`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// Already stored (an upload of the same bytes before).
    pub existing: bool,
}

/// The answer to an accepted submission: where it sits in the ledger, and the proof.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Receipt {
    /// The evidence id (sha256 hex of the envelope), when the fact is evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The ledger index of the entry.
    pub ledger_index: u64,
    /// The entry's leaf hash, hex.
    pub leaf_hash: String,
    /// True when the same document had been accepted before (idempotent re-send).
    pub existing: bool,
    /// The tree size the proof is against.
    pub tree_size: u64,
    /// The inclusion proof, hex hashes.
    pub inclusion_proof: Vec<String>,
    /// The signed checkpoint (C2SP signed note) of `tree_size`.
    pub checkpoint: String,
}

/// An inclusion proof for one entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Leaf index.
    pub index: u64,
    /// Tree size.
    pub tree_size: u64,
    /// Leaf hash, hex.
    pub leaf_hash: String,
    /// Proof hashes, hex.
    pub proof: Vec<String>,
    /// The signed checkpoint at `tree_size`, when that size is the latest one.
    pub checkpoint: Option<String>,
}

/// A consistency proof between two sizes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Older size.
    pub from: u64,
    /// Newer size.
    pub to: u64,
    /// Proof hashes, hex.
    pub proof: Vec<String>,
}

/// The log's identity: its origin and the verifier key of its checkpoints.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogInfo {
    /// Checkpoint origin line.
    pub origin: String,
    /// Note verifier key, `<name>+<hash>+<key>`.
    pub verifier_key: String,
    /// Current size.
    pub size: u64,
    /// Current signed checkpoint.
    pub checkpoint: String,
    /// The keys the log was signed with before the current one, oldest first: older
    /// checkpoints and gate decisions verify with them (each rotation is a
    /// `log.key_rotated` entry signed by the retiring key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_verifier_keys: Vec<String>,
}

/// One ledger entry as served to auditors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntryView {
    /// Leaf index.
    pub index: u64,
    /// Kind wire name.
    pub kind: String,
    /// The stored leaf hash, hex.
    pub leaf_hash: String,
    /// The leaf bytes, standard base64.
    pub entry: String,
    /// The stored document (an evidence envelope, a webhook payload), standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// A page of ledger entries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EntriesPage {
    /// The entries, in index order.
    pub entries: Vec<EntryView>,
}

/// An evidence record as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvidenceView {
    /// Evidence id.
    pub id: String,
    /// Ledger index.
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Pipeline run.
    pub run: Option<String>,
    /// Predicate type.
    pub predicate_type: String,
    /// Signing identity.
    pub signer: String,
    /// Signing key id.
    pub keyid: String,
    /// On `show`: the other registered keys whose signatures on the envelope verify.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cosigners: Vec<String>,
    /// On `show`: the keyid hints of the envelope's signatures no registered key verifies
    /// (empty where the signature named none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified_signatures: Vec<String>,
    /// On `show`, for a keyless Sigstore bundle: the verified certificate identity, issuer,
    /// workload claims, trusted root and Rekor entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyless: Option<crate::sigstore::KeylessSignature>,
    /// Acceptance time, RFC 3339.
    pub accepted_at: String,
    /// Subjects as `name@sha256:hex`.
    pub subjects: Vec<String>,
    /// For typed evidence: the summary derived from the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
    /// The in-toto statement, on `show` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<serde_json::Value>,
}

/// A page of evidence.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvidencePage {
    /// Newest first.
    pub evidence: Vec<EvidenceView>,
    /// Pass as `before` to get the next page; absent on the last page.
    pub next_before: Option<u64>,
}

/// Create an identity.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewIdentity {
    /// Name.
    pub name: String,
    /// Role wire name.
    pub role: String,
    /// Applications (pipelines only).
    #[serde(default)]
    pub applications: Vec<String>,
    /// Approver groups (approvers only), e.g. `dba`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A freshly issued token (shown once, stored only as a hash), or for a person, the one-time
/// enrollment code with which they issue their own.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The identity.
    pub identity: String,
    /// The token itself; empty when the identity enrolls itself (`enrollment`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// The token's public id (what entries, listings and revocation name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Who issued the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<String>,
    /// When the token stops working (RFC 3339), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// For a person: the one-time code they redeem (`POST /v1/enroll`) for a token of their
    /// own, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<crate::identity::Enrollment>,
    /// The ledger receipt of the issuance.
    pub receipt: Receipt,
}

/// Register a public key.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewKey {
    /// SPKI PEM, or 32 raw bytes in base64.
    pub public_key: String,
}

/// A registered key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyView {
    /// Key id.
    pub keyid: String,
    /// Owning identity.
    pub identity: String,
    /// The key's algorithm: `ed25519`, `ecdsa-p256`, `ecdsa-p384`, `rsa` or `rsa-pss`.
    #[serde(default)]
    pub algorithm: String,
    /// The ledger receipt.
    pub receipt: Receipt,
}

/// Who the caller is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WhoAmI {
    /// Identity name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Applications.
    pub applications: Vec<String>,
}

/// `GET /v1/trace`: the chain from artifacts and deployments back to reviews and tickets.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TraceView {
    /// What was asked: `commit <sha>` or `artifact sha256:<hex>`.
    pub query: String,
    /// The artifacts involved, with the evidence about each.
    pub artifacts: Vec<ArtifactTrace>,
    /// The commits involved, each with its pull requests, reviews, tickets and deployments.
    pub commits: Vec<CommitTrace>,
}

/// An artifact and the evidence naming it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ArtifactTrace {
    /// `sha256:<hex>`.
    pub digest: String,
    /// The names evidence gave it.
    pub names: Vec<String>,
    /// Evidence with the artifact as a subject, oldest first.
    pub evidence: Vec<EvidenceBrief>,
}

/// One piece of evidence, briefly.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct EvidenceBrief {
    /// Evidence id.
    pub id: String,
    /// Ledger index.
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Predicate type.
    pub predicate_type: String,
    /// The derived summary's kind (`junit`, `provenance`, ...), when typed.
    pub kind: Option<String>,
    /// The derived summary.
    pub summary: Option<serde_json::Value>,
}

/// A commit and what follows from it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CommitTrace {
    /// The full commit id.
    pub sha: String,
    /// The commit as pushed (first repository that recorded it), when seen.
    pub commit: Option<crate::scm::Commit>,
    /// The ledger entry that recorded the push.
    pub ledger_index: Option<u64>,
    /// Tickets named by the commit (message, branch) and its pull requests.
    pub tickets: Vec<crate::scm::TicketLink>,
    /// Pull requests whose head or merge commit it is.
    pub pull_requests: Vec<PullRequestTrace>,
    /// Deployments of the commit (and of its pull requests' merge commits) reported by
    /// source control.
    pub deployments: Vec<crate::scm::ScmDeployment>,
    /// Evidence naming the commit (provenance, pipeline definitions).
    pub evidence: Vec<EvidenceBrief>,
}

/// A pull request, its history and the verdict on its review.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PullRequestTrace {
    /// `owner/name`.
    pub repository: String,
    /// Number.
    pub number: u64,
    /// Latest title.
    pub title: String,
    /// Source branch.
    pub source_branch: String,
    /// Target branch.
    pub target_branch: String,
    /// Events, in ledger order: (ledger index, event).
    pub events: Vec<(u64, crate::scm::ChangeEvent)>,
    /// Reviews, in ledger order: (ledger index, review).
    pub reviews: Vec<(u64, crate::scm::Review)>,
    /// The analysis of its review.
    pub review: crate::scm::ReviewAnalysis,
}

/// `POST /v1/gate`: may this artifact go to this environment?
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateRequest {
    /// The application.
    pub application: String,
    /// The artifact, `name@sha256:<hex>`.
    pub artifact: String,
    /// The target environment.
    pub environment: String,
    /// Whether the environment is production; by default, names starting with `prod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<bool>,
    /// For production: deploy as an emergency change, for this reason (docs/changes.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency: Option<String>,
    /// For production: what the pipeline tells the change record (type, risk, rollback
    /// plan, scripts and their dry runs, paths touched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<crate::change::ChangeFields>,
}

/// `POST /v1/deployments`: an artifact was deployed to an environment.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeploymentRequest {
    /// The application.
    pub application: String,
    /// The artifact, `name@sha256:<hex>`.
    pub artifact: String,
    /// The environment.
    pub environment: String,
    /// Whether it is production; by default, names starting with `prod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<bool>,
    /// The allowing decision; by default the latest allowing one for the artifact and
    /// environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The pipeline run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// When it was deployed (RFC 3339); by default, now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<String>,
    /// Record it although its time is older than the server's late window (admins only):
    /// the reason is kept with the fact and its ledger entry (docs/changes.md, "Time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateRequest>,
}

/// `POST /v1/deployments/{id}/state`: a deployment failed, was rolled back, or restored.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeploymentStateRequest {
    /// `failed`, `rolled_back` or `restored`.
    pub state: String,
    /// When (RFC 3339); by default, now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// A note: the incident, what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Record it although its time is older than the server's late window (admins only):
    /// the reason is kept with the fact and its ledger entry (docs/changes.md, "Time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateRequest>,
}

/// `POST /v1/incidents`: an incident tool reports a failure in production.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IncidentRequest {
    /// The application affected.
    pub application: String,
    /// The incident's id in the incident tool.
    pub id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When service was restored (RFC 3339), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    /// The deployment that caused it; by default the last production deployment of the
    /// application at or before `started_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// Record it although its time is older than the server's late window (admins only):
    /// the reason is kept with the fact and its ledger entry (docs/changes.md, "Time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateRequest>,
}

/// An admin's permission to record a fact older than the late window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LateRequest {
    /// Why the fact arrives late (1 to 4,000 characters): it is kept with the fact.
    pub reason: String,
}

/// `POST /v1/changes/{id}/approve` and `/reject`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApprovalRequest {
    /// Why.
    #[serde(default)]
    pub comment: String,
}

/// A decision as the API returns it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DecisionView {
    /// Decision id: SHA-256 of the signed envelope.
    pub id: String,
    /// Its ledger entry.
    pub ledger_index: u64,
    /// The signed decision; the gate's answer leaves out its (large) `input`, which
    /// `GET /v1/decisions/{id}` returns.
    pub decision: crate::gate::DecisionDoc,
    /// The DSSE envelope JSON the server signed (verify it with the log key); only from
    /// `GET /v1/decisions/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    /// The receipt of the ledger entry, when just decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// The change record a production gate opened or found (docs/changes.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

/// The answer to a policy publication.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublishedPolicy {
    /// Name.
    pub name: String,
    /// Version: SHA-256 of the resolved bundle.
    pub version: String,
    /// The ledger entry that published it.
    pub ledger_index: u64,
    /// True when this exact bundle was already published.
    pub existing: bool,
    /// The controls it evaluates.
    pub controls: Vec<String>,
    /// How many policy unit tests ran (all passed).
    pub tests: usize,
}

/// `POST /v1/waivers`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WaiverRequest {
    /// Application.
    pub application: String,
    /// Control id.
    pub control: String,
    /// A single vulnerability id (for the vulnerabilities control), or the whole control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// Why the exception is acceptable.
    pub reason: String,
    /// The ticket tracking the fix.
    pub ticket: String,
    /// How long it lasts once approved, in hours.
    pub hours: u32,
}

/// `POST /v1/access/requests`: break-glass access to an environment.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessRequestInput {
    /// Application.
    pub application: String,
    /// Environment.
    pub environment: String,
    /// `read` or `write`.
    pub level: String,
    /// Why.
    pub reason: String,
    /// The ticket it is for.
    pub ticket: String,
    /// How long, once approved.
    pub minutes: u32,
}

/// A decision on an access request, or a revocation.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccessDecisionInput {
    /// A comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `POST /v1/access/accounts`: a persistent production account and its owners.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountInput {
    /// Its name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// The application it reaches, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// Who can use it.
    pub owners: Vec<String>,
}

/// `POST /v1/access/accounts/{name}/uses`: a use of a persistent account.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AccountUseInput {
    /// When (RFC 3339); by default, now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Who used it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Who reports it (default: the reporting identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Record it although its time is older than the server's late window (admins only):
    /// the reason is kept with the fact and its ledger entry (docs/changes.md, "Time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateRequest>,
}

/// `POST /v1/environments/{env}/snapshots`: what runs.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotInput {
    /// The application whose workloads are reported; or none, with `whole_environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// Everything that runs in the environment is reported (admins): every application's
    /// current deployment not running is then missing. Exactly one of this and
    /// `application`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole_environment: bool,
    /// When it was taken (RFC 3339); by default, now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<String>,
    /// What produced it (`kubernetes`, `hosts`, `list`).
    #[serde(default)]
    pub source: String,
    /// The workloads.
    pub workloads: Vec<crate::access::Workload>,
    /// Record it although its time is older than the server's late window (admins only):
    /// the reason is kept with the fact and its ledger entry (docs/changes.md, "Time").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<LateRequest>,
}

/// A note on an alert's acknowledgement or resolution.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct NoteInput {
    /// Free text, at most 4,000 characters.
    pub note: Option<String>,
}
