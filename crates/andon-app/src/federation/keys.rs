//! The OpenID issuers' signing keys: from the JWK set registered with the issuer, or fetched
//! through OpenID discovery (`<issuer>/.well-known/openid-configuration`, then its
//! `jwks_uri`), cached for an hour and fetched again when a token names a key id the cache
//! does not have (at most once every half minute per issuer, so unknown key ids cannot make
//! the server hammer the issuer).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use andon_domain::oidc::{JwkSet, OidcIssuer, parse_key_set};

use crate::{App, AppError, ErrorKind};

/// How long fetched keys are used before they are fetched again.
const FRESH_MS: i64 = 3_600_000;
/// The least time between two fetches for one issuer.
const MIN_REFETCH_MS: i64 = 30_000;

#[derive(Clone)]
struct Cached {
    keys: Arc<JwkSet>,
    fetched_ms: i64,
}

/// Fetched keys by issuer.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, Cached>>);

impl KeyCache {
    fn get(&self, issuer: &str) -> Option<Cached> {
        self.0.lock().ok()?.get(issuer).cloned()
    }

    fn put(&self, issuer: &str, keys: Arc<JwkSet>, now_ms: i64) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(
                issuer.to_owned(),
                Cached {
                    keys,
                    fetched_ms: now_ms,
                },
            );
        }
    }
}

pub(crate) fn unreachable(issuer: &str, why: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::ServiceUnavailable,
        "issuer_unreachable",
        format!("cannot read the signing keys of {issuer}: {why}"),
    )
}

/// The keys of `issuer`: its registered JWK set, else the cached ones (fetched again when
/// stale, or when `unknown_kid` and the last fetch is half a minute old).
pub(crate) async fn keys(
    app: &App,
    issuer: &OidcIssuer,
    unknown_kid: bool,
) -> Result<Arc<JwkSet>, AppError> {
    if let Some(jwks) = &issuer.jwks {
        return Ok(Arc::new(parse_key_set(jwks)?));
    }
    let now = app.now();
    let cache = &app.0.oidc_keys;
    if let Some(c) = cache.get(&issuer.issuer) {
        let age = now - c.fetched_ms;
        let wanted = age >= FRESH_MS || (unknown_kid && age >= MIN_REFETCH_MS);
        if !wanted {
            return Ok(c.keys);
        }
    }
    let keys = Arc::new(fetch(issuer.clone()).await?);
    cache.put(&issuer.issuer, keys.clone(), now);
    Ok(keys)
}

/// Fetches an issuer's keys through discovery, checking that the discovery document names
/// the same issuer (OpenID Connect Discovery 1.0, section 4.3).
pub(crate) async fn fetch(issuer: OidcIssuer) -> Result<JwkSet, AppError> {
    let name = issuer.issuer.clone();
    tokio::task::spawn_blocking(move || fetch_blocking(&issuer))
        .await
        .map_err(|e| unreachable(&name, e))?
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

fn get_json(agent: &ureq::Agent, issuer: &str, url: &str) -> Result<serde_json::Value, AppError> {
    agent
        .get(url)
        .call()
        .map_err(|e| unreachable(issuer, format!("{url}: {e}")))?
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_json()
        .map_err(|e| unreachable(issuer, format!("{url}: {e}")))
}

/// An issuer's discovery document, checked to name the same issuer (OpenID Connect
/// Discovery 1.0, section 4.3).
pub(crate) fn discovery_blocking(issuer: &OidcIssuer) -> Result<serde_json::Value, AppError> {
    let discovery = get_json(&agent(), &issuer.issuer, &issuer.discovery_url())?;
    let said = discovery.get("issuer").and_then(|v| v.as_str());
    if said != Some(issuer.issuer.as_str()) {
        return Err(unreachable(
            &issuer.issuer,
            format!("its discovery document names the issuer {said:?}"),
        ));
    }
    Ok(discovery)
}

/// An endpoint the discovery document names, on https (or on the issuer's own loopback
/// origin).
pub(crate) fn endpoint(
    issuer: &OidcIssuer,
    discovery: &serde_json::Value,
    name: &str,
) -> Result<String, AppError> {
    let url = discovery
        .get(name)
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            unreachable(
                &issuer.issuer,
                format!("its discovery document has no {name}"),
            )
        })?;
    let origin = issuer
        .issuer
        .splitn(4, '/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let secure = url.starts_with("https://")
        || (issuer.issuer.starts_with("http://") && url.starts_with(&format!("{origin}/")));
    if !secure {
        return Err(unreachable(
            &issuer.issuer,
            format!("its {name} {url} is not https"),
        ));
    }
    Ok(url.to_owned())
}

fn fetch_blocking(issuer: &OidcIssuer) -> Result<JwkSet, AppError> {
    let discovery = discovery_blocking(issuer)?;
    let jwks_uri = endpoint(issuer, &discovery, "jwks_uri")?;
    parse_key_set(&get_json(&agent(), &issuer.issuer, &jwks_uri)?)
        .map_err(|e| unreachable(&issuer.issuer, e))
}
