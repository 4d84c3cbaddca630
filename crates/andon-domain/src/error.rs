//! The domain's error type.

/// Why a value was rejected at the boundary. Each variant names what was wrong in words a
/// pipeline author can act on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// A digest was not `sha256:` followed by 64 lowercase hex characters.
    #[error("malformed digest {0:?}: expected sha256:<64 lowercase hex characters>")]
    MalformedDigest(String),
    /// An artifact reference was not `<name>@sha256:<hex>`.
    #[error("malformed artifact reference {0:?}: expected <name>@sha256:<64 hex>")]
    MalformedArtifact(String),
    /// A name (application, identity) broke the naming rule.
    #[error(
        "invalid {what} {value:?}: use 1 to 64 characters of a-z, 0-9, '-', '_' or '.', starting with a letter or digit"
    )]
    InvalidName {
        /// Which kind of name.
        what: &'static str,
        /// The rejected value.
        value: String,
    },
    /// A role name that Andon does not know.
    #[error("unknown role {0:?}: expected admin, pipeline, approver or auditor")]
    UnknownRole(String),
    /// The envelope was not valid DSSE JSON.
    #[error("malformed DSSE envelope: {0}")]
    MalformedEnvelope(String),
    /// The envelope carried no signature.
    #[error("the DSSE envelope has no signature")]
    Unsigned,
    /// The envelope's signature does not verify with the named key.
    #[error("signature by key {0} does not verify")]
    BadSignature(String),
    /// The payload was not an in-toto Statement v1.
    #[error("malformed in-toto statement: {0}")]
    MalformedStatement(String),
    /// A public key Andon cannot read or use.
    #[error("not a usable public key: {0}")]
    MalformedKey(String),
    /// A Sigstore trusted root could not be read.
    #[error("malformed Sigstore trusted root: {0}")]
    MalformedTrustedRoot(String),
    /// A Sigstore bundle failed one of its checks.
    #[error("the Sigstore bundle fails its {check} check: {why}")]
    BundleRefused {
        /// The check: `certificate`, `sct`, `transparency_log`, `timestamp`, `signature`,
        /// `identity`, `subject`, `bundle` or `trusted_root`.
        check: &'static str,
        /// Why, as the verifier says.
        why: String,
    },
    /// A keyless signing policy was malformed.
    #[error("malformed keyless policy: {0}")]
    MalformedPolicy(String),
}
