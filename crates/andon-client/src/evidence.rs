//! Evidence: submitting signed envelopes, one or a batch, and searching and reading what was
//! recorded.

use andon_domain::Sha256Digest;
use andon_domain::api::{EvidencePage, EvidenceView, Receipt, ReportReceipt};

use crate::{Client, ClientError};

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

/// The body of `POST /v1/evidence/batch`: the envelopes, each as given, in a JSON array.
pub fn batch_body(envelopes: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(envelopes.iter().map(|e| e.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, e) in envelopes.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(e);
    }
    body.push(b']');
    body
}

impl Client {
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
        let body = batch_body(envelopes);
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

    /// Uploads a report too large to carry inline, under its digest: `body` yields its
    /// `size` bytes (a file, or a reader that shows progress). Sent once, without retries:
    /// the server asks for it only after accepting the request's headers.
    pub fn upload_report(
        &self,
        digest: &Sha256Digest,
        size: u64,
        body: &mut dyn std::io::Read,
    ) -> Result<ReportReceipt, ClientError> {
        let mut req = self
            .agent
            .put(&self.url(&format!("/v1/reports/{digest}")))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", &size.to_string())
            .header("Expect", "100-continue");
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        Self::read(req.send(ureq::SendBody::from_reader(body)))
    }

    /// An uploaded report's bytes.
    pub fn report(&self, digest: &Sha256Digest) -> Result<Vec<u8>, ClientError> {
        self.get_bytes(&format!("/v1/reports/{digest}"))
    }

    /// One evidence record with its statement.
    pub fn show_evidence(&self, id: &str) -> Result<EvidenceView, ClientError> {
        self.get(&format!("/v1/evidence/{id}"), &[])
    }
}
