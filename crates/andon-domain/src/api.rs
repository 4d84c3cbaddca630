//! The JSON bodies of Andon's HTTP API, shared by the server and the client so that both
//! sides agree by construction.

use serde::{Deserialize, Serialize};

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
    /// For evidence: the stored document, standard base64.
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

/// Create an application.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewApplication {
    /// Name.
    pub name: String,
    /// Owning team.
    pub team: String,
}

/// Create an identity.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewIdentity {
    /// Name.
    pub name: String,
    /// Role wire name.
    pub role: String,
    /// Applications (pipelines only).
    #[serde(default)]
    pub applications: Vec<String>,
}

/// A freshly issued token: shown once, stored only as a hash.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The identity.
    pub identity: String,
    /// The token itself.
    pub token: String,
    /// The ledger receipt of the issuance.
    pub receipt: Receipt,
}

/// Register a public key.
#[derive(Clone, Debug, Serialize, Deserialize)]
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
