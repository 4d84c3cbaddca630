//! One mapping from every error to an HTTP status and a JSON body.

use andon_domain::DomainError;
use andon_domain::api::{ErrorBody, ErrorDetail};
use andon_store::StoreError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error as the API reports it.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code.
    pub code: &'static str,
    /// Sentence for people.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn bad_request(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, m)
    }
    pub(crate) fn forbidden(code: &'static str, m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, m)
    }
    pub(crate) fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub(crate) fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", m)
    }
    pub(crate) fn unavailable(m: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m)
    }
    /// Overload: the caller should come back (429 with `Retry-After: 1`).
    pub(crate) fn busy(m: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "too_busy", m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::SERVICE_UNAVAILABLE
        {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        match e.failure() {
            andon_store::Failure::Unavailable => ApiError::unavailable(
                "the database is unavailable (restarting or unreachable); nothing was recorded, retry later",
            ),
            andon_store::Failure::Full => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage_full",
                "the database's disk is full; nothing was recorded",
            ),
            andon_store::Failure::ReadOnly => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_read_only",
                "the database may not be written (read-only file, directory or server); nothing was recorded",
            ),
            andon_store::Failure::Other => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "storage_error",
                "the database failed; nothing was recorded",
            ),
        }
    }
}

impl From<DomainError> for ApiError {
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
            DomainError::MalformedStatement(m) if m.contains("sha256") => "malformed_digest",
            DomainError::MalformedStatement(_) => "malformed_statement",
            DomainError::MalformedKey(_) => "malformed_key",
        };
        ApiError::bad_request(code, e.to_string())
    }
}
