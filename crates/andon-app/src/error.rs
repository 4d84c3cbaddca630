//! One error type for every operation, with the stable codes the API answers; the HTTP
//! layer maps each kind to its status.

use andon_domain::DomainError;
use andon_store::StoreError;

/// What kind of failure an [`AppError`] is; the transport picks its answer from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule of its own.
    BadRequest,
    /// No valid credential.
    Unauthorized,
    /// The caller may not do this.
    Forbidden,
    /// Nothing by that name.
    NotFound,
    /// The state does not allow it (already decided, already exists).
    Conflict,
    /// The body is larger than allowed.
    PayloadTooLarge,
    /// Well-formed, but its content cannot be accepted (a report that does not parse).
    UnprocessableEntity,
    /// Overload or a rate limit: come back later.
    TooManyRequests,
    /// A dependency (the database, the sequencer) is not available.
    ServiceUnavailable,
    /// The database's disk is full.
    InsufficientStorage,
    /// Anything else.
    InternalServerError,
}

/// An error as the application reports it: a kind, a stable machine code, a sentence.
#[derive(Debug, Clone)]
pub struct AppError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// Stable machine code.
    pub code: &'static str,
    /// Sentence for people.
    pub message: String,
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// A new error.
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            message: message.into(),
        }
    }
    /// A malformed request.
    pub fn bad_request(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, code, m)
    }
    /// Not allowed for this caller.
    pub fn forbidden(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, m)
    }
    /// Nothing by that name (`not_found`).
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, "not_found", m)
    }
    /// The state does not allow it (`conflict`).
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, "conflict", m)
    }
    /// A dependency is not available (`unavailable`).
    pub fn unavailable(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::ServiceUnavailable, "unavailable", m)
    }
    /// Overload: the caller should come back (`too_busy`).
    pub fn busy(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooManyRequests, "too_busy", m)
    }
    /// No valid credential (`unauthorized`).
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, "unauthorized", m)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        match e.failure() {
            andon_store::Failure::Unavailable => AppError::unavailable(
                "the database is unavailable (restarting or unreachable); nothing was recorded, retry later",
            ),
            andon_store::Failure::Full => AppError::new(
                ErrorKind::InsufficientStorage,
                "storage_full",
                "the database's disk is full; nothing was recorded",
            ),
            andon_store::Failure::ReadOnly => AppError::new(
                ErrorKind::ServiceUnavailable,
                "storage_read_only",
                "the database may not be written (read-only file, directory or server); nothing was recorded",
            ),
            andon_store::Failure::Other => AppError::new(
                ErrorKind::InternalServerError,
                "storage_error",
                "the database failed; nothing was recorded",
            ),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        let code = match &e {
            DomainError::MalformedDigest(_) | DomainError::MalformedArtifact(_) => {
                "malformed_digest"
            }
            DomainError::InvalidName { .. } => "invalid_name",
            DomainError::UnknownRole(_) => "unknown_role",
            DomainError::MalformedEnvelope(_) => "malformed_envelope",
            DomainError::Unsigned => "unsigned",
            DomainError::BadSignature(_) => "bad_signature",
            DomainError::MalformedStatement(m) if m.contains(" digest") => "malformed_digest",
            DomainError::MalformedStatement(_) => "malformed_statement",
            DomainError::MalformedKey(_) => "malformed_key",
            DomainError::MalformedTrustedRoot(_) => "malformed_trusted_root",
            DomainError::BundleRefused { .. } => "bundle_refused",
            DomainError::MalformedPolicy(_) => "malformed_policy",
        };
        AppError::bad_request(code, e.to_string())
    }
}
