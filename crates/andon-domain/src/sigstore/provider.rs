//! The cryptography under Sigstore verification, done by ring: the verifier's own default
//! backend (aws-lc-rs) would compile a second C library for what ring, already in the
//! build through rustls, does.

use ring::signature::{self as sig, VerificationAlgorithm};
use sha2::Digest;
use sigstore_verify::crypto::provider::{CryptoProvider, HashContext};
use sigstore_verify::crypto::{Error, SigningScheme};
use sigstore_verify::types::HashAlgorithm;
use spki::SubjectPublicKeyInfoRef;
use spki::der::Decode;

/// Verification with ring, hashing with RustCrypto's sha2.
#[derive(Debug)]
pub(super) struct Ring;

pub(super) static RING: Ring = Ring;

/// Makes ring the backend of every Sigstore verification in this process (once; later calls
/// change nothing).
pub(super) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Fails only when a backend is already installed, which is as good.
        let _ = sigstore_verify::crypto::provider::install_default_provider(&RING);
    });
}

struct Hasher<D>(D);

impl<D: Digest + Send + 'static> HashContext for Hasher<D> {
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }

    fn finalize(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn algorithm(scheme: SigningScheme) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match scheme {
        SigningScheme::EcdsaP256Sha256 => &sig::ECDSA_P256_SHA256_ASN1,
        SigningScheme::EcdsaP256Sha384 => &sig::ECDSA_P256_SHA384_ASN1,
        SigningScheme::EcdsaP384Sha256 => &sig::ECDSA_P384_SHA256_ASN1,
        SigningScheme::EcdsaP384Sha384 => &sig::ECDSA_P384_SHA384_ASN1,
        SigningScheme::Ed25519 => &sig::ED25519,
        SigningScheme::RsaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
        SigningScheme::RsaPssSha384 => &sig::RSA_PSS_2048_8192_SHA384,
        SigningScheme::RsaPssSha512 => &sig::RSA_PSS_2048_8192_SHA512,
        SigningScheme::RsaPkcs1Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        SigningScheme::RsaPkcs1Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        SigningScheme::RsaPkcs1Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        _ => return None,
    })
}

impl CryptoProvider for Ring {
    fn hash(&self, algorithm: HashAlgorithm) -> Result<Box<dyn HashContext>, Error> {
        Ok(match algorithm {
            HashAlgorithm::Sha2256 => Box::new(Hasher(sha2::Sha256::new())),
            HashAlgorithm::Sha2384 => Box::new(Hasher(sha2::Sha384::new())),
            HashAlgorithm::Sha2512 => Box::new(Hasher(sha2::Sha512::new())),
            other => {
                return Err(Error::UnsupportedAlgorithm(format!(
                    "{other:?} is not supported"
                )));
            }
        })
    }

    /// `key` is a DER SubjectPublicKeyInfo (the verifier's keys) or the bare subjectPublicKey
    /// bits (a certificate's key, as the chain check hands it over); ring takes the bits.
    fn verify_raw(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let alg = algorithm(scheme)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("{scheme:?} is not supported")))?;
        let spki = SubjectPublicKeyInfoRef::from_der(key).ok();
        let raw = spki
            .as_ref()
            .and_then(|s| s.subject_public_key.as_bytes())
            .unwrap_or(key);
        sig::UnparsedPublicKey::new(alg, raw)
            .verify(data, signature)
            .map_err(|_| Error::Verification(format!("{} signature invalid", scheme.name())))
    }

    /// ring verifies messages, not digests: a message signature over an artifact Andon only
    /// has the digest of cannot be checked here.
    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        _key: &[u8],
        _digest: &[u8],
        _signature: &[u8],
    ) -> Result<(), Error> {
        Err(Error::UnsupportedAlgorithm(format!(
            "{} over a digest alone is not supported",
            scheme.name()
        )))
    }
}
