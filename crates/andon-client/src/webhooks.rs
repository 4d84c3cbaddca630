//! Source-control webhooks: posting a delivery as GitHub or GitLab would, and the signature
//! GitHub puts on it.

use crate::{Client, ClientError};

/// The `X-Hub-Signature-256` value GitHub sends with `payload` for a hook's `secret`:
/// `sha256=` and the hex HMAC-SHA256 of the body.
pub fn github_signature(secret: &str, payload: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(payload);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Client {
    /// Posts a source-control webhook delivery as GitHub or GitLab would: `payload` as the
    /// body, with the provider's headers (see [`github_signature`]). No bearer token: the
    /// webhook endpoints authenticate by signature or hook token.
    pub fn deliver_webhook(
        &self,
        path: &str,
        headers: &[(&str, String)],
        payload: &[u8],
    ) -> Result<serde_json::Value, ClientError> {
        let mut req = self
            .agent
            .post(&self.url(path))
            .header("Content-Type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        Self::read(req.send(payload))
    }
}
