//! Public keys of signers, in the forms pipelines already hold them: PEM SubjectPublicKeyInfo
//! (`openssl pkey -pubout`, cosign's `cosign.pub`, pyca/cryptography, securesystemslib),
//! PEM PKCS#1 RSA keys, OpenSSH public keys, and 32 raw Ed25519 bytes in base64.
//!
//! The algorithms are Ed25519, ECDSA on P-256 and P-384, and RSA of 2,048 to 8,192 bits
//! (PKCS#1 v1.5 and PSS). Every key is kept as its DER SubjectPublicKeyInfo; the curve and
//! RSA arithmetic are ring's and ed25519-dalek's.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::asn1::{AnyRef, BitString, UintRef};
use der::{Decode as _, Encode as _};
use ring::signature as sig;
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};

use crate::{DomainError, KeyId};

/// Object identifiers of the key algorithms and curves Andon reads.
pub(crate) mod oid {
    use spki::ObjectIdentifier;
    /// id-Ed25519 (RFC 8410).
    pub const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    /// id-ecPublicKey (RFC 5480).
    pub const EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1 (P-256).
    pub const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 (P-384).
    pub const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    /// rsaEncryption (RFC 8017).
    pub const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    /// id-RSASSA-PSS: an RSA key restricted to PSS signatures.
    pub const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
}

/// The signature algorithm family of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), strict verification.
    Ed25519,
    /// ECDSA on P-256 with SHA-256 (cosign's default).
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA, PKCS#1 v1.5 or PSS, with SHA-256, SHA-384 or SHA-512.
    Rsa,
    /// RSA restricted to PSS signatures (id-RSASSA-PSS keys).
    RsaPss,
}

impl Algorithm {
    /// The name the API and the CLI show.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
            Algorithm::EcdsaP384 => "ecdsa-p384",
            Algorithm::Rsa => "rsa",
            Algorithm::RsaPss => "rsa-pss",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signer's public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    algorithm: Algorithm,
    /// The DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
    /// The subjectPublicKey bits: 32 Ed25519 bytes, an uncompressed EC point, or a PKCS#1
    /// RSAPublicKey.
    raw: Vec<u8>,
    /// The modulus size of an RSA key, in bits.
    bits: usize,
    /// An Ed25519 key, decompressed once.
    ed25519: Option<ed25519_dalek::VerifyingKey>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.algorithm, self.key_id())
    }
}

/// How to make a key Andon reads, for the messages that refuse another.
pub(crate) const KEY_FORMS: &str = "Andon reads Ed25519, ECDSA P-256/P-384 and RSA (2048 to 8192 bits) public keys as PEM (`-----BEGIN PUBLIC KEY-----`, cosign.pub included), PKCS#1 RSA PEM, OpenSSH (`ssh-ed25519 …`, `ecdsa-sha2-nistp256 …`, `ssh-rsa …`) or 32 raw Ed25519 bytes in base64";

fn malformed(why: impl fmt::Display) -> DomainError {
    DomainError::MalformedKey(format!("{why}; {KEY_FORMS}"))
}

/// An RSA public key as PKCS#1 writes it.
#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    exponent: UintRef<'a>,
}

impl PublicKey {
    /// An Ed25519 key from its 32 raw bytes.
    pub fn ed25519(raw: &[u8; 32]) -> Result<Self, DomainError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(raw)
            .map_err(|e| DomainError::MalformedKey(format!("not an Ed25519 point: {e}")))?;
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid::ED25519,
                parameters: None,
            },
            subject_public_key: BitString::from_bytes(raw).map_err(malformed)?,
        };
        Ok(Self {
            algorithm: Algorithm::Ed25519,
            spki: spki.to_der().map_err(malformed)?,
            raw: raw.to_vec(),
            bits: 256,
            ed25519: Some(key),
        })
    }

    /// Parses a key in any of the forms in the module documentation.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            return Self::from_pem(text);
        }
        if text.starts_with("ssh-") || text.starts_with("ecdsa-sha2-") {
            return Self::from_openssh(text);
        }
        let bytes = STANDARD
            .decode(text)
            .map_err(|e| malformed(format!("not PEM, not OpenSSH and not base64 ({e})")))?;
        match <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(raw) => Self::ed25519(&raw),
            Err(_) => Self::from_spki_der(&bytes),
        }
    }

    fn from_pem(text: &str) -> Result<Self, DomainError> {
        let (label, der) =
            der::pem::decode_vec(text.as_bytes()).map_err(|e| malformed(format!("PEM: {e}")))?;
        match label {
            "PUBLIC KEY" => Self::from_spki_der(&der),
            "RSA PUBLIC KEY" => Self::rsa_from_pkcs1(&der, oid::RSA),
            "CERTIFICATE" => Err(DomainError::MalformedKey(
                "this is a certificate: register its public key (`openssl x509 -in cert.pem -pubkey -noout`)".into(),
            )),
            l if l.contains("PRIVATE KEY") => Err(DomainError::MalformedKey(format!(
                "this is a private key ({l}): register its public half (`openssl pkey -in key.pem -pubout`)"
            ))),
            l => Err(malformed(format!("a PEM {l} is not a public key"))),
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, DomainError> {
        let info =
            spki::SubjectPublicKeyInfo::<AnyRef<'_>, der::asn1::BitStringRef<'_>>::from_der(der)
                .map_err(|e| malformed(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let bits = info
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| malformed("the key bits are not whole bytes"))?;
        let alg = info.algorithm.oid;
        if alg == oid::ED25519 {
            let raw: [u8; 32] = bits
                .try_into()
                .map_err(|_| malformed("an Ed25519 public key is 32 bytes"))?;
            return Self::ed25519(&raw);
        }
        if alg == oid::RSA || alg == oid::RSA_PSS {
            return Self::rsa_from_pkcs1(bits, alg);
        }
        if alg == oid::EC {
            let curve = info
                .algorithm
                .parameters_oid()
                .map_err(|_| malformed("an EC key without its named curve"))?;
            return Self::ec(curve, bits, der.to_vec());
        }
        Err(malformed(format!("unsupported key algorithm {alg}")))
    }

    fn ec(curve: ObjectIdentifier, point: &[u8], spki: Vec<u8>) -> Result<Self, DomainError> {
        let (algorithm, len, name) = if curve == oid::P256 {
            (Algorithm::EcdsaP256, 65, "P-256")
        } else if curve == oid::P384 {
            (Algorithm::EcdsaP384, 97, "P-384")
        } else {
            return Err(malformed(format!(
                "unsupported elliptic curve {curve} (P-256 and P-384 are read)"
            )));
        };
        if point.len() != len || point.first() != Some(&4) {
            return Err(malformed(format!(
                "a {name} public key is an uncompressed point of {len} bytes"
            )));
        }
        Ok(Self {
            algorithm,
            spki,
            raw: point.to_vec(),
            bits: (len - 1) * 4,
            ed25519: None,
        })
    }

    fn rsa_from_pkcs1(pkcs1: &[u8], alg: ObjectIdentifier) -> Result<Self, DomainError> {
        let key = RsaPublicKey::from_der(pkcs1)
            .map_err(|e| malformed(format!("not an RSA public key: {e}")))?;
        let n = key.modulus.as_bytes();
        let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
        if !(2048..=8192).contains(&bits) {
            return Err(DomainError::MalformedKey(format!(
                "an RSA key of {bits} bits: Andon reads RSA keys of 2048 to 8192 bits"
            )));
        }
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: alg,
                parameters: (alg == oid::RSA).then(der::asn1::Any::null),
            },
            subject_public_key: BitString::from_bytes(pkcs1).map_err(malformed)?,
        };
        Ok(Self {
            algorithm: if alg == oid::RSA {
                Algorithm::Rsa
            } else {
                Algorithm::RsaPss
            },
            spki: spki.to_der().map_err(malformed)?,
            raw: pkcs1.to_vec(),
            bits,
            ed25519: None,
        })
    }

    fn from_openssh(text: &str) -> Result<Self, DomainError> {
        use ssh_key::public::{EcdsaPublicKey, KeyData};
        let key = ssh_key::PublicKey::from_openssh(text)
            .map_err(|e| malformed(format!("OpenSSH public key: {e}")))?;
        match key.key_data() {
            KeyData::Ed25519(k) => Self::ed25519(&k.0),
            KeyData::Ecdsa(EcdsaPublicKey::NistP256(p)) => Self::ec_point(oid::P256, p.as_bytes()),
            KeyData::Ecdsa(EcdsaPublicKey::NistP384(p)) => Self::ec_point(oid::P384, p.as_bytes()),
            KeyData::Rsa(k) => {
                let n = k.n.as_positive_bytes();
                let e = k.e.as_positive_bytes();
                let (Some(n), Some(e)) = (n, e) else {
                    return Err(malformed("an RSA key with a negative modulus or exponent"));
                };
                let pkcs1 = RsaPublicKey {
                    modulus: UintRef::new(n).map_err(malformed)?,
                    exponent: UintRef::new(e).map_err(malformed)?,
                }
                .to_der()
                .map_err(malformed)?;
                Self::rsa_from_pkcs1(&pkcs1, oid::RSA)
            }
            other => Err(malformed(format!(
                "unsupported OpenSSH key type {}",
                other.algorithm()
            ))),
        }
    }

    /// An ECDSA key from its curve and uncompressed point.
    pub(crate) fn ec_point(curve: ObjectIdentifier, point: &[u8]) -> Result<Self, DomainError> {
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: oid::EC,
                parameters: Some(der::asn1::Any::from(curve)),
            },
            subject_public_key: BitString::from_bytes(point).map_err(malformed)?,
        };
        Self::ec(curve, point, spki.to_der().map_err(malformed)?)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key size in bits (the curve's for ECDSA and Ed25519, the modulus's for RSA).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Whether `other` is the same key material in another wrapping: an RSA modulus and
    /// exponent registered once as `rsaEncryption` and once as `id-RSASSA-PSS` have two key
    /// ids but verify the same signatures.
    pub fn same_material(&self, other: &PublicKey) -> bool {
        self.raw == other.raw
    }

    /// The 32 raw bytes of an Ed25519 key.
    pub fn ed25519_bytes(&self) -> Option<[u8; 32]> {
        match self.algorithm {
            Algorithm::Ed25519 => self.raw.as_slice().try_into().ok(),
            _ => None,
        }
    }

    /// The key as PEM SubjectPublicKeyInfo.
    pub fn to_pem(&self) -> String {
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, &self.spki)
            .unwrap_or_default()
    }

    /// The form the ledger records: 32 raw bytes in base64 for Ed25519 (as Andon always
    /// recorded them), PEM SubjectPublicKeyInfo for the others. [`PublicKey::parse`] reads
    /// both.
    pub fn to_ledger_text(&self) -> String {
        match self.algorithm {
            Algorithm::Ed25519 => STANDARD.encode(&self.raw),
            _ => self.to_pem(),
        }
    }

    /// Andon's id of this key: the lowercase hex SHA-256 of the 32 raw bytes of an Ed25519
    /// key, and of the DER SubjectPublicKeyInfo of any other key.
    pub fn key_id(&self) -> KeyId {
        match self.algorithm {
            Algorithm::Ed25519 => KeyId::of_bytes(&self.raw),
            _ => KeyId::of_bytes(&self.spki),
        }
    }

    /// Whether `signature` is this key's signature over `msg`. Ed25519 is verified strictly;
    /// ECDSA signatures are read as DER (as cosign, OpenSSL and securesystemslib write them)
    /// or as fixed-width r‖s; an RSA key accepts PKCS#1 v1.5 and PSS with SHA-256, SHA-384
    /// or SHA-512 (an RSA-PSS key, PSS only).
    pub fn verify(&self, msg: &[u8], signature: &[u8]) -> bool {
        let with = |alg: &'static dyn sig::VerificationAlgorithm| {
            sig::UnparsedPublicKey::new(alg, &self.raw)
                .verify(msg, signature)
                .is_ok()
        };
        match self.algorithm {
            Algorithm::Ed25519 => self.verify_ed25519(msg, signature),
            Algorithm::EcdsaP256 => {
                with(&sig::ECDSA_P256_SHA256_ASN1)
                    || (signature.len() == 64 && with(&sig::ECDSA_P256_SHA256_FIXED))
            }
            Algorithm::EcdsaP384 => {
                with(&sig::ECDSA_P384_SHA384_ASN1)
                    || (signature.len() == 96 && with(&sig::ECDSA_P384_SHA384_FIXED))
            }
            Algorithm::Rsa => {
                with(&sig::RSA_PKCS1_2048_8192_SHA256)
                    || with(&sig::RSA_PSS_2048_8192_SHA256)
                    || with(&sig::RSA_PKCS1_2048_8192_SHA384)
                    || with(&sig::RSA_PSS_2048_8192_SHA384)
                    || with(&sig::RSA_PKCS1_2048_8192_SHA512)
                    || with(&sig::RSA_PSS_2048_8192_SHA512)
            }
            Algorithm::RsaPss => {
                with(&sig::RSA_PSS_2048_8192_SHA256)
                    || with(&sig::RSA_PSS_2048_8192_SHA384)
                    || with(&sig::RSA_PSS_2048_8192_SHA512)
            }
        }
    }

    fn verify_ed25519(&self, msg: &[u8], signature: &[u8]) -> bool {
        let (Some(key), Ok(s)) = (&self.ed25519, <[u8; 64]>::try_from(signature)) else {
            return false;
        };
        key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&s))
            .is_ok()
    }
}
