//! Checks and conversions of request input that every operation shares: ids, free text,
//! environment names, times.

use crate::AppError;

/// The longest free text (comments, notes) accepted.
pub const MAX_TEXT: usize = 4000;

/// A fresh id: `prefix-` and 12 random hex digits.
pub fn random_id(prefix: &str) -> Result<String, AppError> {
    let mut raw = [0u8; 6];
    getrandom::fill(&mut raw).map_err(|e| AppError::unavailable(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}-{}", hex::encode(raw)))
}

/// An RFC 3339 time as Unix ms (`now` when absent), or `invalid_time` naming `what`.
pub fn parse_time(s: Option<&str>, what: &str, now: i64) -> Result<i64, AppError> {
    match s {
        None => Ok(now),
        Some(t) => t
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|e| {
                AppError::bad_request("invalid_time", format!("{what} {t:?} is not RFC 3339: {e}"))
            }),
    }
}

/// Refuses free text longer than [`MAX_TEXT`] (`invalid_text`).
pub fn check_text(s: &str, what: &str) -> Result<(), AppError> {
    if s.len() > MAX_TEXT {
        return Err(AppError::bad_request(
            "invalid_text",
            format!("{what} is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

/// Whether an environment is production when the request does not say.
pub fn is_production(environment: &str) -> bool {
    environment.starts_with("prod")
}

/// A Unix-millisecond time as RFC 3339, when there is one.
pub fn rfc3339(ms: Option<i64>) -> Option<String> {
    ms.and_then(|m| jiff::Timestamp::from_millisecond(m).ok())
        .map(|t| t.to_string())
}

/// Refuses an environment name that is not 1 to 64 letters, digits, `-`, `_` or `.`.
pub fn check_environment(env: &str) -> Result<(), AppError> {
    let ok = !env.is_empty()
        && env.len() <= 64
        && env
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "invalid_environment",
            format!("environment {env:?} must be 1 to 64 letters, digits, '-', '_' or '.'"),
        ))
    }
}

/// A time as RFC 3339, or a date (midnight UTC).
pub fn instant(s: &str) -> Result<i64, AppError> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    s.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().as_millisecond())
        .ok_or_else(|| {
            AppError::bad_request(
                "invalid_time",
                format!("{s:?} is neither an RFC 3339 time nor a date (YYYY-MM-DD)"),
            )
        })
}

/// A query's RFC 3339 time as Unix ms, or a 400 naming the field.
pub fn query_time(field: &str, v: &Option<String>) -> Result<Option<i64>, AppError> {
    v.as_deref()
        .map(|s| {
            s.parse::<jiff::Timestamp>()
                .map(|t| t.as_millisecond())
                .map_err(|e| {
                    AppError::bad_request(
                        "bad_query",
                        format!("{field} is not an RFC 3339 time: {e}"),
                    )
                })
        })
        .transpose()
}
