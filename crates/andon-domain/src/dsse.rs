//! DSSE envelopes (Dead Simple Signing Envelope, v1.0) with Ed25519 signatures.
//!
//! The signature covers the pre-authentication encoding (PAE) of the payload type and the
//! payload bytes, never the JSON around them, so re-serialising an envelope cannot change
//! what was signed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, pkcs8::spki::der::pem::LineEnding};
use serde::{Deserialize, Serialize};

use crate::{DomainError, KeyId};

/// The DSSE pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope as it travels: JSON with a base64 payload.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The payload, standard base64.
    pub payload: String,
    /// The payload's media type, e.g. `application/vnd.in-toto+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// One or more signatures over the PAE.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// The signing key's id (see [`KeyId`]); optional in DSSE, required by Andon.
    #[serde(default)]
    pub keyid: String,
    /// The signature, standard base64.
    pub sig: String,
}

/// An envelope whose structure was checked and whose payload was decoded. Its signatures are
/// not yet verified: that needs the signer's registered key, see [`VerifiedEnvelope::verify`].
#[derive(Clone, Debug)]
pub struct VerifiedEnvelope {
    /// The payload type.
    pub payload_type: String,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The decoded signatures: key id and 64 signature bytes.
    pub signatures: Vec<(String, [u8; 64])>,
}

impl Envelope {
    /// Parses an envelope from JSON bytes and decodes its payload and signatures.
    pub fn parse(bytes: &[u8]) -> Result<VerifiedEnvelope, DomainError> {
        let env: Envelope = serde_json::from_slice(bytes)
            .map_err(|e| DomainError::MalformedEnvelope(e.to_string()))?;
        let payload = STANDARD
            .decode(env.payload.as_bytes())
            .map_err(|e| DomainError::MalformedEnvelope(format!("payload is not base64: {e}")))?;
        if env.signatures.is_empty() {
            return Err(DomainError::Unsigned);
        }
        let mut signatures = Vec::with_capacity(env.signatures.len());
        for s in &env.signatures {
            let raw = STANDARD.decode(s.sig.as_bytes()).map_err(|e| {
                DomainError::MalformedEnvelope(format!("signature is not base64: {e}"))
            })?;
            let sig: [u8; 64] = raw.try_into().map_err(|_| {
                DomainError::MalformedEnvelope("an Ed25519 signature is 64 bytes".into())
            })?;
            signatures.push((s.keyid.clone(), sig));
        }
        Ok(VerifiedEnvelope {
            payload_type: env.payload_type,
            payload,
            signatures,
        })
    }

    /// Signs `payload` with `key`, naming the key by its [`KeyId`].
    pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Envelope {
        let sig = key.0.sign(&pae(payload_type, payload));
        Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: vec![EnvelopeSignature {
                keyid: key.key_id().to_string(),
                sig: STANDARD.encode(sig.to_bytes()),
            }],
        }
    }
}

impl VerifiedEnvelope {
    /// The key ids named by the signatures, in order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.signatures.iter().map(|(k, _)| k.as_str())
    }

    /// Verifies the signature made by `key` (strict Ed25519 verification: no malleable or
    /// small-order signatures).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), DomainError> {
        let id = key.key_id();
        let (_, sig) = self
            .signatures
            .iter()
            .find(|(k, _)| k == id.as_str())
            .ok_or_else(|| DomainError::BadSignature(id.to_string()))?;
        let sig = ed25519_dalek::Signature::from_bytes(sig);
        key.0
            .verify_strict(&pae(&self.payload_type, &self.payload), &sig)
            .map_err(|_| DomainError::BadSignature(id.to_string()))
    }
}

/// An Ed25519 private key of a pipeline identity.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A key from a 32-byte seed (the caller supplies the randomness).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Reads a PKCS#8 PEM private key, as written by `andon keygen` or
    /// `openssl genpkey -algorithm ed25519`.
    pub fn from_pem(pem: &str) -> Result<Self, DomainError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|e| not_ed25519(pem, e.to_string()))
    }

    /// The key as PKCS#8 PEM.
    pub fn to_pem(&self) -> String {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .unwrap_or_default()
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey(self.0.verifying_key())
    }

    /// The key id of the matching public key.
    pub fn key_id(&self) -> KeyId {
        self.verifying_key().key_id()
    }

    /// The 32-byte seed (for handing the log key to the ledger signer).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Signs raw bytes (used for checkpoints and decisions, not only envelopes).
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

/// How to make a key Andon reads, for the messages that refuse another.
const MAKE_ONE: &str = "Andon reads Ed25519 keys (PKCS#8 / SPKI PEM); make a pair with `andon keygen`, or `openssl genpkey -algorithm ed25519 -out key.pem` and its public half with `openssl pkey -in key.pem -pubout`";

/// The refusal of a key that did not read as Ed25519: what it is when it is a kind people
/// commonly have (RSA, ECDSA, an OpenSSH key), with what is accepted and how to make one.
fn not_ed25519(text: &str, why: String) -> DomainError {
    let t = text.trim_start();
    // Object identifiers of the SPKI / PKCS#8 algorithms, as the reader names them.
    let kind = if t.starts_with("-----BEGIN RSA") || why.contains("1.2.840.113549.1.1.1") {
        Some("an RSA key")
    } else if t.starts_with("-----BEGIN EC") || why.contains("1.2.840.10045.2.1") {
        Some("an ECDSA (EC) key")
    } else if t.starts_with("-----BEGIN OPENSSH")
        || t.starts_with("ssh-")
        || t.starts_with("ecdsa-sha2-")
    {
        Some("an OpenSSH key")
    } else {
        None
    };
    DomainError::MalformedKey(match kind {
        Some(k) => format!("this is {k}, which Andon does not accept yet: {MAKE_ONE}"),
        None => format!("{why}; {MAKE_ONE}"),
    })
}

/// An Ed25519 public key registered to an identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyingKey(ed25519_dalek::VerifyingKey);

impl VerifyingKey {
    /// From 32 raw bytes.
    pub fn from_bytes(raw: &[u8; 32]) -> Result<Self, DomainError> {
        ed25519_dalek::VerifyingKey::from_bytes(raw)
            .map(Self)
            .map_err(|e| DomainError::MalformedKey(e.to_string()))
    }

    /// Parses either an SPKI PEM public key or 32 raw bytes in standard base64.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return ed25519_dalek::VerifyingKey::from_public_key_pem(text)
                .map(Self)
                .map_err(|e| not_ed25519(text, e.to_string()));
        }
        let raw = STANDARD
            .decode(text)
            .map_err(|e| not_ed25519(text, format!("not PEM and not base64: {e}")))?;
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| DomainError::MalformedKey("an Ed25519 public key is 32 bytes".into()))?;
        Self::from_bytes(&raw)
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The raw bytes in standard base64.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.to_bytes())
    }

    /// The key as SPKI PEM.
    pub fn to_pem(&self) -> String {
        self.0.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// This key's id.
    pub fn key_id(&self) -> KeyId {
        KeyId::of_public_key(&self.0.to_bytes())
    }

    /// Strictly verifies a raw signature over `msg`.
    pub fn verify_raw(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.0
            .verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        // From the DSSE protocol specification (secure-systems-lab/dsse, protocol.md).
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn a_signed_envelope_verifies_and_a_changed_payload_does_not() {
        let key = SigningKey::from_seed([7; 32]);
        let env = Envelope::sign("application/vnd.in-toto+json", b"{}", &key);
        let bytes = serde_json::to_vec(&env).expect("serialise");
        let parsed = Envelope::parse(&bytes).expect("parse");
        assert_eq!(parsed.verify(&key.verifying_key()), Ok(()));

        let mut tampered = parsed.clone();
        tampered.payload = b"{ }".to_vec();
        assert!(tampered.verify(&key.verifying_key()).is_err());

        let other = SigningKey::from_seed([8; 32]);
        assert!(parsed.verify(&other.verifying_key()).is_err());
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = SigningKey::from_seed([9; 32]);
        let again = SigningKey::from_pem(&key.to_pem()).expect("pem");
        assert_eq!(again.key_id(), key.key_id());
        let public = VerifyingKey::parse(&key.verifying_key().to_pem()).expect("spki");
        assert_eq!(public, key.verifying_key());
        let public = VerifyingKey::parse(&key.verifying_key().to_base64()).expect("b64");
        assert_eq!(public, key.verifying_key());
    }

    #[test]
    fn unsigned_and_malformed_envelopes_are_rejected_with_a_reason() {
        let unsigned = br#"{"payload":"e30=","payloadType":"x","signatures":[]}"#;
        assert_eq!(Envelope::parse(unsigned).err(), Some(DomainError::Unsigned));
        let short_sig =
            br#"{"payload":"e30=","payloadType":"x","signatures":[{"keyid":"k","sig":"AAAA"}]}"#;
        assert!(matches!(
            Envelope::parse(short_sig),
            Err(DomainError::MalformedEnvelope(_))
        ));
        assert!(matches!(
            Envelope::parse(b"not json"),
            Err(DomainError::MalformedEnvelope(_))
        ));
    }
}
