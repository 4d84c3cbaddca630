//! What the store hands back: plain rows, decoded.

use serde::Serialize;

/// A ledger entry as stored.
#[derive(Clone, Debug, Serialize)]
pub struct StoredEntry {
    /// Its leaf index.
    pub index: u64,
    /// Its kind's wire name.
    pub kind: String,
    /// The stored leaf hash.
    #[serde(skip)]
    pub leaf_hash: [u8; 32],
    /// The leaf bytes.
    #[serde(skip)]
    pub entry: Vec<u8>,
    /// For evidence: the stored raw document, when present.
    #[serde(skip)]
    pub document: Option<Vec<u8>>,
}

/// A stored signed tree head.
#[derive(Clone, Debug)]
pub struct StoredCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: [u8; 32],
    /// The signed note.
    pub note: String,
}

/// An evidence index row.
#[derive(Clone, Debug, Serialize)]
pub struct EvidenceRow {
    /// Evidence id: sha256 hex of the raw envelope.
    pub id: String,
    /// Ledger index.
    pub ledger_index: u64,
    /// Application.
    pub application: String,
    /// Pipeline run.
    pub run: Option<String>,
    /// Predicate type.
    pub predicate_type: String,
    /// Identity whose key signed it.
    pub signer: String,
    /// Key id.
    pub keyid: String,
    /// Acceptance time, Unix milliseconds.
    pub created_at: i64,
    /// Subjects: (name, sha256 hex).
    pub subjects: Vec<(String, String)>,
    /// For typed evidence: the derived summary, JSON text.
    pub summary: Option<String>,
    /// For a keyless bundle: who its certificate says signed, JSON text.
    pub keyless: Option<String>,
}

/// Filters for listing evidence; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct EvidenceFilter {
    /// Application.
    pub application: Option<String>,
    /// A subject digest as stored (sha256 hex, or `<algorithm>:<hex>`): evidence naming it,
    /// or naming a digest another record of the same application tied to it.
    pub subject_digest: Option<String>,
    /// Predicate type.
    pub predicate_type: Option<String>,
    /// Pipeline run.
    pub run: Option<String>,
    /// Signing identity.
    pub signer: Option<String>,
    /// Accepted at or after (Unix ms).
    pub since_ms: Option<i64>,
    /// Accepted before (Unix ms).
    pub until_ms: Option<i64>,
    /// Only entries with a ledger index below this (paging backwards, newest first).
    pub before_index: Option<u64>,
    /// At most this many rows.
    pub limit: u32,
}

/// An application.
#[derive(Clone, Debug, Serialize)]
pub struct ApplicationRow {
    /// Name.
    pub name: String,
    /// Owning team.
    pub team: String,
    /// Ledger index of its creation.
    pub ledger_index: u64,
}

/// An identity.
#[derive(Clone, Debug, Serialize)]
pub struct IdentityRow {
    /// Name.
    pub name: String,
    /// Role wire name.
    pub role: String,
    /// Applications it is scoped to.
    pub applications: Vec<String>,
    /// Approver groups it belongs to.
    pub groups: Vec<String>,
    /// Ledger index of its creation.
    pub ledger_index: u64,
}

/// A registered signing key.
#[derive(Clone, Debug, Serialize)]
pub struct KeyRow {
    /// Key id.
    pub keyid: String,
    /// Owning identity.
    pub identity: String,
    /// An Ed25519 key's 32 raw bytes, any other key's DER SubjectPublicKeyInfo.
    #[serde(skip)]
    pub public_key: Vec<u8>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// Row counts, for operators and for tests proving a rejected request wrote nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Ledger entries.
    pub ledger_entries: u64,
    /// Evidence rows.
    pub evidence: u64,
    /// Subject rows.
    pub evidence_subjects: u64,
    /// Identities.
    pub identities: u64,
    /// Keys.
    pub keys: u64,
    /// Checkpoints.
    pub checkpoints: u64,
    /// Uploaded reports.
    pub reports: u64,
}
