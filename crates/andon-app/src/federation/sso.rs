//! The web interface's single sign-on: the OpenID Connect authorization code flow with PKCE
//! (RFC 7636, S256), a `state` and a `nonce`, and the exact redirect URI registered at the
//! provider. [`begin`] says where to send the browser and what to keep until it comes back
//! (the server keeps it in a signed, short-lived cookie); [`finish`] redeems the code at the
//! provider's token endpoint and signs the person in with the ID token it answers
//! ([`super::person::sign_in`]).

use andon_domain::api::IssuedToken;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::keys::{discovery_blocking, endpoint, unreachable};
use crate::{App, AppError, ErrorKind, Sso};

/// How long a sign-in may take at the provider.
pub const PENDING_MS: i64 = 10 * 60 * 1000;

/// What a sign-in keeps while the browser is at the provider.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pending {
    /// The `state` sent (checked against the one that comes back).
    pub state: String,
    /// The `nonce` sent (checked in the ID token).
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// The page to return to.
    pub next: String,
    /// When the sign-in lapses (Unix ms).
    pub expires_ms: i64,
}

fn random() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        AppError::new(
            ErrorKind::InternalServerError,
            "internal",
            format!("no randomness: {e}"),
        )
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

fn config(app: &App) -> Result<(Sso, andon_domain::oidc::OidcIssuer), AppError> {
    let sso = app.config().sso.clone().ok_or_else(|| {
        AppError::not_found(
            "single sign-on is not configured on this server (andon serve --sso-issuer)",
        )
    })?;
    let issuer = app
        .with_authority(|a| a.oidc_issuers().find(|i| i.name == sso.issuer).map(|i| i.config.clone()))
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::ServiceUnavailable,
                "sso_issuer_unregistered",
                format!("single sign-on names issuer {}, which is not registered (andon oidc issuer add)", sso.issuer),
            )
        })?;
    Ok((sso, issuer))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::new(ErrorKind::InternalServerError, "internal", e.to_string()))?
}

/// Where to send the browser to sign in, and what to keep until it comes back to `next`.
pub async fn begin(app: &App, next: &str) -> Result<(String, Pending), AppError> {
    let (sso, issuer) = config(app)?;
    let pending = Pending {
        state: random()?,
        nonce: random()?,
        verifier: random()?,
        next: next.to_owned(),
        expires_ms: app.now() + PENDING_MS,
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(pending.verifier.as_bytes()));
    let authorize = blocking(move || {
        let d = discovery_blocking(&issuer)?;
        endpoint(&issuer, &d, "authorization_endpoint")
    })
    .await?;
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &sso.client_id)
        .append_pair("redirect_uri", &sso.redirect_uri)
        .append_pair("scope", "openid profile email groups")
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let sep = if authorize.contains('?') { '&' } else { '?' };
    Ok((format!("{authorize}{sep}{query}"), pending))
}

/// Completes a sign-in: the provider's `state` must be the one kept, within its time; the
/// code is redeemed (with the PKCE verifier and, for a confidential client, the secret) and
/// the ID token it answers signs the person in.
pub async fn finish(
    app: &App,
    code: &str,
    state: &str,
    pending: &Pending,
) -> Result<IssuedToken, AppError> {
    let refused = |m: &str| AppError::new(ErrorKind::Unauthorized, "sso_refused", m.to_owned());
    if pending.expires_ms <= app.now() {
        return Err(refused("the sign-in took too long: start again"));
    }
    if state != pending.state {
        return Err(refused("the provider answered another sign-in (state)"));
    }
    let (sso, issuer) = config(app)?;
    let (code, verifier) = (code.to_owned(), pending.verifier.clone());
    let id_token = blocking(move || {
        let d = discovery_blocking(&issuer)?;
        let token_url = endpoint(&issuer, &d, "token_endpoint")?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.post(&token_url);
        if let Some(secret) = &sso.client_secret {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                form_urlencoded::byte_serialize(sso.client_id.as_bytes()).collect::<String>(),
                form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()
            ));
            req = req.header("Authorization", &format!("Basic {basic}"));
        }
        let mut answer = req
            .send_form([
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", sso.redirect_uri.as_str()),
                ("client_id", sso.client_id.as_str()),
                ("code_verifier", verifier.as_str()),
            ])
            .map_err(|e| unreachable(&issuer.issuer, format!("{token_url}: {e}")))?;
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_json()
            .map_err(|e| unreachable(&issuer.issuer, format!("{token_url}: {e}")))?;
        match body.get("id_token").and_then(|v| v.as_str()) {
            Some(t) if status == 200 => Ok(t.to_owned()),
            _ => Err(AppError::new(
                ErrorKind::Unauthorized,
                "sso_refused",
                format!(
                    "the provider refused the code ({status}): {}",
                    body.get("error_description")
                        .or_else(|| body.get("error"))
                        .and_then(|v| v.as_str())
                        .unwrap_or("no reason given")
                ),
            )),
        }
    })
    .await?;
    super::person::sign_in(app, &id_token, Some(&pending.nonce), "web", None).await
}
