//! Browser sessions derived from an API token.
//!
//! Signing in with a token sets a cookie `v1.<expiry ms>.<token hash>.<mac>`: the SHA-256
//! of the token (what the database keeps, which is not a credential: a bearer must present
//! the token itself) and an HMAC-SHA-256 over the rest, keyed by a key derived from the log
//! key's seed. Every server of one ledger shares that seed, so a session works on any of
//! them and needs no table; a session ends at its expiry, at sign-out (the cookie is
//! dropped), when its token's identity is gone, or when the log key is rotated.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
//! sends it) and authorizes GET and HEAD only (see `auth`), so a session can read
//! everything its identity may read and change nothing.

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::App;

/// The cookie's name.
pub(crate) const COOKIE: &str = "andon_session";

/// How long a session lasts.
pub(crate) const LIFETIME_MS: i64 = 8 * 3600 * 1000;

fn key(app: &App) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&app.config().log_seed)
        .expect("HMAC takes a key of any length");
    mac.update(b"andon/web-session/v1");
    mac.finalize().into_bytes().to_vec()
}

fn mac(app: &App, body: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&key(app)).expect("HMAC takes a key of any length");
    mac.update(body.as_bytes());
    mac
}

/// A session cookie's value for the token with this hash, valid from `now_ms`.
pub(crate) fn mint(app: &App, token_hash: &str, now_ms: i64) -> String {
    let body = format!("v1.{}.{token_hash}", now_ms + LIFETIME_MS);
    let tag = hex::encode(mac(app, &body).finalize().into_bytes());
    format!("{body}.{tag}")
}

/// The token hash a cookie value stands for, if its MAC verifies and it has not expired.
pub(crate) fn check(app: &App, value: &str, now_ms: i64) -> Option<String> {
    let (body, tag) = value.rsplit_once('.')?;
    let mut parts = body.split('.');
    let (Some("v1"), Some(expiry), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let tag = hex::decode(tag).ok()?;
    // verify_slice compares in constant time.
    mac(app, body).verify_slice(&tag).ok()?;
    (expiry.parse::<i64>().ok()? > now_ms).then(|| hash.to_owned())
}

/// The session cookie's value among a request's cookies.
pub(crate) fn cookie(headers: &HeaderMap) -> Option<&str> {
    named_cookie(headers, COOKIE)
}

/// The token hash of a request's valid session, if it has one.
pub(crate) fn from_headers(app: &App, headers: &HeaderMap) -> Option<String> {
    check(app, cookie(headers)?, app.now())
}

/// The `Set-Cookie` value that starts a session (`Secure` when the request came over
/// HTTPS through a proxy that says so).
pub(crate) fn set_cookie(value: &str, secure: bool) -> String {
    format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        LIFETIME_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that ends a session.
pub(crate) fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The cookie that carries a single sign-on in progress (state, nonce, PKCE verifier,
/// where to return) while the browser is at the identity provider.
pub(crate) const SSO_COOKIE: &str = "andon_sso";

/// A sign-in in progress as a cookie value: its JSON, base64url, and an HMAC-SHA-256 over
/// it with the session key (so the browser can neither read a forged one in nor change it).
pub(crate) fn seal_pending(app: &App, p: &andon_app::federation::sso::Pending) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(p).unwrap_or_default());
    let tag = hex::encode(mac(app, &format!("sso.{body}")).finalize().into_bytes());
    format!("{body}.{tag}")
}

/// The sign-in in progress a cookie value holds, if its MAC verifies.
pub(crate) fn open_pending(app: &App, value: &str) -> Option<andon_app::federation::sso::Pending> {
    use base64::Engine as _;
    let (body, tag) = value.rsplit_once('.')?;
    let tag = hex::decode(tag).ok()?;
    mac(app, &format!("sso.{body}")).verify_slice(&tag).ok()?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

/// A named cookie's value among a request's cookies.
pub(crate) fn named_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` of a sign-in in progress: `SameSite=Lax`, because the browser comes
/// back from the provider by a top-level navigation, which a `Strict` cookie would miss;
/// only the callback path sees it, for ten minutes.
pub(crate) fn set_pending_cookie(value: &str, secure: bool) -> String {
    format!(
        "{SSO_COOKIE}={value}; Path=/ui/sso; HttpOnly; SameSite=Lax; Max-Age=600{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` that drops a sign-in in progress.
pub(crate) fn clear_pending_cookie() -> String {
    format!("{SSO_COOKIE}=; Path=/ui/sso; HttpOnly; SameSite=Lax; Max-Age=0")
}
