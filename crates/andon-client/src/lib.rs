//! Andon's HTTP client, used by the CLI, the demo, the benchmark and the tests, so that
//! everything exercises the API the way pipelines do.

use andon_domain::api::{
    ConsistencyProof, DecisionView, EntriesPage, ErrorBody, EvidencePage, EvidenceView,
    GateRequest, InclusionProof, IssuedToken, KeyView, LogInfo, NewApplication, NewIdentity,
    NewKey, PublishedPolicy, Receipt, TraceView, WaiverRequest, WhoAmI,
};
use andon_ledger::{Checkpoint, Hash, NoteVerifier, verify_inclusion};
use serde::de::DeserializeOwned;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server could not be reached or answered something unreadable.
    #[error("cannot talk to the server: {0}")]
    Transport(String),
    /// A proof or signed checkpoint the server sent does not verify.
    #[error("does not verify: {0}")]
    Unverified(String),
}

impl ClientError {
    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            ClientError::Transport(_) | ClientError::Unverified(_) => None,
        }
    }
}

fn hash(hex_text: &str) -> Result<Hash, ClientError> {
    hex::decode(hex_text)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| ClientError::Unverified(format!("{hex_text:?} is not a hex SHA-256 hash")))
}

fn hashes(hex_texts: &[String]) -> Result<Vec<Hash>, ClientError> {
    hex_texts.iter().map(|h| hash(h)).collect()
}

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

/// Checks a receipt as a pipeline should: its checkpoint is signed by the log's key, and its
/// inclusion proof leads from its leaf to that checkpoint's root. Returns the checkpoint.
pub fn check_receipt(r: &Receipt, log: &NoteVerifier) -> Result<Checkpoint, ClientError> {
    let cp = log
        .verify(&r.checkpoint)
        .map_err(|e| ClientError::Unverified(e.to_string()))?;
    if cp.size != r.tree_size {
        return Err(ClientError::Unverified(format!(
            "the receipt claims tree size {} but its checkpoint has {}",
            r.tree_size, cp.size
        )));
    }
    verify_inclusion(
        &hash(&r.leaf_hash)?,
        r.ledger_index,
        cp.size,
        &hashes(&r.inclusion_proof)?,
        &cp.root,
    )
    .map_err(|e| ClientError::Unverified(e.to_string()))?;
    Ok(cp)
}

/// Checks an inclusion proof against a verified checkpoint of the same tree size.
pub fn check_inclusion(p: &InclusionProof, cp: &Checkpoint) -> Result<(), ClientError> {
    if p.tree_size != cp.size {
        return Err(ClientError::Unverified(format!(
            "the proof is for tree size {}, the checkpoint for {}",
            p.tree_size, cp.size
        )));
    }
    verify_inclusion(
        &hash(&p.leaf_hash)?,
        p.index,
        cp.size,
        &hashes(&p.proof)?,
        &cp.root,
    )
    .map_err(|e| ClientError::Unverified(e.to_string()))
}

/// Evidence search filters (all optional).
#[derive(Clone, Debug, Default)]
pub struct EvidenceQuery {
    /// Application.
    pub app: Option<String>,
    /// Subject digest, `sha256:<hex>`.
    pub subject: Option<String>,
    /// Predicate type.
    pub predicate_type: Option<String>,
    /// Pipeline run.
    pub run: Option<String>,
    /// Signing identity.
    pub signer: Option<String>,
    /// RFC 3339 lower bound.
    pub since: Option<String>,
    /// RFC 3339 upper bound.
    pub until: Option<String>,
    /// Page cursor.
    pub before: Option<u64>,
    /// Page size.
    pub limit: Option<u32>,
}

/// A client bound to one server and one token.
#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
    retries: u32,
}

impl Client {
    /// A client for `base` (e.g. `http://127.0.0.1:8420`).
    pub fn new(base: &str, token: Option<String>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // ureq keeps 3 idle connections per host by default; a busy CI fleet (or the
            // load benchmark) sharing one client would reconnect on nearly every request.
            .max_idle_connections(1024)
            .max_idle_connections_per_host(1024)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
            retries: 0,
        }
    }

    /// Retries a request the server refused for overload (429, or 503 while it restarts)
    /// up to `n` times, waiting as its `Retry-After` asks (at most 10 s each). Requests are
    /// idempotent where it matters (evidence is identified by its bytes).
    pub fn retrying(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

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

    /// The server URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The API token it sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn read<T: DeserializeOwned>(
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

    fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ClientError> {
        Self::read(self.send_retrying(|| {
            let mut req = self.agent.get(&self.url(path));
            if self.token.is_some() {
                req = req.header("Authorization", &self.auth());
            }
            for (k, v) in query {
                req = req.query(*k, v);
            }
            req.call()
        }))
    }

    fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &[u8],
    ) -> Result<T, ClientError> {
        Self::read(self.send_retrying(|| {
            let mut req = self
                .agent
                .post(&self.url(path))
                .header("Content-Type", "application/json");
            if self.token.is_some() {
                req = req.header("Authorization", &self.auth());
            }
            for (k, v) in query {
                req = req.query(*k, v);
            }
            req.send(body)
        }))
    }

    fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Transport(e.to_string()))?;
        self.post(path, &[], &bytes)
    }

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

    /// The trace of a commit (full id or a unique prefix of 7 or more hex digits).
    pub fn trace_commit(&self, sha: &str) -> Result<TraceView, ClientError> {
        self.get("/v1/trace", &[("commit", sha.to_owned())])
    }

    /// The trace of an artifact (`sha256:<hex>`).
    pub fn trace_artifact(&self, digest: &str) -> Result<TraceView, ClientError> {
        self.get("/v1/trace", &[("artifact", digest.to_owned())])
    }

    /// Liveness: the server answers `GET /livez` (no token needed).
    pub fn live(&self) -> Result<(), ClientError> {
        let resp = self
            .agent
            .get(&self.url("/livez"))
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        match resp.status().as_u16() {
            200 => Ok(()),
            status => Err(ClientError::Api {
                status,
                code: "not_live".into(),
                message: "the server is not live".into(),
            }),
        }
    }

    /// Who the token belongs to.
    pub fn whoami(&self) -> Result<WhoAmI, ClientError> {
        self.get("/v1/whoami", &[])
    }

    /// Creates an application.
    pub fn create_application(&self, name: &str, team: &str) -> Result<Receipt, ClientError> {
        self.post_json(
            "/v1/applications",
            &NewApplication {
                name: name.into(),
                team: team.into(),
            },
        )
    }

    /// Lists applications.
    pub fn list_applications(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/applications", &[])
    }

    /// Creates an identity; the answer carries its first token.
    pub fn create_identity(
        &self,
        name: &str,
        role: &str,
        applications: &[String],
    ) -> Result<IssuedToken, ClientError> {
        self.create_identity_in(name, role, applications, &[])
    }

    /// Creates an identity that belongs to approver groups (approvers).
    pub fn create_identity_in(
        &self,
        name: &str,
        role: &str,
        applications: &[String],
        groups: &[String],
    ) -> Result<IssuedToken, ClientError> {
        self.post_json(
            "/v1/identities",
            &NewIdentity {
                name: name.into(),
                role: role.into(),
                applications: applications.to_vec(),
                groups: groups.to_vec(),
            },
        )
    }

    /// Registers a public key (PEM or base64) to an identity.
    pub fn register_key(&self, identity: &str, public_key: &str) -> Result<KeyView, ClientError> {
        self.post_json(
            &format!("/v1/identities/{identity}/keys"),
            &NewKey {
                public_key: public_key.into(),
            },
        )
    }

    /// Revokes a key.
    pub fn revoke_key(&self, keyid: &str) -> Result<Receipt, ClientError> {
        self.post(&format!("/v1/keys/{keyid}/revoke"), &[], b"")
    }

    /// Submits a raw DSSE envelope for `app`.
    pub fn submit_evidence(
        &self,
        app: &str,
        run: Option<&str>,
        kind: Option<&str>,
        envelope: &[u8],
    ) -> Result<Receipt, ClientError> {
        let mut q = vec![("app", app.to_owned())];
        if let Some(r) = run {
            q.push(("run", r.to_owned()));
        }
        if let Some(k) = kind {
            q.push(("type", k.to_owned()));
        }
        self.post("/v1/evidence", &q, envelope)
    }

    /// Submits several raw DSSE envelopes for `app` in one request; one receipt each, in
    /// order. One bad envelope refuses the whole request.
    pub fn submit_evidence_batch(
        &self,
        app: &str,
        run: Option<&str>,
        envelopes: &[Vec<u8>],
    ) -> Result<Vec<Receipt>, ClientError> {
        let mut body = Vec::with_capacity(envelopes.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, e) in envelopes.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(e);
        }
        body.push(b']');
        let mut q = vec![("app", app.to_owned())];
        if let Some(r) = run {
            q.push(("run", r.to_owned()));
        }
        #[derive(serde::Deserialize)]
        struct Receipts {
            receipts: Vec<Receipt>,
        }
        self.post::<Receipts>("/v1/evidence/batch", &q, &body)
            .map(|r| r.receipts)
    }

    /// Searches evidence.
    pub fn list_evidence(&self, f: &EvidenceQuery) -> Result<EvidencePage, ClientError> {
        let mut q = Vec::new();
        let mut add = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                q.push((k, v.clone()));
            }
        };
        add("app", &f.app);
        add("subject", &f.subject);
        add("predicate_type", &f.predicate_type);
        add("run", &f.run);
        add("signer", &f.signer);
        add("since", &f.since);
        add("until", &f.until);
        if let Some(b) = f.before {
            q.push(("before", b.to_string()));
        }
        if let Some(l) = f.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/v1/evidence", &q)
    }

    /// Publishes a policy bundle (admin): validated by the server, ledgered.
    pub fn publish_policy(
        &self,
        bundle: &serde_json::Value,
    ) -> Result<PublishedPolicy, ClientError> {
        self.post_json("/v1/policies", bundle)
    }

    /// The published policies.
    pub fn list_policies(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/policies", &[])
    }

    /// A policy bundle's exact bytes, checked against its version (their SHA-256).
    pub fn policy_bundle(&self, version: &str) -> Result<Vec<u8>, ClientError> {
        let mut req = self
            .agent
            .get(&self.url(&format!("/v1/policies/{version}")));
        if self.token.is_some() {
            req = req.header("Authorization", &self.auth());
        }
        let mut resp = req
            .call()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if status >= 400 {
            return Err(ClientError::Api {
                status,
                code: "http_error".into(),
                message: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let got = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body));
        if got != version {
            return Err(ClientError::Unverified(format!(
                "policy bundle {version} hashes to {got}"
            )));
        }
        Ok(body)
    }

    /// Asks the gate whether an artifact may go to an environment.
    pub fn gate(&self, req: &GateRequest) -> Result<DecisionView, ClientError> {
        self.post_json("/v1/gate", req)
    }

    /// Records a deployment (linked to its allowing decision, or flagged as a gate bypass):
    /// `{"deployment", "alert", "receipt"}`.
    pub fn record_deployment(
        &self,
        req: &andon_domain::api::DeploymentRequest,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/deployments", req)
    }

    /// Reports that a deployment failed, was rolled back, or was restored.
    pub fn deployment_state(
        &self,
        id: &str,
        req: &andon_domain::api::DeploymentStateRequest,
    ) -> Result<andon_domain::change::Deployment, ClientError> {
        self.post_json(&format!("/v1/deployments/{id}/state"), req)
    }

    /// Reports an incident: `{"deployment", "linked_by"}`.
    pub fn report_incident(
        &self,
        req: &andon_domain::api::IncidentRequest,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/incidents", req)
    }

    /// Deployments, newest first.
    pub fn deployments(
        &self,
        app: Option<&str>,
        environment: Option<&str>,
    ) -> Result<Vec<andon_domain::change::Deployment>, ClientError> {
        let mut q = Vec::new();
        if let Some(a) = app {
            q.push(("application", a.to_owned()));
        }
        if let Some(e) = environment {
            q.push(("environment", e.to_owned()));
        }
        self.get("/v1/deployments", &q)
    }

    /// One change record with its approvals.
    pub fn change(&self, id: &str) -> Result<andon_domain::change::Change, ClientError> {
        self.get(&format!("/v1/changes/{id}"), &[])
    }

    /// Change records, newest first.
    pub fn changes(
        &self,
        app: Option<&str>,
    ) -> Result<Vec<andon_domain::change::Change>, ClientError> {
        let q: Vec<(&str, String)> = app
            .map(|a| ("application", a.to_owned()))
            .into_iter()
            .collect();
        self.get("/v1/changes", &q)
    }

    /// Approves (`approve`) or rejects a change, with a comment.
    pub fn decide_change(
        &self,
        id: &str,
        approve: bool,
        comment: &str,
    ) -> Result<andon_domain::change::Change, ClientError> {
        let verb = if approve { "approve" } else { "reject" };
        self.post_json(
            &format!("/v1/changes/{id}/{verb}"),
            &andon_domain::api::ApprovalRequest {
                comment: comment.to_owned(),
            },
        )
    }

    /// A JSON Schema the server publishes (`rfc`).
    pub fn schema(&self, name: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/schemas/{name}.json"), &[])
    }

    /// The request for change as JSON (`andon.rfc/v1`).
    pub fn rfc_json(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/changes/{id}/rfc.json"), &[])
    }

    /// The request for change as Markdown.
    pub fn rfc_markdown(&self, id: &str) -> Result<String, ClientError> {
        let mut req = self
            .agent
            .get(&self.url(&format!("/v1/changes/{id}/rfc.md")));
        if self.token.is_some() {
            req = req.header("Authorization", &self.auth());
        }
        let body = Self::read_bytes(req.call())?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// The Risk Control Matrix as the server renders it at `path` (`/v1/controls`, or
    /// `/v1/controls/oscal/assessment-results` or `.../component-definition`), with `query`
    /// (`application`, and optionally `environment`, `since`, `until`, `format`): the body.
    pub fn controls_document(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, ClientError> {
        let mut req = self.agent.get(&self.url(path));
        if self.token.is_some() {
            req = req.header("Authorization", &self.auth());
        }
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let body = Self::read_bytes(req.call())?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Looks for overdue emergency reviews now (admin); how many alerts were raised.
    pub fn check_alerts(&self) -> Result<u64, ClientError> {
        let v: serde_json::Value = self.post("/v1/alerts/check", &[], b"")?;
        Ok(v["raised"].as_u64().unwrap_or(0))
    }

    /// The outbound notification delivery log, newest first (admin, auditor).
    pub fn notifications(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/notifications", &[])
    }

    /// DORA's four keys: `query` holds `application` or `team`, and optionally `period`,
    /// `since`, `until`.
    pub fn metrics(&self, query: &[(&str, String)]) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/metrics", query)
    }

    /// Sends a batch of security telemetry events (a JSON array, or one event per line);
    /// answers the batch's ledger index, digest and the alerts its rules raised.
    pub fn send_telemetry(&self, body: &[u8]) -> Result<serde_json::Value, ClientError> {
        self.post("/v1/telemetry", &[], body)
    }

    /// Stored telemetry events matching the query (`application`, `kind`, `source`,
    /// `batch`, `since`, `until`, `limit`).
    pub fn telemetry(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/telemetry", query)
    }

    /// The telemetry rules in force.
    pub fn telemetry_rules(&self) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/telemetry/rules", &[])
    }

    /// Asks for break-glass access (docs/access.md).
    pub fn request_access(
        &self,
        req: &andon_domain::api::AccessRequestInput,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/access/requests", req)
    }

    /// Approves (`approve`), rejects (`reject`) or revokes (`revoke`) an access request.
    pub fn decide_access(
        &self,
        id: &str,
        verb: &str,
        comment: Option<&str>,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json(
            &format!("/v1/access/requests/{id}/{verb}"),
            &andon_domain::api::AccessDecisionInput {
                comment: comment.map(str::to_owned),
            },
        )
    }

    /// Access requests (`application`, `environment`, `state`, `limit`), newest first.
    pub fn access_requests(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/access/requests", query)
    }

    /// One access request.
    pub fn access_request(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.get(&format!("/v1/access/requests/{id}"), &[])
    }

    /// The grants valid now (`environment`, `application`).
    pub fn access_grants(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/access/grants", query)
    }

    /// Records due grant expiries now (admin): `{"expired": n}`.
    pub fn check_access(&self) -> Result<serde_json::Value, ClientError> {
        self.post("/v1/access/check", &[], b"")
    }

    /// Registers a persistent production account (admin).
    pub fn register_account(
        &self,
        req: &andon_domain::api::AccountInput,
    ) -> Result<andon_domain::access::StandingAccount, ClientError> {
        self.post_json("/v1/access/accounts", req)
    }

    /// Records a use of a persistent account.
    pub fn account_used(
        &self,
        name: &str,
        req: &andon_domain::api::AccountUseInput,
    ) -> Result<andon_domain::access::StandingAccount, ClientError> {
        self.post_json(&format!("/v1/access/accounts/{name}/uses"), req)
    }

    /// Retires a persistent account (admin).
    pub fn retire_account(
        &self,
        name: &str,
    ) -> Result<andon_domain::access::StandingAccount, ClientError> {
        self.post(&format!("/v1/access/accounts/{name}/retire"), &[], b"")
    }

    /// The standing access register.
    pub fn accounts(&self) -> Result<Vec<andon_domain::access::StandingAccount>, ClientError> {
        self.get("/v1/access/accounts", &[])
    }

    /// The people with standing access to production.
    pub fn standing_access(&self) -> Result<Vec<serde_json::Value>, ClientError> {
        self.get("/v1/access/standing", &[])
    }

    /// Production Access Debt (`application` or `team`, `period`, `since`, `until`).
    pub fn access_debt(&self, query: &[(&str, String)]) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/access/debt", query)
    }

    /// Reports what runs in an environment; answers the drift found and the alerts raised.
    pub fn report_snapshot(
        &self,
        environment: &str,
        req: &andon_domain::api::SnapshotInput,
    ) -> Result<serde_json::Value, ClientError> {
        self.post_json(&format!("/v1/environments/{environment}/snapshots"), req)
    }

    /// The latest snapshots of an environment.
    pub fn snapshots(
        &self,
        environment: &str,
    ) -> Result<Vec<andon_domain::access::Snapshot>, ClientError> {
        self.get(&format!("/v1/environments/{environment}/snapshots"), &[])
    }

    /// Alerts matching `state`, `kind`, `application`, `severity`, `limit`, newest first.
    pub fn alerts_where(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<andon_domain::change::Alert>, ClientError> {
        self.get("/v1/alerts", query)
    }

    /// One alert, with what happened to it.
    pub fn alert(&self, id: &str) -> Result<andon_domain::change::Alert, ClientError> {
        self.get(&format!("/v1/alerts/{id}"), &[])
    }

    /// Acknowledges (`acknowledge`) or resolves (`resolve`) an alert.
    pub fn alert_action(
        &self,
        id: &str,
        verb: &str,
        note: Option<&str>,
    ) -> Result<andon_domain::change::Alert, ClientError> {
        self.post_json(
            &format!("/v1/alerts/{id}/{verb}"),
            &serde_json::json!({ "note": note }),
        )
    }

    /// Alerts, newest first.
    pub fn alerts(&self) -> Result<Vec<andon_domain::change::Alert>, ClientError> {
        self.get("/v1/alerts", &[])
    }

    /// A recorded decision.
    pub fn decision(&self, id: &str) -> Result<DecisionView, ClientError> {
        self.get(&format!("/v1/decisions/{id}"), &[])
    }

    /// Requests a waiver.
    pub fn request_waiver(&self, req: &WaiverRequest) -> Result<serde_json::Value, ClientError> {
        self.post_json("/v1/waivers", req)
    }

    /// Approves a waiver (someone other than its requester).
    pub fn approve_waiver(&self, id: &str) -> Result<serde_json::Value, ClientError> {
        self.post(&format!("/v1/waivers/{id}/approve"), &[], b"")
    }

    /// Waivers, newest first.
    pub fn list_waivers(&self, app: Option<&str>) -> Result<Vec<serde_json::Value>, ClientError> {
        let q: Vec<(&str, String)> = app.map(|a| ("app", a.to_owned())).into_iter().collect();
        self.get("/v1/waivers", &q)
    }

    /// One evidence record with its statement.
    pub fn show_evidence(&self, id: &str) -> Result<EvidenceView, ClientError> {
        self.get(&format!("/v1/evidence/{id}"), &[])
    }

    /// The log's origin, key and latest checkpoint.
    pub fn ledger_info(&self) -> Result<LogInfo, ClientError> {
        self.get("/v1/ledger", &[])
    }

    /// Asks the server to verify its stored ledger now (admin, auditor):
    /// `{"verified", "size", "first_bad_index"?, "reason"?}`.
    pub fn verify_ledger(&self) -> Result<serde_json::Value, ClientError> {
        self.post("/v1/ledger/verify", &[], b"")
    }

    /// A page of entries.
    pub fn entries(&self, start: u64, limit: u32) -> Result<EntriesPage, ClientError> {
        self.get(
            "/v1/ledger/entries",
            &[("start", start.to_string()), ("limit", limit.to_string())],
        )
    }

    /// An inclusion proof.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: Option<u64>,
    ) -> Result<InclusionProof, ClientError> {
        let mut q = vec![("index", index.to_string())];
        if let Some(s) = size {
            q.push(("size", s.to_string()));
        }
        self.get("/v1/ledger/proof/inclusion", &q)
    }

    /// A consistency proof.
    pub fn consistency_proof(
        &self,
        from: u64,
        to: Option<u64>,
    ) -> Result<ConsistencyProof, ClientError> {
        let mut q = vec![("from", from.to_string())];
        if let Some(t) = to {
            q.push(("to", t.to_string()));
        }
        self.get("/v1/ledger/proof/consistency", &q)
    }
}
