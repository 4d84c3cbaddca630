//! Private keys a pipeline signs evidence with: Ed25519 or ECDSA (P-256, cosign's default,
//! and P-384), read from and written as unencrypted PKCS#8 PEM version 1, the form OpenSSL
//! 3.0, pyca/cryptography, securesystemslib and `cosign import-key-pair` read.

use std::sync::Arc;

use der::pem::LineEnding;
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{self as sig, KeyPair as _};

use super::public::{Algorithm, PublicKey, oid};
use crate::dsse::SigningKey;
use crate::{DomainError, KeyId};

/// Something that signs DSSE envelopes: names its key and signs bytes.
pub trait Signer {
    /// The id of the matching public key.
    fn key_id(&self) -> KeyId;
    /// A signature over `msg`.
    fn sign_message(&self, msg: &[u8]) -> Vec<u8>;
}

impl Signer for SigningKey {
    fn key_id(&self) -> KeyId {
        SigningKey::key_id(self)
    }
    fn sign_message(&self, msg: &[u8]) -> Vec<u8> {
        self.sign_raw(msg).to_vec()
    }
}

/// The algorithms `andon keygen` makes keys for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA on P-256 with SHA-256, as cosign generates.
    EcdsaP256,
}

/// A pipeline's private signing key.
#[derive(Clone)]
pub enum PrivateKey {
    /// Ed25519.
    Ed25519(Box<SigningKey>),
    /// ECDSA on P-256 or P-384.
    Ecdsa(Arc<EcdsaKey>),
}

/// An ECDSA key pair with the PKCS#8 document it was read from.
pub struct EcdsaKey {
    pair: sig::EcdsaKeyPair,
    pkcs8: Vec<u8>,
    public: PublicKey,
}

const ACCEPTED: &str = "Andon signs with Ed25519 or ECDSA P-256/P-384 keys in unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); make one with `andon keygen --algorithm ecdsa-p256` or `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`";

const RSA_PRIVATE: &str = "this is an RSA private key: Andon verifies RSA signatures but does not sign with RSA; register its public half (`openssl pkey -in key.pem -pubout`)";

fn refuse(why: impl std::fmt::Display) -> DomainError {
    DomainError::MalformedKey(format!("{why}; {ACCEPTED}"))
}

impl PrivateKey {
    /// A new random key.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, DomainError> {
        let rng = SystemRandom::new();
        match algorithm {
            KeyAlgorithm::Ed25519 => {
                let mut seed = [0u8; 32];
                rng.fill(&mut seed)
                    .map_err(|_| DomainError::MalformedKey("no system randomness".into()))?;
                Ok(Self::Ed25519(Box::new(SigningKey::from_seed(seed))))
            }
            KeyAlgorithm::EcdsaP256 => {
                let doc =
                    sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                        .map_err(|_| DomainError::MalformedKey("no system randomness".into()))?;
                Self::ecdsa(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, doc.as_ref())
            }
        }
    }

    /// Reads an unencrypted PKCS#8 PEM private key; other forms are refused saying what they
    /// are and how to convert them.
    pub fn from_pem(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        // The label first: an OpenSSH key's body is not RFC 7468 Base64, and its label alone
        // says what to do instead.
        let label = der::pem::decode_label(text.as_bytes())
            .map_err(|e| refuse(format!("not a PEM private key ({e})")))?;
        match label {
            "PRIVATE KEY" => {}
            "EC PRIVATE KEY" => {
                return Err(refuse(
                    "this is a SEC1 EC key: convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8.pem`",
                ));
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(refuse(
                    "this key is encrypted: decrypt it with `openssl pkcs8 -in key.pem -out plain.pem`",
                ));
            }
            "OPENSSH PRIVATE KEY" => {
                return Err(refuse(
                    "this is an OpenSSH private key: register its public half, the `.pub` file ssh-keygen wrote beside it",
                ));
            }
            "RSA PRIVATE KEY" => return Err(refuse(RSA_PRIVATE)),
            l if l.contains("SIGSTORE") || l.contains("COSIGN") => {
                return Err(refuse(
                    "this is cosign's encrypted key: sign with `cosign attest-blob` and send the envelope with `andon attest envelope --file`, or sign with a PKCS#8 key",
                ));
            }
            l => return Err(refuse(format!("a PEM {l} is not a PKCS#8 private key"))),
        }
        let (_, der) = der::pem::decode_vec(text.as_bytes())
            .map_err(|e| refuse(format!("not a PEM private key ({e})")))?;
        let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice())
            .map_err(|e| refuse(format!("not a PKCS#8 private key ({e})")))?;
        let alg = info.algorithm.oid;
        if alg == oid::ED25519 {
            return SigningKey::from_pem(text).map(|k| Self::Ed25519(Box::new(k)));
        }
        if alg == oid::EC {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| refuse("an EC key without its named curve"))?;
            if curve == oid::P256 {
                return Self::ecdsa(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &der);
            }
            if curve == oid::P384 {
                return Self::ecdsa(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, &der);
            }
            return Err(refuse(format!("unsupported elliptic curve {curve}")));
        }
        if alg == oid::RSA || alg == oid::RSA_PSS {
            return Err(refuse(RSA_PRIVATE));
        }
        Err(refuse(format!("unsupported key algorithm {alg}")))
    }

    fn ecdsa(alg: &'static sig::EcdsaSigningAlgorithm, der: &[u8]) -> Result<Self, DomainError> {
        let pair = sig::EcdsaKeyPair::from_pkcs8(alg, der, &SystemRandom::new())
            .map_err(|e| refuse(format!("unreadable ECDSA key ({e})")))?;
        let curve = if alg == &sig::ECDSA_P256_SHA256_ASN1_SIGNING {
            oid::P256
        } else {
            oid::P384
        };
        let public = PublicKey::ec_point(curve, pair.public_key().as_ref())?;
        Ok(Self::Ecdsa(Arc::new(EcdsaKey {
            pair,
            pkcs8: der.to_vec(),
            public,
        })))
    }

    /// The key as unencrypted PKCS#8 PEM, version 1.
    pub fn to_pem(&self) -> String {
        match self {
            Self::Ed25519(k) => k.to_pem(),
            Self::Ecdsa(k) => {
                der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &k.pkcs8).unwrap_or_default()
            }
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Ed25519(k) => k.public_key(),
            Self::Ecdsa(k) => k.public.clone(),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::Ecdsa(k) => k.public.algorithm(),
        }
    }
}

impl Signer for PrivateKey {
    fn key_id(&self) -> KeyId {
        self.public_key().key_id()
    }

    fn sign_message(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => k.sign_raw(msg).to_vec(),
            // ring signs only with a working system random source; without one there is no
            // safe ECDSA signature to give, and the verifier refuses the empty one.
            Self::Ecdsa(k) => k
                .pair
                .sign(&SystemRandom::new(), msg)
                .map(|s| s.as_ref().to_vec())
                .unwrap_or_default(),
        }
    }
}
