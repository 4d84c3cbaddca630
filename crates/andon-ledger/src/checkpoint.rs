//! Signed tree heads as C2SP `tlog-checkpoint` notes in the C2SP `signed-note` format, the
//! format of Go's sumdb, Rekor v2 and the transparency-dev witnesses.
//!
//! ```text
//! andon.example/log
//! 42
//! <base64 root hash>
//!
//! — andon.example/log <base64(key hash[4] || ed25519 signature[64])>
//! ```
//! The signature covers the note body (the three lines and their newlines). The key hash is
//! the first four bytes of SHA-256(name || "\n" || 0x01 || public key).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::{Hash, LedgerError};

const ALG_ED25519: u8 = 0x01;
pub(crate) const SIG_PREFIX: &str = "\u{2014} ";

/// A tree head: which log, how many entries, which root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, a schema-less URL naming the log.
    pub origin: String,
    /// The number of entries.
    pub size: u64,
    /// The Merkle root at that size.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body that is signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    pub(crate) fn parse_body(body: &str) -> Result<Self, LedgerError> {
        let bad = |m: &str| LedgerError::MalformedCheckpoint(m.to_owned());
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        let size = lines
            .next()
            .and_then(|s| {
                (!s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit())
                    && (s == "0" || !s.starts_with('0')))
                .then(|| s.parse::<u64>().ok())
                .flatten()
            })
            .ok_or_else(|| bad("the second line is not a tree size"))?;
        let root: Hash = lines
            .next()
            .and_then(|s| STANDARD.decode(s).ok())
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("the third line is not a base64 SHA-256 root"))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

fn key_hash(name: &str, public: &VerifyingKey) -> [u8; 4] {
    key_id(name, ALG_ED25519, public)
}

/// The signed-note key ID: the first four bytes of SHA-256(name || "\n" || type || key).
pub(crate) fn key_id(name: &str, alg: u8, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(public.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Parses a signed-note verifier key `<name>+<hex key ID>+<base64(type || key)>` of
/// signature type `alg` (Ed25519 keys only); `what` names it in errors, `wrong_type` says
/// what a key of another type or length is not.
pub(crate) fn parse_vkey(
    text: &str,
    alg: u8,
    what: &str,
    wrong_type: &str,
) -> Result<(String, VerifyingKey), LedgerError> {
    let bad = |m: &str| LedgerError::MalformedCheckpoint(format!("{what}: {m}"));
    let mut parts = text.trim().splitn(3, '+');
    let (name, id, key) = match (parts.next(), parts.next(), parts.next()) {
        (Some(n), Some(h), Some(k)) if !n.is_empty() => (n, h, k),
        _ => return Err(bad("expected <name>+<key ID>+<key>")),
    };
    let raw = STANDARD.decode(key).map_err(|_| bad("key is not base64"))?;
    if raw.len() != 33 || raw[0] != alg {
        return Err(bad(wrong_type));
    }
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&raw[1..]);
    let key = VerifyingKey::from_bytes(&pk).map_err(|_| bad("invalid Ed25519 point"))?;
    if hex::encode(key_id(name, alg, &key)) != id {
        return Err(bad("key ID does not match"));
    }
    Ok((name.to_owned(), key))
}

/// The log's signing key and name.
pub struct LogSigner {
    name: String,
    key: SigningKey,
}

impl LogSigner {
    /// A signer named `name` (by convention the log's origin) with an Ed25519 seed.
    pub fn new(name: impl Into<String>, seed: [u8; 32]) -> Self {
        Self {
            name: name.into(),
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The signer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key that checks this signer's notes.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs a checkpoint, producing the note text.
    pub fn sign(&self, cp: &Checkpoint) -> SignedCheckpoint {
        let body = cp.body();
        let sig = self.key.sign(body.as_bytes()).to_bytes();
        let mut blob = Vec::with_capacity(68);
        blob.extend_from_slice(&key_hash(&self.name, &self.key.verifying_key()));
        blob.extend_from_slice(&sig);
        SignedCheckpoint {
            checkpoint: cp.clone(),
            note: format!(
                "{body}\n{SIG_PREFIX}{} {}\n",
                self.name,
                STANDARD.encode(blob)
            ),
        }
    }
}

/// The statement a retiring log key signs to hand the log over to its successor: both
/// verifier keys in their text form, each on its own line.
pub fn rotation_statement(previous: &str, next: &str) -> String {
    format!("andon/log-key-rotation/v1\n{previous}\n{next}\n")
}

impl LogSigner {
    /// Signs the hand-over of the log to `next` (base64 Ed25519 signature over
    /// [`rotation_statement`]); the rotation entry carries it, so a verifier that trusts this
    /// key learns to trust the next one from the log itself.
    pub fn endorse(&self, next: &NoteVerifier) -> String {
        let text = rotation_statement(&self.verifier().to_string(), &next.to_string());
        STANDARD.encode(self.key.sign(text.as_bytes()).to_bytes())
    }
}

/// A note verifier key, written `<name>+<hex key hash>+<base64(0x01 || public key)>` as Go's
/// `note` package and the witness ecosystem write them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// The verifier's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw Ed25519 public key: the server also signs gate decisions with it.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Parses a verifier key string.
    pub fn parse(text: &str) -> Result<Self, LedgerError> {
        let (name, key) = parse_vkey(text, ALG_ED25519, "verifier key", "not an Ed25519 key")?;
        Ok(Self { name, key })
    }

    /// Verifies a note and returns its checkpoint. Signatures by other keys are ignored, as
    /// the signed-note format requires; at least one must be by this verifier's key.
    pub fn verify(&self, note: &str) -> Result<Checkpoint, LedgerError> {
        let (body, sigs) = note.split_once("\n\n").ok_or_else(|| {
            LedgerError::MalformedCheckpoint("no blank line before the signatures".into())
        })?;
        let body = format!("{body}\n");
        let want = key_hash(&self.name, &self.key);
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix(SIG_PREFIX) else {
                return Err(LedgerError::MalformedCheckpoint(format!(
                    "not a signature line: {line:?}"
                )));
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                continue;
            };
            if name != self.name {
                continue;
            }
            let Ok(raw) = STANDARD.decode(b64) else {
                continue;
            };
            if raw.len() != 68 || raw[..4] != want {
                continue;
            }
            let sig = ed25519_dalek::Signature::from_slice(&raw[4..])
                .map_err(|_| LedgerError::BadSignature(self.name.clone()))?;
            if self.key.verify_strict(body.as_bytes(), &sig).is_ok() {
                return Checkpoint::parse_body(&body);
            }
            return Err(LedgerError::BadSignature(self.name.clone()));
        }
        Err(LedgerError::BadSignature(self.name.clone()))
    }
}

impl NoteVerifier {
    /// Checks that this key handed the log over to `next` (see [`LogSigner::endorse`]).
    pub fn check_endorsement(&self, next: &str, signature: &str) -> Result<(), LedgerError> {
        let bad = || LedgerError::BadSignature(format!("{} (rotation to {next})", self.name));
        let raw = STANDARD.decode(signature).map_err(|_| bad())?;
        let sig = ed25519_dalek::Signature::from_slice(&raw).map_err(|_| bad())?;
        let text = rotation_statement(&self.to_string(), next);
        self.key
            .verify_strict(text.as_bytes(), &sig)
            .map_err(|_| bad())
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(key_hash(&self.name, &self.key)),
            STANDARD.encode(raw)
        )
    }
}

/// A checkpoint with its signed note text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The tree head.
    pub checkpoint: Checkpoint,
    /// The note: body, blank line, signature lines.
    pub note: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_verifies_only_with_the_retiring_key_and_the_named_successor() {
        let old = LogSigner::new("andon.test/log", [1; 32]);
        let new = LogSigner::new("andon.test/log", [2; 32]);
        let other = LogSigner::new("andon.test/log", [3; 32]);
        let sig = old.endorse(&new.verifier());
        let next = new.verifier().to_string();
        assert!(old.verifier().check_endorsement(&next, &sig).is_ok());
        // Another key did not hand anything over.
        assert!(other.verifier().check_endorsement(&next, &sig).is_err());
        // The signature names its successor: it does not endorse a different one.
        let elsewhere = other.verifier().to_string();
        assert!(old.verifier().check_endorsement(&elsewhere, &sig).is_err());
        assert!(
            old.verifier()
                .check_endorsement(&next, "not base64!")
                .is_err()
        );
    }

    fn cp() -> Checkpoint {
        Checkpoint {
            origin: "andon.example/log".into(),
            size: 42,
            root: [3; 32],
        }
    }

    #[test]
    fn a_signed_note_verifies_with_the_verifier_key_string() {
        let signer = LogSigner::new("andon.example/log", [5; 32]);
        let signed = signer.sign(&cp());
        let verifier = NoteVerifier::parse(&signer.verifier().to_string()).expect("parse");
        assert_eq!(verifier.verify(&signed.note), Ok(cp()));
        assert!(signed.note.starts_with("andon.example/log\n42\n"));
        assert!(signed.note.contains("\n\n\u{2014} andon.example/log "));
    }

    #[test]
    fn an_altered_note_or_a_foreign_key_fails() {
        let signer = LogSigner::new("andon.example/log", [5; 32]);
        let signed = signer.sign(&cp());
        let altered = signed.note.replacen("\n42\n", "\n43\n", 1);
        assert!(signer.verifier().verify(&altered).is_err());
        let other = LogSigner::new("andon.example/log", [6; 32]);
        assert!(other.verifier().verify(&signed.note).is_err());
    }

    #[test]
    fn a_real_go_sumdb_checkpoint_verifies_with_the_published_key() {
        // A tree head signed by sum.golang.org, verified with the key Go ships in
        // cmd/go/internal/modfetch/key.go: an independent implementation of the format.
        let key = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
        let note = "go.sum database tree\n65664258\nWVVNVD2qx+fTq31zkj6UAqxT5X6HvGphGM+o8Thnbsg=\n\n\u{2014} sum.golang.org Az3grligJmgX7KGyGPKybykNTh3VgsbLvUuvOwrM5zLVlulmFp2wdvbxOw74/gcNxURShXEpb7RXcs3+BYflYN+w0gQ=\n";
        let verifier = NoteVerifier::parse(key).expect("Go's verifier key parses");
        assert_eq!(verifier.to_string(), key);
        let cp = verifier.verify(note).expect("the real note verifies");
        assert_eq!(cp.origin, "go.sum database tree");
        assert_eq!(cp.size, 65_664_258);
        assert!(
            verifier
                .verify(&note.replace("65664258", "65664259"))
                .is_err()
        );
    }

    #[test]
    fn verifier_keys_round_trip_and_reject_a_wrong_key_hash() {
        let signer = LogSigner::new("a.example/x", [1; 32]);
        let text = signer.verifier().to_string();
        assert_eq!(NoteVerifier::parse(&text), Ok(signer.verifier()));
        assert!(NoteVerifier::parse(&text.replacen("+", "+0", 1)).is_err());
    }
}
