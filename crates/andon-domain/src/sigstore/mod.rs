//! Sigstore bundles, verified offline.
//!
//! A bundle (`application/vnd.dev.sigstore.bundle…`, versions 0.1 to 0.3) carries a DSSE
//! envelope with what proves who signed it: a short-lived Fulcio certificate bound to an OIDC
//! identity, the Rekor entry that logged the signature (an inclusion proof against a signed
//! checkpoint, or a signed entry timestamp) and, in the certificate, the certificate
//! transparency log's timestamp. [`TrustedRoot`] holds one Sigstore trusted root
//! (`trusted_root.json`, as Sigstore's TUF repository distributes it); [`verify_bundle`]
//! checks a bundle against a set of them, all of it, with no network: the chain to Fulcio at
//! the time the log proves, the SCT, the inclusion proof and checkpoint (or the promise), and
//! the signature with the certificate's key. The verifier is the Sigstore project's own Rust
//! implementation (`sigstore-verify`), with aws-lc-rs underneath.

mod identity;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sigstore_verify::types::{
    Artifact, ArtifactDigest, Bundle, HashAlgorithm, SignatureContent, VerificationMaterialContent,
};
use sigstore_verify::{CertificateError, Error, VerificationPolicy, Verifier};

pub use identity::{IdentityRule, KeylessPolicy, MAX_IDENTITY_RULES};

use crate::{DomainError, KeyId, Sha256Digest};

/// What every Sigstore bundle's media type starts with.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle";

/// The largest trusted root Andon reads (the public-good instance's is about 10 KB).
pub const MAX_TRUSTED_ROOT_BYTES: usize = 1 << 20;

#[derive(Deserialize)]
struct MediaTypeOnly {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
}

/// Whether `json` is a Sigstore bundle (a JSON object whose `mediaType` is a bundle's). A
/// DSSE envelope has no `mediaType` key, so most documents are told apart without parsing.
pub fn is_bundle(json: &[u8]) -> bool {
    json.windows(11).any(|w| w == b"\"mediaType\"")
        && serde_json::from_slice::<MediaTypeOnly>(json)
            .ok()
            .and_then(|m| m.media_type)
            .is_some_and(|m| m.starts_with(BUNDLE_MEDIA_TYPE))
}

/// What a submitted document is, as intake routes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// A DSSE envelope, or a bundle with a key hint (its envelope checked against the
    /// registered keys).
    Keyed,
    /// A bundle signed by a certificate; with the digest it signs when it is a message
    /// signature rather than an attestation.
    Keyless(Option<crate::SubjectDigest>),
}

/// Reads what `json` is, parsing a bundle once.
pub fn classify(json: &[u8]) -> Result<Submitted, DomainError> {
    let Some(bundle) = std::str::from_utf8(json)
        .ok()
        .filter(|_| is_bundle(json))
        .and_then(|s| Bundle::from_json(s).ok())
    else {
        return Ok(Submitted::Keyed);
    };
    let keyless = !matches!(
        bundle.verification_material.content,
        VerificationMaterialContent::PublicKey(_)
    );
    let digest = match &bundle.content {
        SignatureContent::MessageSignature(m) => Some(message_digest(m)?),
        _ => None,
    };
    Ok(match (keyless, digest) {
        (true, d) => Submitted::Keyless(d),
        (false, None) => Submitted::Keyed,
        (false, Some(_)) => {
            return Err(DomainError::BundleRefused {
                check: "bundle",
                why: "a message signature made with a key (not a certificate) is not read: sign a statement about the artifact instead".into(),
            });
        }
    })
}

/// The predicate type Andon records a message-signature bundle under: it signs an artifact
/// (a wheel, a tarball) rather than a statement about one.
pub const MESSAGE_SIGNATURE_PREDICATE: &str =
    "https://andon.dev/attestations/sigstore-message-signature/v1";

/// The artifact digest a message-signature bundle signs; `None` for a bundle of an
/// attestation (a DSSE envelope) or anything that is no bundle.
pub fn signed_digest(json: &[u8]) -> Result<Option<crate::SubjectDigest>, DomainError> {
    let Some(bundle) = std::str::from_utf8(json)
        .ok()
        .filter(|_| is_bundle(json))
        .and_then(|s| Bundle::from_json(s).ok())
    else {
        return Ok(None);
    };
    match &bundle.content {
        SignatureContent::MessageSignature(m) => message_digest(m).map(Some),
        _ => Ok(None),
    }
}

fn message_digest(
    m: &sigstore_verify::types::MessageSignature,
) -> Result<crate::SubjectDigest, DomainError> {
    let refuse = |why: &str| DomainError::BundleRefused {
        check: "bundle",
        why: why.to_owned(),
    };
    let digest = m
        .message_digest
        .as_ref()
        .ok_or_else(|| refuse("the message signature names no digest of what it signs"))?;
    let algorithm = match digest.algorithm {
        HashAlgorithm::Sha2256 => "sha256",
        HashAlgorithm::Sha2384 => "sha384",
        HashAlgorithm::Sha2512 => "sha512",
        _ => {
            return Err(refuse(
                "the message signature's digest algorithm is not read",
            ));
        }
    };
    crate::SubjectDigest::new(algorithm, &hex::encode(digest.digest.as_ref()))?
        .ok_or_else(|| refuse("the message signature's digest is malformed"))
}

/// One Sigstore trusted root, parsed once, under the name an administrator gave it.
#[derive(Clone)]
pub struct TrustedRoot {
    name: String,
    sha256: Sha256Digest,
    counts: [usize; 4],
    verifier: Arc<Verifier>,
}

impl std::fmt::Debug for TrustedRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustedRoot({}, {})", self.name, self.sha256)
    }
}

impl TrustedRoot {
    /// Reads a `trusted_root.json`: its Fulcio certificate authorities, Rekor logs, CT logs
    /// and timestamp authorities, each checked (a malformed key, certificate or validity
    /// window is refused here, not at the first bundle).
    pub fn parse(name: &str, json: &[u8]) -> Result<Self, DomainError> {
        if json.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(DomainError::MalformedTrustedRoot(format!(
                "a trusted root is at most {MAX_TRUSTED_ROOT_BYTES} bytes"
            )));
        }
        let text = std::str::from_utf8(json)
            .map_err(|e| DomainError::MalformedTrustedRoot(e.to_string()))?;
        let root = sigstore_verify::trust_root::TrustedRoot::from_json(text)
            .map_err(|e| DomainError::MalformedTrustedRoot(e.to_string()))?;
        if root.certificate_authorities.is_empty() || root.tlogs.is_empty() {
            return Err(DomainError::MalformedTrustedRoot(
                "it names no certificate authority or no transparency log".into(),
            ));
        }
        let verifier =
            Verifier::new(&root).map_err(|e| DomainError::MalformedTrustedRoot(e.to_string()))?;
        Ok(Self {
            name: name.to_owned(),
            sha256: Sha256Digest::of(json),
            counts: [
                root.certificate_authorities.len(),
                root.tlogs.len(),
                root.ctlogs.len(),
                root.timestamp_authorities.len(),
            ],
            verifier: Arc::new(verifier),
        })
    }

    /// The name it was registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the document exactly as registered.
    pub fn sha256(&self) -> Sha256Digest {
        self.sha256
    }

    /// How many certificate authorities, Rekor logs, CT logs and timestamp authorities it
    /// holds.
    pub fn counts(&self) -> [usize; 4] {
        self.counts
    }
}

/// Who signed a keyless bundle, as its verified certificate and log entry say.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct KeylessSignature {
    /// The OIDC issuer that vouched for the identity (the certificate's Fulcio issuer
    /// extension), e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    /// The certificate identity (its subject alternative name): for GitHub Actions, the
    /// workflow, e.g. `https://github.com/ORG/REPO/.github/workflows/release.yml@refs/heads/main`.
    pub identity: String,
    /// The trusted root that verified it, by name.
    pub trusted_root: String,
    /// SHA-256 of that trusted root's document.
    #[schemars(with = "String")]
    pub trusted_root_sha256: Sha256Digest,
    /// The Rekor log index of the signature's entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// When Rekor logged it (RFC 3339), as the verified entry proves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<String>,
    /// The certificate's claims about the CI workload that signed (Fulcio's extensions under
    /// 1.3.6.1.4.1.57264.1), by name: `source_repository_uri`, `source_repository_ref`,
    /// `build_config_uri`, `runner_environment`, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
}

/// A bundle that verified: who signed, and the id of the certificate's public key.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The signer, as the certificate and log entry say.
    pub signature: KeylessSignature,
    /// SHA-256 of the certificate's public key (DER SubjectPublicKeyInfo).
    pub key: KeyId,
}

/// Checks `json`, a keyless Sigstore bundle, against each of `roots` until one verifies it;
/// `subject` (algorithm and hex) is one of its statement's subject digests, which binds the
/// check to the statement, or, for a message signature, the digest it signs. With no root verifying, the error
/// names the check that failed (`certificate`, `sct`, `transparency_log`, `timestamp`,
/// `signature`, `identity`, `bundle`) under each root.
pub fn verify_bundle(
    json: &[u8],
    subject: (&str, &str),
    roots: &[TrustedRoot],
) -> Result<Verified, DomainError> {
    let refuse = |check: &'static str, why: String| DomainError::BundleRefused { check, why };
    let text = std::str::from_utf8(json).map_err(|e| refuse("bundle", e.to_string()))?;
    let bundle = Bundle::from_json(text).map_err(|e| refuse("bundle", e.to_string()))?;
    if roots.is_empty() {
        return Err(refuse(
            "trusted_root",
            "no Sigstore trusted root is registered: an administrator adds one with `andon sigstore trusted-root add`".into(),
        ));
    }
    let algorithm = match subject.0 {
        "sha256" => HashAlgorithm::Sha2256,
        "sha384" => HashAlgorithm::Sha2384,
        "sha512" => HashAlgorithm::Sha2512,
        alg => {
            return Err(refuse(
                "subject",
                format!("no subject digest Andon can bind ({alg})"),
            ));
        }
    };
    let artifact = hex::decode(subject.1)
        .map_err(|e| e.to_string())
        .and_then(|bytes| ArtifactDigest::new(algorithm, bytes).map_err(|e| e.to_string()))
        .map_err(|e| refuse("subject", e))?;
    let policy = VerificationPolicy::any_identity();
    let mut failures: Vec<(&'static str, String)> = Vec::new();
    for root in roots {
        match root
            .verifier
            .verify(Artifact::Digest(artifact.clone()), &bundle, &policy)
        {
            Ok(result) => {
                let (Some(identity), Some(issuer)) = (result.identity(), result.issuer()) else {
                    failures.push((
                        "identity",
                        format!(
                            "under {}: the certificate names no identity or issuer",
                            root.name
                        ),
                    ));
                    continue;
                };
                let entry = bundle.verification_material.tlog_entries.first();
                let key = result
                    .certificate()
                    .map(|c| KeyId::of_bytes(c.public_key.as_bytes()))
                    .unwrap_or_else(|| KeyId::of_bytes(json));
                let signature = KeylessSignature {
                    issuer: issuer.to_owned(),
                    identity: identity.to_string(),
                    trusted_root: root.name.clone(),
                    trusted_root_sha256: root.sha256,
                    log_index: entry.map(|e| e.log_index.get()),
                    integrated_time: result.integrated_time().map(|t| t.to_string()),
                    claims: result
                        .certificate()
                        .map(|c| identity::claims(&c.ci_claims))
                        .unwrap_or_default(),
                };
                return Ok(Verified { signature, key });
            }
            Err(e) => failures.push((check_of(&e), format!("under {}: {e}", root.name))),
        }
    }
    let check = failures.first().map(|(c, _)| *c).unwrap_or("bundle");
    Err(refuse(
        check,
        failures
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join("; "),
    ))
}

/// Whether `signature` (DER ECDSA) over `msg` verifies with the DER SubjectPublicKeyInfo
/// `spki` through the verifier's own cryptography (SHA-256 on P-256, SHA-384 on P-384): the
/// raw rate the bundle benchmark compares with.
pub fn backend_verify(spki: &[u8], msg: &[u8], signature: &[u8]) -> bool {
    use sigstore_verify::crypto::VerificationKey;
    use sigstore_verify::types::{DerPublicKey, SignatureBytes};
    VerificationKey::from_spki(&DerPublicKey::new(spki.to_vec()))
        .and_then(|k| k.verify(msg, &SignatureBytes::new(signature.to_vec())))
        .is_ok()
}

/// The check a verification error belongs to.
fn check_of(e: &Error) -> &'static str {
    match e {
        Error::Certificate(CertificateError::Sct(_)) => "sct",
        Error::Certificate(_) | Error::TrustedCertificate(_) => "certificate",
        Error::TransparencyLog(_) => "transparency_log",
        Error::Timestamp(_) => "timestamp",
        Error::SignatureInvalid(_) | Error::Crypto(_) => "signature",
        Error::IdentityMismatch { .. } | Error::IssuerMismatch { .. } => "identity",
        Error::ArtifactMismatch(_) => "subject",
        _ => "bundle",
    }
}
