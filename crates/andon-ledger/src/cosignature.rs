//! Witness cosignatures on checkpoints, C2SP `tlog-cosignature` v1 (Ed25519).
//!
//! A witness that checked a checkpoint consistent with everything it saw of the log before
//! adds a signature line to the note:
//!
//! ```text
//! — witness.example/w1 base64(key ID[4] || timestamp u64 big-endian || ed25519 signature[64])
//! ```
//! The key ID is the first four bytes of SHA-256(name || "\n" || 0x04 || public key); the
//! signed message is `cosignature/v1\n`, `time <timestamp>\n` and the note body (its lines
//! and their newlines, no signature lines). Verifier keys are written
//! `<name>+<hex key ID>+<base64(0x04 || public key)>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::checkpoint::{SIG_PREFIX, key_id, parse_vkey};
use crate::{Checkpoint, LedgerError};

/// The signed-note signature type of an Ed25519 cosignature.
const ALG_COSIGNATURE_V1: u8 = 0x04;

/// The message a witness signs for `body` at `timestamp`.
fn signed_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// The body of a note: everything before the blank line, with its final newline.
fn note_body(note: &str) -> Result<&str, LedgerError> {
    note.find("\n\n").map(|at| &note[..=at]).ok_or_else(|| {
        LedgerError::MalformedCheckpoint("no blank line before the signatures".into())
    })
}

/// A witness's cosigning key and name.
pub struct WitnessSigner {
    name: String,
    key: SigningKey,
}

impl WitnessSigner {
    /// A witness named `name` (a schema-less URL) with an Ed25519 seed.
    pub fn new(name: impl Into<String>, seed: [u8; 32]) -> Self {
        Self {
            name: name.into(),
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The verifier key that checks this witness's cosignatures.
    pub fn verifier(&self) -> WitnessVerifier {
        WitnessVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// The cosignature line (with its newline) on the checkpoint whose note body is `body`,
    /// made at `timestamp` (seconds since the epoch).
    pub fn cosign(&self, body: &str, timestamp: u64) -> String {
        let sig = self.key.sign(signed_message(body, timestamp).as_bytes());
        let mut blob = Vec::with_capacity(76);
        blob.extend_from_slice(&key_id(
            &self.name,
            ALG_COSIGNATURE_V1,
            &self.key.verifying_key(),
        ));
        blob.extend_from_slice(&timestamp.to_be_bytes());
        blob.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(blob))
    }
}

/// A witness's verifier key (`<name>+<hex key ID>+<base64(0x04 || public key)>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    key: VerifyingKey,
}

/// One verified cosignature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's name.
    pub witness: String,
    /// When the witness cosigned, seconds since the epoch.
    pub timestamp: u64,
    /// The signature line, without its newline.
    pub line: String,
}

impl WitnessVerifier {
    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parses a verifier key string.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let (name, key) = parse_vkey(
            text,
            ALG_COSIGNATURE_V1,
            "witness key",
            "not an Ed25519 cosignature key (signature type 0x04, 32 bytes)",
        )?;
        Ok(Self { name, key })
    }

    /// Checks one signature line against a note body: `None` when the line is not by this
    /// key (another name or key ID), its timestamp when it verifies, an error when it claims
    /// this key and does not verify.
    fn check_line(&self, body: &str, line: &str) -> Option<Result<u64, LedgerError>> {
        let (name, b64) = line.strip_prefix(SIG_PREFIX)?.split_once(' ')?;
        if name != self.name {
            return None;
        }
        let raw = STANDARD.decode(b64).ok()?;
        if raw.len() < 4 || raw[..4] != key_id(&self.name, ALG_COSIGNATURE_V1, &self.key) {
            return None;
        }
        let bad = || LedgerError::BadSignature(format!("cosignature by {}", self.name));
        if raw.len() != 76 {
            return Some(Err(bad()));
        }
        let timestamp = u64::from_be_bytes(raw[4..12].try_into().expect("8 bytes"));
        if timestamp > i64::MAX as u64 {
            return Some(Err(bad()));
        }
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&raw[12..]) else {
            return Some(Err(bad()));
        };
        Some(
            self.key
                .verify_strict(signed_message(body, timestamp).as_bytes(), &sig)
                .map(|()| timestamp)
                .map_err(|_| bad()),
        )
    }

    /// This witness's cosignature in `note`, if it carries one that verifies.
    pub fn verify(&self, note: &str) -> Result<Cosignature, LedgerError> {
        cosignatures(note, std::slice::from_ref(self))?
            .pop()
            .ok_or_else(|| LedgerError::BadSignature(format!("no cosignature by {}", self.name)))
    }
}

impl std::fmt::Display for WitnessVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(key_id(&self.name, ALG_COSIGNATURE_V1, &self.key)),
            STANDARD.encode(raw)
        )
    }
}

/// The cosignatures in `note` by the given witnesses, one per witness (the latest when a
/// witness signed more than once). Lines by other keys are ignored, as the signed-note
/// format requires; a line that names a given witness's key and does not verify makes the
/// note malformed, an error.
pub fn cosignatures(
    note: &str,
    witnesses: &[WitnessVerifier],
) -> Result<Vec<Cosignature>, LedgerError> {
    let body = note_body(note)?;
    Checkpoint::parse_body(body)?;
    let mut found: Vec<Cosignature> = Vec::new();
    for line in note[body.len() + 1..].lines() {
        for w in witnesses {
            let Some(checked) = w.check_line(body, line) else {
                continue;
            };
            let timestamp = checked?;
            match found.iter_mut().find(|c| c.witness == w.name) {
                Some(c) if c.timestamp >= timestamp => {}
                Some(c) => {
                    c.timestamp = timestamp;
                    c.line = line.to_owned();
                }
                None => found.push(Cosignature {
                    witness: w.name.clone(),
                    timestamp,
                    line: line.to_owned(),
                }),
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogSigner;

    fn note() -> String {
        let log = LogSigner::new("andon.example/log", [5; 32]);
        log.sign(&Checkpoint {
            origin: "andon.example/log".into(),
            size: 42,
            root: [3; 32],
        })
        .note
    }

    #[test]
    fn a_cosignature_verifies_with_the_witness_key_string_and_carries_its_time() {
        let w = WitnessSigner::new("witness.example/w1", [7; 32]);
        let note = note();
        let cosigned = format!(
            "{note}{}",
            w.cosign(note_body(&note).unwrap(), 1_679_315_147)
        );
        let key = WitnessVerifier::parse(&w.verifier().to_string()).expect("parse");
        let c = key.verify(&cosigned).expect("verifies");
        assert_eq!(
            (c.witness.as_str(), c.timestamp),
            ("witness.example/w1", 1_679_315_147)
        );
        // The log's own line is not a cosignature, and a log key is not a witness key.
        assert!(key.verify(&note).is_err());
        let log_key = LogSigner::new("andon.example/log", [5; 32])
            .verifier()
            .to_string();
        assert!(WitnessVerifier::parse(&log_key).is_err());
    }

    #[test]
    fn the_signature_covers_the_time_and_the_checkpoint() {
        let w = WitnessSigner::new("witness.example/w1", [7; 32]);
        let note = note();
        let line = w.cosign(note_body(&note).unwrap(), 1000);
        let cosigned = format!("{note}{line}");
        // Another tree size under the same cosignature.
        let moved = cosigned.replacen("\n42\n", "\n43\n", 1);
        assert!(w.verifier().verify(&moved).is_err());
        // Another time under the same signature.
        let (name, b64) = line
            .trim_end()
            .strip_prefix(SIG_PREFIX)
            .unwrap()
            .split_once(' ')
            .unwrap();
        let mut raw = STANDARD.decode(b64).unwrap();
        raw[11] ^= 1;
        let retimed = format!("{note}{SIG_PREFIX}{name} {}\n", STANDARD.encode(raw));
        assert!(cosignatures(&retimed, &[w.verifier()]).is_err());
    }

    #[test]
    fn other_witnesses_lines_are_ignored_and_each_witness_counts_once() {
        let (a, b) = (
            WitnessSigner::new("witness.example/a", [7; 32]),
            WitnessSigner::new("witness.example/b", [8; 32]),
        );
        let stranger = WitnessSigner::new("witness.example/c", [9; 32]);
        let note = note();
        let body = note_body(&note).unwrap().to_owned();
        let cosigned = format!(
            "{note}{}{}{}{}",
            a.cosign(&body, 10),
            a.cosign(&body, 20),
            stranger.cosign(&body, 30),
            b.cosign(&body, 40)
        );
        let found = cosignatures(&cosigned, &[a.verifier(), b.verifier()]).expect("verify");
        let got: Vec<_> = found
            .iter()
            .map(|c| (c.witness.as_str(), c.timestamp))
            .collect();
        assert_eq!(got, [("witness.example/a", 20), ("witness.example/b", 40)]);
        // The same name with another key is someone else.
        let impostor = WitnessSigner::new("witness.example/a", [1; 32]);
        let forged = format!("{note}{}", impostor.cosign(&body, 50));
        assert_eq!(cosignatures(&forged, &[a.verifier()]), Ok(vec![]));
    }
}
