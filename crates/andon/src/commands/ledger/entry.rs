//! The checks of one ledger entry: its leaf hash recomputed from its bytes, the document it
//! commits to, a key rotation's signature. Shared by `andon verify` (the live ledger) and
//! `andon verify --package` (an audit package); imports neither.

use andon_domain::{EntryKind, EvidenceFact, LedgerEntry, Sha256Digest, SourceEventFact};
use andon_ledger::{Hash, NoteVerifier, leaf_hash};
use serde::Serialize;

/// One ledger entry as stored: its index, leaf hash, exact bytes and the document it commits
/// to.
pub struct Entry {
    /// Its index in the log.
    pub index: u64,
    /// The leaf hash stored with it.
    pub leaf_hash: Hash,
    /// Its exact bytes.
    pub entry: Vec<u8>,
    /// The document it commits to, when it has one.
    pub document: Option<Vec<u8>>,
}

/// A `log.key_rotated` entry whose signature by the retiring key verified.
#[derive(Serialize, Clone)]
pub struct Rotation {
    /// Its index in the log.
    pub index: u64,
    /// The retiring key.
    pub previous: String,
    /// The key the log is handed over to.
    pub next: String,
}

/// The checks `verify` makes of one entry: `Err` says what is wrong, `Ok(Some(_))` is a key
/// rotation whose signature verified.
pub fn check_entry(e: &Entry) -> Result<Option<Rotation>, String> {
    let recomputed = leaf_hash(&e.entry);
    if recomputed != e.leaf_hash {
        return Err("its stored bytes no longer match its leaf hash".into());
    }
    let entry: LedgerEntry = serde_json::from_slice(&e.entry)
        .map_err(|err| format!("its bytes are not a ledger entry: {err}"))?;
    if entry.kind == EntryKind::Evidence {
        let fact: EvidenceFact = serde_json::from_value(entry.body.clone())
            .map_err(|err| format!("its evidence body is malformed: {err}"))?;
        let doc = e.document.as_ref().ok_or("its document is missing")?;
        if Sha256Digest::of(doc) != fact.document {
            return Err(format!(
                "its document no longer matches the recorded digest {}",
                fact.document
            ));
        }
    }
    if entry.kind == EntryKind::GateDecision {
        let doc = e
            .document
            .as_ref()
            .ok_or("its signed decision is missing")?;
        let id = entry.body["id"].as_str().unwrap_or_default();
        if Sha256Digest::of(doc).hex() != id {
            return Err(format!(
                "its signed decision no longer matches the recorded id {id}"
            ));
        }
    }
    if entry.kind == EntryKind::PolicyPublished {
        let doc = e.document.as_ref().ok_or("its policy bundle is missing")?;
        let version = entry.body["version"].as_str().unwrap_or_default();
        if andon_policy::version_of(doc) != version {
            return Err(format!(
                "its policy bundle no longer matches the recorded version {version}"
            ));
        }
    }
    if entry.kind == EntryKind::LogKeyRotated {
        let field = |name: &str| {
            entry.body[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("its key rotation has no {name}"))
        };
        let (previous, next, signature) = (field("previous")?, field("next")?, field("signature")?);
        let retiring = NoteVerifier::parse(&previous)
            .map_err(|err| format!("its retiring key is malformed: {err}"))?;
        NoteVerifier::parse(&next).map_err(|err| format!("its next key is malformed: {err}"))?;
        retiring
            .check_endorsement(&next, &signature)
            .map_err(|_| "its key rotation is not signed by the retiring key".to_string())?;
        return Ok(Some(Rotation {
            index: e.index,
            previous: retiring.to_string(),
            next,
        }));
    }
    if entry.kind == EntryKind::SourceEvent {
        let fact: SourceEventFact = serde_json::from_value(entry.body)
            .map_err(|err| format!("its source-control body is malformed: {err}"))?;
        let doc = e
            .document
            .as_ref()
            .ok_or("its webhook payload is missing")?;
        if Sha256Digest::of(doc) != fact.payload {
            return Err(format!(
                "its webhook payload no longer matches the recorded digest {}",
                fact.payload
            ));
        }
    }
    Ok(None)
}

/// The checks `verify` makes of one entry, for an entry held elsewhere (an audit package).
pub(crate) fn check_entry_bytes(
    index: u64,
    leaf: &Hash,
    entry: &[u8],
    document: Option<&[u8]>,
) -> Result<(), String> {
    check_entry(&Entry {
        index,
        leaf_hash: *leaf,
        entry: entry.to_vec(),
        document: document.map(<[u8]>::to_vec),
    })
    .map(|_| ())
}
