//! Source-control webhook deliveries, from GitHub and GitLab.
//!
//! GitHub signs each delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`
//! with the hook's secret, checked in constant time. GitLab sends the hook's secret token in
//! `X-Gitlab-Token`, also compared in constant time. A delivery id (`X-GitHub-Delivery`;
//! GitLab's `Idempotency-Key` or `X-Gitlab-Event-UUID`, else the payload's digest) is
//! recorded once: a replay is refused. Events with governance facts become one ledger
//! entry each; others are acknowledged and not recorded.
//!
//! The transport reads the headers; the hook is checked as configured first ([`github_hook`],
//! [`gitlab_hook`]), then the delivery is authenticated and recorded ([`github`],
//! [`gitlab`]).

use andon_domain::api::Receipt;
use andon_domain::scm::SourceFacts;
use andon_domain::{Sha256Digest, SourceEventFact};
use andon_evidence::{github as github_events, gitlab as gitlab_events};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{App, AppError, ErrorKind, Fact};

/// The longest delivery id kept.
const MAX_DELIVERY_ID: usize = 200;

/// What became of a delivery.
pub enum Delivered {
    /// The event carries no governance facts: acknowledged, not recorded.
    Ignored {
        /// The event's name.
        event: String,
    },
    /// The event's facts were recorded as one ledger entry.
    Recorded {
        /// The event's name.
        event: String,
        /// How many facts of each sort it carried, and the tickets named.
        facts: serde_json::Value,
        /// The ledger receipt.
        receipt: Receipt,
    },
}

/// The GitHub hook, configured (its secret).
pub struct GithubHook(String);

/// The GitLab hook, configured, whose token the delivery presented.
pub struct GitlabHook(());

/// What the transport read from a GitHub delivery's headers.
pub struct GithubDelivery<'a> {
    /// `X-Hub-Signature-256`.
    pub signature: Option<&'a str>,
    /// `X-GitHub-Event`.
    pub event: Option<&'a str>,
    /// `X-GitHub-Delivery`.
    pub delivery: Option<&'a str>,
}

fn unauthorized(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::new(ErrorKind::Unauthorized, code, m)
}

fn not_configured(provider: &str, setting: &str) -> AppError {
    AppError::new(
        ErrorKind::NotFound,
        "webhook_not_configured",
        format!("{provider} webhooks are not configured on this server (set {setting})"),
    )
}

fn unparseable(e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::UnprocessableEntity,
        "unparseable_payload",
        e.to_string(),
    )
}

/// The GitHub hook, or `webhook_not_configured` without a secret.
pub fn github_hook(app: &App) -> Result<GithubHook, AppError> {
    app.config()
        .github_webhook_secret
        .clone()
        .map(GithubHook)
        .ok_or_else(|| not_configured("GitHub", "ANDON_GITHUB_WEBHOOK_SECRET"))
}

/// `POST /webhooks/github`: checks the signature over the body, then records the event's
/// facts.
pub async fn github(
    app: &App,
    hook: &GithubHook,
    headers: GithubDelivery<'_>,
    body: &[u8],
) -> Result<Delivered, AppError> {
    verify_github_signature(&hook.0, headers.signature, body)?;
    let event = headers
        .event
        .ok_or_else(|| AppError::bad_request("missing_event", "no X-GitHub-Event header"))?;
    let delivery = headers
        .delivery
        .ok_or_else(|| AppError::bad_request("missing_delivery", "no X-GitHub-Delivery header"))
        .and_then(delivery_id)?;
    let facts = github_events::parse(event, body).map_err(unparseable)?;
    record(app, "github", delivery, event, body, facts).await
}

/// The GitLab hook, once the delivery's `X-Gitlab-Token` matches the configured token;
/// `webhook_not_configured` without one.
pub fn gitlab_hook(app: &App, token: Option<&str>) -> Result<GitlabHook, AppError> {
    let expected = app
        .config()
        .gitlab_webhook_token
        .as_deref()
        .ok_or_else(|| not_configured("GitLab", "ANDON_GITLAB_WEBHOOK_TOKEN"))?;
    let token = token.ok_or_else(|| unauthorized("missing_token", "no X-Gitlab-Token header"))?;
    if !same_secret(token, expected) {
        return Err(unauthorized(
            "bad_token",
            "X-Gitlab-Token does not match the configured token",
        ));
    }
    Ok(GitlabHook(()))
}

/// `POST /webhooks/gitlab`, its token checked: records the event's facts. Without an
/// event name the event is `unknown`; without a delivery id the delivery is the body's
/// digest.
pub async fn gitlab(
    app: &App,
    _hook: &GitlabHook,
    event: Option<&str>,
    delivery: Option<&str>,
    body: &[u8],
) -> Result<Delivered, AppError> {
    let event = event.unwrap_or("unknown");
    let delivery = match delivery {
        Some(id) => delivery_id(id)?,
        None => format!("sha256:{}", Sha256Digest::of(body).hex()),
    };
    let facts = gitlab_events::parse(body).map_err(unparseable)?;
    record(app, "gitlab", delivery, event, body, facts).await
}

/// Whether a presented secret is the expected one. Digests are compared, so neither the
/// contents nor the length of the secret leak by timing.
fn same_secret(given: &str, expected: &str) -> bool {
    Sha256Digest::of(given.as_bytes())
        .as_bytes()
        .ct_eq(Sha256Digest::of(expected.as_bytes()).as_bytes())
        .into()
}

/// Checks `X-Hub-Signature-256` against the body.
fn verify_github_signature(
    secret: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<(), AppError> {
    let sig = signature.ok_or_else(|| {
        unauthorized(
            "missing_signature",
            "no X-Hub-Signature-256 header: configure the webhook with a secret",
        )
    })?;
    let tag = sig
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|t| t.len() == 32)
        .ok_or_else(|| {
            unauthorized(
                "bad_signature",
                "X-Hub-Signature-256 is not sha256=<64 hex digits>",
            )
        })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| AppError::unavailable(format!("webhook secret unusable: {e}")))?;
    mac.update(body);
    mac.verify_slice(&tag).map_err(|_| {
        unauthorized(
            "bad_signature",
            "X-Hub-Signature-256 does not match the body and the configured secret",
        )
    })
}

/// A delivery id as kept: at most [`MAX_DELIVERY_ID`] printable characters.
fn delivery_id(id: &str) -> Result<String, AppError> {
    if id.len() > MAX_DELIVERY_ID || id.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            "invalid_delivery",
            format!("a delivery id is at most {MAX_DELIVERY_ID} printable characters"),
        ));
    }
    Ok(id.to_owned())
}

/// Records a delivery's facts once (a replay is refused); a delivery without facts is
/// acknowledged and not recorded.
async fn record(
    app: &App,
    provider: &str,
    delivery: String,
    event: &str,
    payload: &[u8],
    facts: Option<SourceFacts>,
) -> Result<Delivered, AppError> {
    let Some(mut facts) = facts else {
        return Ok(Delivered::Ignored {
            event: event.to_owned(),
        });
    };
    // Checked here to answer a replay without queueing it; the sequencer checks again, and
    // the delivery's primary key is the last word.
    if app.store().delivery_seen(provider, &delivery).await? {
        return Err(AppError::new(
            ErrorKind::Conflict,
            "replayed_delivery",
            format!("{provider} delivery {delivery} was already recorded"),
        ));
    }
    app.config().ticket_patterns.link(&mut facts);
    let summary = serde_json::json!({
        "commits": facts.commits.len(),
        "pull_request_events": facts.changes.len(),
        "reviews": facts.reviews.len(),
        "deployments": facts.deployments.len(),
        "tickets": facts.tickets.iter().map(|t| t.ticket.clone()).collect::<std::collections::BTreeSet<_>>(),
    });
    let fact = SourceEventFact {
        provider: provider.to_owned(),
        delivery,
        event: event.to_owned(),
        payload: Sha256Digest::of(payload),
        facts,
    };
    let receipt = app
        .append(Fact::Source {
            fact,
            payload: payload.to_vec(),
        })
        .await?;
    Ok(Delivered::Recorded {
        event: event.to_owned(),
        facts: summary,
        receipt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    fn code(r: Result<(), AppError>) -> Option<&'static str> {
        r.err().map(|e| e.code)
    }

    #[test]
    fn a_github_signature_is_the_bodys_hmac_with_the_secret() {
        let body = br#"{"zen":"x"}"#;
        let good = signed("s3cret", body);
        assert_eq!(
            code(verify_github_signature("s3cret", Some(&good), body)),
            None
        );
        assert_eq!(
            code(verify_github_signature("s3cret", None, body)),
            Some("missing_signature")
        );
        assert_eq!(
            code(verify_github_signature("s3cret", Some("sha1=abcd"), body)),
            Some("bad_signature")
        );
        let other = signed("other", body);
        assert_eq!(
            code(verify_github_signature("s3cret", Some(&other), body)),
            Some("bad_signature")
        );
        assert_eq!(
            code(verify_github_signature("s3cret", Some(&good), b"{}")),
            Some("bad_signature")
        );
    }

    #[test]
    fn delivery_ids_are_short_and_printable() {
        assert_eq!(delivery_id("72d3162e-cc78").expect("ok"), "72d3162e-cc78");
        assert!(delivery_id(&"d".repeat(MAX_DELIVERY_ID)).is_ok());
        for bad in ["d".repeat(MAX_DELIVERY_ID + 1), "a\u{7}b".to_owned()] {
            assert_eq!(
                delivery_id(&bad).expect_err("refused").code,
                "invalid_delivery"
            );
        }
    }

    #[test]
    fn only_the_same_secret_is_the_same() {
        assert!(same_secret("token", "token"));
        assert!(!same_secret("token", "token "));
        assert!(!same_secret("", "token"));
    }
}
