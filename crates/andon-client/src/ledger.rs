//! The ledger: its state, entries and proofs, and the checks a pipeline makes of a receipt
//! or a proof against a checkpoint signed by the log's key.

use andon_domain::api::{ConsistencyProof, EntriesPage, InclusionProof, LogInfo, Receipt};
use andon_ledger::{Checkpoint, Hash, NoteVerifier, verify_inclusion};

use crate::{Client, ClientError};

fn hash(hex_text: &str) -> Result<Hash, ClientError> {
    hex::decode(hex_text)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ClientError::Unverified(format!("{hex_text:?} is not a hex SHA-256 hash")))
}

fn hashes(hex_texts: &[String]) -> Result<Vec<Hash>, ClientError> {
    hex_texts.iter().map(|h| hash(h)).collect()
}

/// Checks a receipt as a pipeline should: its checkpoint is signed by the log's key, and its
/// inclusion proof leads from its leaf to that checkpoint's root. Returns the checkpoint.
pub fn check_receipt(r: &Receipt, log: &NoteVerifier) -> Result<Checkpoint, ClientError> {
    let cp = log
        .verify(&r.checkpoint)
        .map_err(|e| ClientError::Unverified(e.to_string()))?;
    if cp.size != r.tree_size {
        return Err(ClientError::Unverified(format!(
            "the receipt claims tree size {} but its checkpoint has {}",
            r.tree_size, cp.size
        )));
    }
    verify_inclusion(
        &hash(&r.leaf_hash)?,
        r.ledger_index,
        cp.size,
        &hashes(&r.inclusion_proof)?,
        &cp.root,
    )
    .map_err(|e| ClientError::Unverified(e.to_string()))?;
    Ok(cp)
}

/// Checks an inclusion proof against a verified checkpoint of the same tree size.
pub fn check_inclusion(p: &InclusionProof, cp: &Checkpoint) -> Result<(), ClientError> {
    if p.tree_size != cp.size {
        return Err(ClientError::Unverified(format!(
            "the proof is for tree size {}, the checkpoint for {}",
            p.tree_size, cp.size
        )));
    }
    verify_inclusion(
        &hash(&p.leaf_hash)?,
        p.index,
        cp.size,
        &hashes(&p.proof)?,
        &cp.root,
    )
    .map_err(|e| ClientError::Unverified(e.to_string()))
}

impl Client {
    /// The log's origin, key and latest checkpoint.
    pub fn ledger_info(&self) -> Result<LogInfo, ClientError> {
        self.get("/v1/ledger", &[])
    }

    /// The latest checkpoint as a signed note, with the witnesses' cosignatures once they
    /// have cosigned it.
    pub fn checkpoint_note(&self) -> Result<String, ClientError> {
        self.get_text("/v1/ledger/checkpoint", &[])
    }

    /// The newest checkpoint a witness cosigned, with every cosignature; `None` before any.
    pub fn cosigned_checkpoint(&self) -> Result<Option<String>, ClientError> {
        match self.get_text("/v1/ledger/cosigned", &[]) {
            Ok(note) => Ok(Some(note)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Asks the server to verify its stored ledger now (admin, auditor):
    /// `{"verified", "size", "checked_at"}`, and when it does not verify `first_bad_index`,
    /// `reason` (the first problem), `problem_count`, `summary` and `problems` (each with
    /// `index`, `kind`, `check`, `message`).
    pub fn verify_ledger(&self) -> Result<serde_json::Value, ClientError> {
        self.post("/v1/ledger/verify", &[], b"")
    }

    /// A page of entries.
    pub fn entries(&self, start: u64, limit: u32) -> Result<EntriesPage, ClientError> {
        self.get(
            "/v1/ledger/entries",
            &[("start", start.to_string()), ("limit", limit.to_string())],
        )
    }

    /// An inclusion proof.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, ClientError> {
        let mut q = vec![("index", index.to_string())];
        if let Some(s) = size {
            q.push(("size", s.to_string()));
        }
        self.get("/v1/ledger/proof/inclusion", &q)
    }

    /// A consistency proof.
    pub fn consistency_proof(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyProof, ClientError> {
        let mut q = vec![("from", from.to_string())];
        if let Some(t) = to {
            q.push(("to", t.to_string()));
        }
        self.get("/v1/ledger/proof/consistency", &q)
    }
}
