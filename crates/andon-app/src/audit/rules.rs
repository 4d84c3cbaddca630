//! Per-entry rules: what an entry must be, given its bytes, the document it binds and what
//! the entries before it established.
//!
//! A rule sees the entries one at a time, in index order, and may keep state of its own
//! (what earlier entries introduced); adding a check is adding an [`EntryRule`] to
//! [`default_rules`]. The structural checks (indexes, leaf hashes, checkpoints) are the
//! walker's, not rules.

use andon_domain::{EntryKind, EvidenceFact, LedgerEntry, Sha256Digest, SourceEventFact};
use serde::Deserialize;

use super::keys::{LogKeys, RotationError};

/// One entry, as the rules see it.
pub struct Subject<'a> {
    /// Its index.
    pub index: u64,
    /// Its exact bytes (they hash to its leaf).
    pub bytes: &'a [u8],
    /// The bytes, parsed.
    pub entry: &'a LedgerEntry,
    /// The document it binds (an evidence envelope, a webhook payload, a signed decision, a
    /// policy bundle), when the source holds one.
    pub document: Option<&'a [u8]>,
}

/// What a rule found wrong with an entry; the walker adds the index and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The check, e.g. `document` (see [`super::Problem::check`]).
    pub check: &'static str,
    /// What is wrong, in a sentence about the entry ("its document ...").
    pub message: String,
}

impl Finding {
    /// A finding of `check`.
    pub fn new(check: &'static str, message: impl Into<String>) -> Self {
        Self {
            check,
            message: message.into(),
        }
    }
}

/// A check of every entry, in index order.
pub trait EntryRule: Send {
    /// Checks `e` (the entries before it have been checked), with the log's keys as they
    /// stand at `e` (a rule may move them on: the key rotation rule does), and adds what is
    /// wrong to `out`.
    fn check(&mut self, e: &Subject<'_>, keys: &mut LogKeys, out: &mut Vec<Finding>);
}

/// The rules every verification runs, in order.
pub fn default_rules() -> Vec<Box<dyn EntryRule>> {
    vec![
        Box::new(Documents),
        Box::new(KeyRotations),
        Box::new(super::decision::DecisionMeaning { signatures: true }),
        Box::new(super::actors::Actors::default()),
    ]
}

/// Runs `rules` on one entry held outside a log (an audit package's): what is wrong with
/// it, each finding as a problem naming it. The bytes' hash is the caller's to check.
pub fn check_one(
    index: u64,
    bytes: &[u8],
    document: Option<&[u8]>,
    rules: &mut [Box<dyn EntryRule>],
    keys: &mut LogKeys,
) -> Vec<super::Problem> {
    let problem = |kind: Option<&str>, check: &str, message: String| super::Problem {
        index,
        kind: kind.map(str::to_owned),
        check: check.into(),
        checkpoint: None,
        message,
    };
    let entry: LedgerEntry = match serde_json::from_slice(bytes) {
        Ok(e) => e,
        Err(err) => {
            return vec![problem(
                None,
                "malformed",
                format!("its bytes are not a ledger entry: {err}"),
            )];
        }
    };
    let subject = Subject {
        index,
        bytes,
        entry: &entry,
        document,
    };
    let mut found = Vec::new();
    for rule in rules.iter_mut() {
        rule.check(&subject, keys, &mut found);
    }
    let kind = entry.kind.as_str();
    found
        .into_iter()
        .map(|f| problem(Some(kind), f.check, f.message))
        .collect()
}

/// The document an entry binds matches the digest it records.
pub struct Documents;

impl EntryRule for Documents {
    fn check(&mut self, e: &Subject<'_>, _keys: &mut LogKeys, out: &mut Vec<Finding>) {
        if let Err(m) = document_matches(e) {
            out.push(Finding::new("document", m));
        }
    }
}

fn document_matches(e: &Subject<'_>) -> Result<(), String> {
    let body = &e.entry.body;
    match e.entry.kind {
        EntryKind::Evidence => {
            let fact: EvidenceFact = EvidenceFact::deserialize(body)
                .map_err(|err| format!("its evidence body is malformed: {err}"))?;
            let doc = e.document.ok_or("its document is missing")?;
            if Sha256Digest::of(doc) != fact.document {
                return Err(format!(
                    "its document no longer matches the recorded digest {}",
                    fact.document
                ));
            }
        }
        EntryKind::GateDecision => {
            let doc = e.document.ok_or("its signed decision is missing")?;
            let id = body["id"].as_str().unwrap_or_default();
            if Sha256Digest::of(doc).hex() != id {
                return Err(format!(
                    "its signed decision no longer matches the recorded id {id}"
                ));
            }
        }
        EntryKind::PolicyPublished => {
            let doc = e.document.ok_or("its policy bundle is missing")?;
            let version = body["version"].as_str().unwrap_or_default();
            if andon_policy::version_of(doc) != version {
                return Err(format!(
                    "its policy bundle no longer matches the recorded version {version}"
                ));
            }
        }
        EntryKind::SourceEvent => {
            let fact: SourceEventFact = SourceEventFact::deserialize(body)
                .map_err(|err| format!("its source-control body is malformed: {err}"))?;
            let doc = e.document.ok_or("its webhook payload is missing")?;
            if Sha256Digest::of(doc) != fact.payload {
                return Err(format!(
                    "its webhook payload no longer matches the recorded digest {}",
                    fact.payload
                ));
            }
        }
        _ => {}
    }
    Ok(())
}

/// A `log.key_rotated` entry is signed by the key in force and hands the log to the next key
/// the log names; from the next entry on, that key is in force.
pub struct KeyRotations;

impl EntryRule for KeyRotations {
    fn check(&mut self, e: &Subject<'_>, keys: &mut LogKeys, out: &mut Vec<Finding>) {
        if e.entry.kind != EntryKind::LogKeyRotated {
            return;
        }
        let field = |name: &str| e.entry.body[name].as_str().unwrap_or_default().to_owned();
        let (previous, next, signature) = (field("previous"), field("next"), field("signature"));
        let retiring = match andon_ledger::NoteVerifier::parse(&previous) {
            Ok(k) => k,
            Err(err) => {
                out.push(Finding::new(
                    "key_rotation",
                    format!("its retiring key is malformed: {err}"),
                ));
                return;
            }
        };
        if retiring.check_endorsement(&next, &signature).is_err() {
            out.push(Finding::new(
                "key_rotation",
                "its key rotation is not signed by the retiring key",
            ));
            return;
        }
        match keys.rotate(e.index, &retiring.to_string(), &next) {
            Ok(()) => {}
            Err(RotationError::NotInForce { in_force }) => out.push(Finding::new(
                "key_rotation",
                format!(
                    "it rotates away from {previous}, but the log was signed by {in_force} then"
                ),
            )),
            Err(RotationError::UnknownNext) => out.push(Finding::new(
                "key_rotation",
                format!("it hands the log to {next}, a key the log does not name as the next"),
            )),
        }
    }
}
