//! DSSE envelopes (Dead Simple Signing Envelope, v1.0) and the Ed25519 keys Andon makes.
//!
//! The signature covers the pre-authentication encoding (PAE) of the payload type and the
//! payload bytes, never the JSON around them, so re-serialising an envelope cannot change
//! what was signed. As the DSSE specification allows, a signature's `keyid` is optional and
//! only a hint: [`VerifiedEnvelope::check_signatures`] tries the key it names first, then
//! every other candidate key.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{Signer as _, pkcs8::spki::der::pem::LineEnding};
use serde::{Deserialize, Serialize};

use crate::keys::{PublicKey, Signer};
use crate::{DomainError, KeyId};

/// The longest keyid hint accepted (tools write hex digests, 64 to 128 characters); the
/// hints of signatures nothing verifies are recorded in the ledger as given.
pub const MAX_KEYID_BYTES: usize = 256;

/// The most key trials one envelope's signatures get (a trial: one signature against one
/// candidate key); the signatures left untried when they run out count as unverified.
pub const MAX_TRIALS: usize = 128;

/// The most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 16;

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
    /// A hint naming the signing key, in any form (optional in DSSE; empty when absent).
    #[serde(default)]
    pub keyid: String,
    /// The signature, standard base64.
    pub sig: String,
}

/// An envelope whose structure was checked and whose payload was decoded. Its signatures are
/// not yet verified: that needs the signers' registered keys, see
/// [`VerifiedEnvelope::check_signatures`].
#[derive(Clone, Debug)]
pub struct VerifiedEnvelope {
    /// The payload type.
    pub payload_type: String,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// The decoded signatures: the keyid hint as given and the signature bytes.
    pub signatures: Vec<(String, Vec<u8>)>,
}

/// What [`VerifiedEnvelope::check_signatures`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The distinct candidate keys with a valid signature, in signature order.
    pub verified: Vec<KeyId>,
    /// The keyid hints (as given, empty when absent) of the signatures no candidate key
    /// verifies.
    pub unverified: Vec<String>,
    /// Their positions in the envelope, for [`VerifiedEnvelope::recheck`].
    pub unverified_at: Vec<usize>,
}

/// The parts of a Sigstore bundle that carry its statement.
#[derive(Deserialize)]
struct BundleContent {
    #[serde(rename = "mediaType")]
    media_type: String,
    #[serde(rename = "dsseEnvelope")]
    dsse_envelope: Option<Envelope>,
}

/// The DSSE envelope inside a Sigstore bundle; `None` when `bytes` is no bundle.
fn bundle_envelope(bytes: &[u8]) -> Result<Option<Envelope>, DomainError> {
    let Ok(b) = serde_json::from_slice::<BundleContent>(bytes) else {
        return Ok(None);
    };
    if !b.media_type.starts_with(crate::sigstore::BUNDLE_MEDIA_TYPE) {
        return Ok(None);
    }
    b.dsse_envelope.map(Some).ok_or_else(|| {
        DomainError::MalformedEnvelope(
            "this Sigstore bundle signs an artifact directly (a message signature) and carries no in-toto statement".into(),
        )
    })
}

impl Envelope {
    /// Parses an envelope from JSON bytes and decodes its payload and signatures. A Sigstore
    /// bundle of an attestation gives its DSSE envelope (its certificate and log entry are
    /// checked by [`crate::sigstore::verify_bundle`]).
    pub fn parse(bytes: &[u8]) -> Result<VerifiedEnvelope, DomainError> {
        let env: Envelope = match serde_json::from_slice(bytes) {
            Ok(env) => env,
            Err(e) => match bundle_envelope(bytes)? {
                Some(env) => env,
                None => return Err(DomainError::MalformedEnvelope(e.to_string())),
            },
        };
        let payload = STANDARD
            .decode(env.payload.as_bytes())
            .map_err(|e| DomainError::MalformedEnvelope(format!("payload is not base64: {e}")))?;
        if env.signatures.is_empty() {
            return Err(DomainError::Unsigned);
        }
        if env.signatures.len() > MAX_SIGNATURES {
            return Err(DomainError::MalformedEnvelope(format!(
                "an envelope carries at most {MAX_SIGNATURES} signatures, not {}",
                env.signatures.len()
            )));
        }
        let mut signatures = Vec::with_capacity(env.signatures.len());
        for s in &env.signatures {
            let raw = STANDARD.decode(s.sig.as_bytes()).map_err(|e| {
                DomainError::MalformedEnvelope(format!("signature is not base64: {e}"))
            })?;
            if raw.is_empty() || raw.len() > 1024 {
                return Err(DomainError::MalformedEnvelope(
                    "a signature is 1 to 1,024 bytes".into(),
                ));
            }
            if s.keyid.len() > MAX_KEYID_BYTES || s.keyid.chars().any(char::is_control) {
                return Err(DomainError::MalformedEnvelope(format!(
                    "a signature's keyid is at most {MAX_KEYID_BYTES} bytes, without control characters"
                )));
            }
            signatures.push((s.keyid.clone(), raw));
        }
        Ok(VerifiedEnvelope {
            payload_type: env.payload_type,
            payload,
            signatures,
        })
    }

    /// Signs `payload` with `key`, naming the key by its [`KeyId`].
    pub fn sign(payload_type: &str, payload: &[u8], key: &impl Signer) -> Envelope {
        Self::sign_by(payload_type, payload, &[key])
    }

    /// An envelope over `payload` signed by each of `keys` in turn, each signature naming its
    /// key's id: for an application whose threshold asks for more than one.
    pub fn sign_by(payload_type: &str, payload: &[u8], keys: &[&dyn Signer]) -> Envelope {
        let message = pae(payload_type, payload);
        Envelope {
            payload: STANDARD.encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: keys
                .iter()
                .map(|key| EnvelopeSignature {
                    keyid: key.key_id().to_string(),
                    sig: STANDARD.encode(key.sign_message(&message)),
                })
                .collect(),
        }
    }
}

impl VerifiedEnvelope {
    /// The keyid hints of the signatures, in order (empty where absent).
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.signatures.iter().map(|(k, _)| k.as_str())
    }

    /// Checks every signature against `keys`: the key whose [`KeyId`] equals the signature's
    /// keyid hint is tried first, then every other key, so a signature verifies whatever
    /// keyid form its tool wrote, or none. A key counts once however many of its signatures
    /// the envelope carries.
    pub fn check_signatures(&self, keys: &[(KeyId, PublicKey)]) -> SignatureCheck {
        let all: Vec<usize> = (0..self.signatures.len()).collect();
        self.check_some(&all, keys, SignatureCheck::default())
    }

    /// Tries the signatures `earlier` left unverified against `keys` (a wider set of
    /// candidates), keeping what `earlier` verified: the signatures already verified are
    /// not verified again.
    pub fn recheck(&self, earlier: SignatureCheck, keys: &[(KeyId, PublicKey)]) -> SignatureCheck {
        let which = earlier.unverified_at;
        let start = SignatureCheck {
            verified: earlier.verified,
            ..SignatureCheck::default()
        };
        self.check_some(&which, keys, start)
    }

    /// Checks the signatures at `which`: keys not yet counted first (the one the hint names
    /// leading), then the counted ones, within [`MAX_TRIALS`] for the envelope. A signature
    /// identical to an earlier one adds nothing.
    fn check_some(
        &self,
        which: &[usize],
        keys: &[(KeyId, PublicKey)],
        mut out: SignatureCheck,
    ) -> SignatureCheck {
        let message = pae(&self.payload_type, &self.payload);
        let mut trials = 0;
        for &i in which {
            let Some((hint, sig)) = self.signatures.get(i) else {
                continue;
            };
            if self.signatures[..i].iter().any(|(_, s)| s == sig) {
                continue;
            }
            let counted = |id: &KeyId| out.verified.contains(id);
            let mut order: Vec<&(KeyId, PublicKey)> = keys.iter().collect();
            order.sort_by_key(|k| (counted(&k.0), k.0.as_str() != hint));
            let mut found = None;
            for (id, key) in order {
                if trials >= MAX_TRIALS {
                    break;
                }
                trials += 1;
                if key.verify(&message, sig) {
                    found = Some(id.clone());
                    break;
                }
            }
            match found {
                Some(id) if !out.verified.contains(&id) => out.verified.push(id),
                Some(_) => {}
                None => {
                    out.unverified.push(hint.clone());
                    out.unverified_at.push(i);
                }
            }
        }
        out
    }

    /// Verifies that `key` made one of the signatures (strict Ed25519 verification: no
    /// malleable or small-order signatures).
    pub fn verify(&self, key: &PublicKey) -> Result<(), DomainError> {
        let id = key.key_id();
        let check = self.check_signatures(&[(id.clone(), key.clone())]);
        if check.verified.is_empty() {
            return Err(DomainError::BadSignature(id.to_string()));
        }
        Ok(())
    }
}

/// An Ed25519 private key: the log's own key, or a pipeline's.
#[derive(Clone)]
pub struct SigningKey(ed25519_dalek::SigningKey);

impl SigningKey {
    /// A key from a 32-byte seed (the caller supplies the randomness).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Reads a PKCS#8 PEM private key (version 1 or 2), as written by `andon keygen` or
    /// `openssl genpkey -algorithm ed25519`.
    pub fn from_pem(pem: &str) -> Result<Self, DomainError> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|e| not_ed25519(pem, e.to_string()))
    }

    /// The key as PKCS#8 PEM version 1 (RFC 8410 without the public key), the form OpenSSL
    /// 3.0 and pyca/cryptography read.
    pub fn to_pem(&self) -> String {
        KeypairBytes {
            secret_key: self.0.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(LineEnding::LF)
        .map(|z| z.to_string())
        .unwrap_or_default()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::ed25519(&self.0.verifying_key().to_bytes())
            .expect("an Ed25519 signing key's public key is a valid point")
    }

    /// The 32 raw bytes of the matching public key.
    pub fn public_bytes(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// The key id of the matching public key.
    pub fn key_id(&self) -> KeyId {
        KeyId::of_bytes(&self.public_bytes())
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
const MAKE_ONE: &str = "the log key and `andon keygen` keys are Ed25519 (PKCS#8 PEM); make a pair with `andon keygen`, or `openssl genpkey -algorithm ed25519 -out key.pem`";

/// The refusal of a key that did not read as Ed25519: what it is when it is a kind people
/// commonly have (RSA, ECDSA, an OpenSSH key), with what is accepted and how to make one.
fn not_ed25519(text: &str, why: String) -> DomainError {
    let t = text.trim_start();
    // Object identifiers of the SPKI / PKCS#8 algorithms, as the reader names them.
    let kind = if t.starts_with("-----BEGIN RSA") || why.contains("1.2.840.113549.1.1.1") {
        Some("an RSA key")
    } else if t.starts_with("-----BEGIN EC") || why.contains("1.2.840.10045.2.1") {
        Some("an ECDSA (EC) key")
    } else if t.starts_with("-----BEGIN OPENSSH") {
        Some("an OpenSSH private key")
    } else {
        None
    };
    DomainError::MalformedKey(match kind {
        Some(k) => format!("this is {k}, not an Ed25519 key: {MAKE_ONE}"),
        None => format!("{why}; {MAKE_ONE}"),
    })
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
        assert_eq!(parsed.verify(&key.public_key()), Ok(()));

        let mut tampered = parsed.clone();
        tampered.payload = b"{ }".to_vec();
        assert!(tampered.verify(&key.public_key()).is_err());

        let other = SigningKey::from_seed([8; 32]);
        assert!(parsed.verify(&other.public_key()).is_err());
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = SigningKey::from_seed([9; 32]);
        let again = SigningKey::from_pem(&key.to_pem()).expect("pem");
        assert_eq!(again.key_id(), key.key_id());
        let public = PublicKey::parse(&key.public_key().to_pem()).expect("spki");
        assert_eq!(public, key.public_key());
        let public = PublicKey::parse(&key.public_key().to_ledger_text()).expect("b64");
        assert_eq!(public, key.public_key());
    }

    #[test]
    fn unsigned_and_malformed_envelopes_are_rejected_with_a_reason() {
        let unsigned = br#"{"payload":"e30=","payloadType":"x","signatures":[]}"#;
        assert_eq!(Envelope::parse(unsigned).err(), Some(DomainError::Unsigned));
        let short_sig =
            br#"{"payload":"e30=","payloadType":"x","signatures":[{"keyid":"k","sig":""}]}"#;
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
