//! SemVer 2.0 precedence, after the coercion OSV applies to the versions of its SemVer
//! ecosystems (a leading `v` dropped, `1.5` read as `1.5.0`, leading zeros dropped, empty
//! pre-release identifiers kept in place). Build metadata does not take part in precedence
//! (SemVer §11).

use std::cmp::Ordering;

use super::VersionError;

/// A parsed SemVer version, compared by precedence.
#[derive(Clone, Debug)]
pub struct SemVersion(semver::Version);

impl SemVersion {
    /// Parses a version after OSV's coercion.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        semver::Version::parse(&coerce(s.trim()))
            .map(Self)
            .map_err(|e| VersionError::new("SemVer", s, &e.to_string()))
    }
}

impl PartialEq for SemVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SemVersion {}

impl Ord for SemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_precedence(&other.0)
    }
}

impl PartialOrd for SemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Turns a nearly-SemVer version into SemVer the way OSV's index does; anything that does not
/// start with a number (after an optional `v`) is returned unchanged.
pub fn coerce(version: &str) -> String {
    let v = version.strip_prefix('v').unwrap_or(version);
    let mut parts = Vec::with_capacity(3);
    let mut rest = v;
    for k in 0..3 {
        let body = if k == 0 {
            rest
        } else if let Some(r) = rest.strip_prefix('.') {
            r
        } else {
            break;
        };
        let n = body.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            break;
        }
        parts.push(&body[..n]);
        rest = &body[n..];
    }
    if parts.is_empty() {
        return v.to_owned();
    }
    let mut out: Vec<String> = parts.iter().map(|p| strip_zeros(p)).collect();
    out.resize(3, "0".into());
    format!("{}{}", out.join("."), coerce_suffix(rest))
}

fn strip_zeros(digits: &str) -> String {
    let t = digits.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}

/// The pre-release and build parts: numeric pre-release identifiers lose their leading
/// zeros, and empty identifiers become `-`.
fn coerce_suffix(suffix: &str) -> String {
    if suffix.is_empty() {
        return String::new();
    }
    let (pre, build, tail) = match suffix.strip_prefix('-') {
        Some(p) => match p.split_once('+') {
            Some((p, b)) => (Some(p), Some(b), ""),
            None => (Some(p), None, ""),
        },
        None => match suffix.strip_prefix('+') {
            Some(b) => (None, Some(b), ""),
            None => (None, None, suffix),
        },
    };
    let mut out = String::new();
    if let Some(pre) = pre {
        let ids: Vec<String> = pre
            .split('.')
            .map(|c| match c {
                "" => "-".into(),
                c if c.bytes().all(|b| b.is_ascii_digit()) => strip_zeros(c),
                c => c.into(),
            })
            .collect();
        out.push('-');
        out.push_str(&ids.join("."));
    }
    if let Some(build) = build {
        let ids: Vec<&str> = build
            .split('.')
            .map(|c| if c.is_empty() { "-" } else { c })
            .collect();
        out.push('+');
        out.push_str(&ids.join("."));
    }
    out.push_str(tail);
    out
}
