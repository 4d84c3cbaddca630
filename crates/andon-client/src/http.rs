//! The request plumbing every call shares: URLs, the bearer token, retries on overload, and
//! reading an answer or the API error it carries.

use andon_domain::api::ErrorBody;
use serde::de::DeserializeOwned;

use crate::{Client, ClientError};

/// Bodies larger than this ask the server first (`Expect: 100-continue`): a server that
/// refuses the request by its headers (too large, unauthenticated) answers before the body
/// is sent, and its answer is read instead of a broken pipe.
const ASK_FIRST_ABOVE: usize = 1 << 20;

impl Client {
    /// Sends with the configured retries.
    fn send_retrying(
        &self,
        send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let mut attempt = 0;
        loop {
            let resp = send()?;
            let status = resp.status().as_u16();
            if attempt >= self.retries || !(status == 429 || status == 503) {
                return Ok(resp);
            }
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1)
                .min(10);
            std::thread::sleep(std::time::Duration::from_secs(wait));
            attempt += 1;
        }
    }

    /// The URL of `path` on the server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The JSON body of a successful answer; an API error from any other.
    pub(crate) fn read<T: DeserializeOwned>(
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, ClientError> {
        let body = Self::read_bytes(resp)?;
        serde_json::from_slice(&body)
            .map_err(|e| ClientError::Transport(format!("unreadable answer: {e}")))
    }

    /// The body of a successful answer; an API error from any other.
    fn read_bytes(
        resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Vec<u8>, ClientError> {
        let mut resp = resp.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if status >= 400 {
            return Err(match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(b) => ClientError::Api {
                    status,
                    code: b.error.code,
                    message: b.error.message,
                },
                Err(_) => ClientError::Api {
                    status,
                    code: "http_error".into(),
                    message: String::from_utf8_lossy(&body).into_owned(),
                },
            });
        }
        Ok(body)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token.as_deref().unwrap_or(""))
    }

    /// A GET of `path`, with the token when there is one.
    pub(crate) fn get_request(
        &self,
        path: &str,
    ) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let mut req = self.agent.get(&self.url(path));
        if self.token.is_some() {
            req = req.header("Authorization", &self.auth());
        }
        req
    }

    /// GETs `path` with `query` (retrying as configured) and reads the JSON answer.
    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        Self::read(self.send_retrying(|| {
            let mut req = self.get_request(path);
            for (k, v) in query {
                req = req.query(*k, v);
            }
            req.call()
        }))
    }

    /// GETs `path` (retrying as configured) and answers the body's bytes.
    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>, ClientError> {
        Self::read_bytes(self.send_retrying(|| self.get_request(path).call()))
    }

    /// GETs `path` with `query` once (no retries) and answers the body as text: for the
    /// documents the server renders (a request for change, the Risk Control Matrix).
    pub(crate) fn get_text(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, ClientError> {
        let mut req = self.get_request(path);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let body = Self::read_bytes(req.call())?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// POSTs `body` (JSON) to `path` with `query` (retrying as configured) and reads the
    /// JSON answer.
    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &[u8],
    ) -> Result<T, ClientError> {
        self.send_body(false, path, query, body)
    }

    /// PUTs `body` (JSON, as given) to `path` (retrying as configured) and reads the JSON
    /// answer.
    pub(crate) fn put_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &[u8],
    ) -> Result<T, ClientError> {
        self.send_body(true, path, &[], body)
    }

    /// PUTs `body`, serialised to JSON, to `path` (retrying as configured) and reads the
    /// JSON answer.
    pub(crate) fn put_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Transport(e.to_string()))?;
        self.send_body(true, path, &[], &bytes)
    }

    /// Sends a JSON `body` with POST, or PUT when `put`, with the token, `query` and the
    /// configured retries, and reads the JSON answer.
    fn send_body<T: DeserializeOwned>(
        &self,
        put: bool,
        path: &str,
        query: &[(&str, String)],
        body: &[u8],
    ) -> Result<T, ClientError> {
        Self::read(self.send_retrying(|| {
            let url = self.url(path);
            let req = if put {
                self.agent.put(&url)
            } else {
                self.agent.post(&url)
            };
            let mut req = req.header("Content-Type", "application/json");
            if self.token.is_some() {
                req = req.header("Authorization", &self.auth());
            }
            if body.len() > ASK_FIRST_ABOVE {
                req = req.header("Expect", "100-continue");
            }
            for (k, v) in query {
                req = req.query(*k, v);
            }
            req.send(body)
        }))
    }

    /// POSTs `body`, serialised to JSON, to `path` and reads the JSON answer.
    pub(crate) fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Transport(e.to_string()))?;
        self.post(path, &[], &bytes)
    }
}
