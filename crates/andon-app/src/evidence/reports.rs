//! Reports uploaded on their own: evidence too large to carry inline (an image's SBOM is
//! often tens of megabytes) travels once, as itself, and the signed statement names it by
//! digest and size ([`andon_domain::ReportPredicate::reference`]). Uploads are
//! content-addressed: the body must hash to the digest it is sent under, so a stored report
//! is exactly the bytes some statement may sign; it counts as evidence only once an envelope
//! naming it is accepted.

use andon_domain::api::ReportReceipt;
use andon_domain::{Role, Sha256Digest, StoredReport};

use crate::{Actor, App, AppError, ErrorKind};

fn internal(m: String) -> AppError {
    tracing::error!(error = %m, "report check failed");
    AppError::new(ErrorKind::InternalServerError, "internal", m)
}

/// The bytes with their SHA-256, computed off the async workers (a large report takes a
/// while).
async fn hashed(bytes: Vec<u8>) -> Result<(Vec<u8>, Sha256Digest), AppError> {
    tokio::task::spawn_blocking(move || {
        let d = Sha256Digest::of(&bytes);
        (bytes, d)
    })
    .await
    .map_err(|e| internal(format!("hashing a report: {e}")))
}

/// The digest of a report's URL: `sha256:<64 lowercase hex>`.
pub fn parse_digest(s: &str) -> Result<Sha256Digest, AppError> {
    s.parse::<Sha256Digest>().map_err(|_| {
        AppError::bad_request(
            "malformed_digest",
            format!("{s:?} is not a report digest: sha256:<64 lowercase hex>"),
        )
    })
}

/// Refuses a caller that may not upload reports (only pipelines may), before its body is
/// read.
pub fn check_uploader(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Pipeline])
}

/// A report larger than the server takes (413).
pub fn too_large(size: u64, limit: usize) -> AppError {
    AppError::new(
        ErrorKind::PayloadTooLarge,
        "payload_too_large",
        format!(
            "the report is {size} bytes, over this server's limit of {limit} bytes for reports (andon serve --max-report-bytes)"
        ),
    )
}

/// A report larger than the server takes for its kind (413).
pub fn too_large_for(kind: &str, size: u64, limit: u64) -> AppError {
    AppError::new(
        ErrorKind::PayloadTooLarge,
        "payload_too_large",
        format!(
            "the {kind} report is {size} bytes, over this server's limit of {limit} bytes for {kind} reports (andon serve --report-limit {kind}=SIZE)"
        ),
    )
}

/// `PUT /v1/reports/sha256:<hex>`: stores `content` under its digest, which must be the one
/// it was sent under. Nothing is stored for a body that does not hash to it.
pub async fn upload(
    app: &App,
    actor: &Actor,
    digest: Sha256Digest,
    content: Vec<u8>,
) -> Result<ReportReceipt, AppError> {
    check_uploader(actor)?;
    let limit = app.config().max_report_bytes;
    if content.len() > limit {
        return Err(too_large(content.len() as u64, limit));
    }
    let size = content.len() as u64;
    if app.store().report_size(&digest.hex()).await? == Some(size) {
        return Ok(ReportReceipt {
            digest: digest.to_string(),
            size,
            existing: true,
        });
    }
    let (content, actual) = hashed(content).await?;
    if actual != digest {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "digest_mismatch",
            format!("the body's digest is {actual}, not {digest}: nothing was stored"),
        ));
    }
    let new = app
        .store()
        .put_report(&digest.hex(), content, app.now())
        .await?;
    Ok(ReportReceipt {
        digest: digest.to_string(),
        size,
        existing: !new,
    })
}

/// `GET /v1/reports/sha256:<hex>`: a stored report's bytes, as uploaded.
pub async fn read(app: &App, _actor: &Actor, digest: Sha256Digest) -> Result<Vec<u8>, AppError> {
    app.store()
        .report(&digest.hex())
        .await?
        .ok_or_else(|| AppError::not_found(format!("no report {digest}")))
}

/// The bytes of a report a statement names, checked against the digest and size it signs:
/// refused (422) when it was never uploaded, or when what is stored is not those bytes.
pub(crate) async fn resolve(app: &App, stored: StoredReport) -> Result<Vec<u8>, AppError> {
    let StoredReport { digest, size } = stored;
    let limit = app.config().max_report_bytes;
    if size > limit as u64 {
        return Err(too_large(size, limit));
    }
    let bytes = app.store().report(&digest.hex()).await?.ok_or_else(|| {
        AppError::new(
            ErrorKind::UnprocessableEntity,
            "report_not_uploaded",
            format!(
                "the statement names report {digest}, which was not uploaded: PUT its bytes to /v1/reports/{digest} first (andon attest does)"
            ),
        )
    })?;
    if bytes.len() as u64 != size {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "report_size_mismatch",
            format!(
                "the statement says report {digest} is {size} bytes; it is {}",
                bytes.len()
            ),
        ));
    }
    // The stored row is not trusted: the bytes must still be the ones the statement signs.
    let (bytes, actual) = hashed(bytes).await?;
    if actual != digest {
        return Err(internal(format!(
            "stored report {digest} no longer hashes to its digest (it hashes to {actual}): the database was altered"
        )));
    }
    Ok(bytes)
}
