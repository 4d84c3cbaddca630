//! Read-only reports: the trace of a commit or an artifact, the Risk Control Matrix, and
//! DORA's four keys.

use andon_domain::api::TraceView;

use crate::{Client, ClientError};

impl Client {
    /// The trace of a commit (full id or a unique prefix of 7 or more hex digits).
    pub fn trace_commit(&self, sha: &str) -> Result<TraceView, ClientError> {
        self.get("/v1/trace", &[("commit", sha.to_owned())])
    }

    /// The trace of an artifact (`sha256:<hex>`).
    pub fn trace_artifact(&self, digest: &str) -> Result<TraceView, ClientError> {
        self.get("/v1/trace", &[("artifact", digest.to_owned())])
    }

    /// The Risk Control Matrix as the server renders it at `path` (`/v1/controls`, or
    /// `/v1/controls/oscal/assessment-results` or `.../component-definition`), with `query`
    /// (`application`, and optionally `environment`, `since`, `until`, `format`): the body.
    pub fn controls_document(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, ClientError> {
        self.get_text(path, query)
    }

    /// The blast radius of a package URL, in every environment or in one.
    pub fn impact(
        &self,
        purl: &str,
        environment: Option<&str>,
    ) -> Result<andon_domain::vulns::Impact, ClientError> {
        self.impact_by("purl", purl, environment)
    }

    /// The blast radius of a vulnerability id of an imported advisory (`CVE-…`, `GHSA-…`).
    pub fn impact_of(
        &self,
        id: &str,
        environment: Option<&str>,
    ) -> Result<andon_domain::vulns::Impact, ClientError> {
        self.impact_by("id", id, environment)
    }

    fn impact_by(
        &self,
        key: &'static str,
        value: &str,
        environment: Option<&str>,
    ) -> Result<andon_domain::vulns::Impact, ClientError> {
        let mut q = vec![(key, value.to_owned())];
        if let Some(e) = environment {
            q.push(("environment", e.to_owned()));
        }
        self.get("/v1/vulnerabilities/impact", &q)
    }

    /// Imports OSV records: `body` is one record, a JSON array, or `{"advisories": [...]}`.
    pub fn import_advisories(
        &self,
        body: &[u8],
    ) -> Result<andon_domain::vulns::ImportAnswer, ClientError> {
        self.post("/v1/advisories", &[], body)
    }

    /// The imported advisories, newest import first.
    pub fn advisories(&self) -> Result<Vec<andon_domain::vulns::AdvisoryBrief>, ClientError> {
        self.get("/v1/advisories", &[])
    }

    /// Vulnerability items: `query` holds any of `application`, `state` (or `open`),
    /// `vulnerability`.
    pub fn vuln_items(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<andon_domain::vuln_items::VulnItem>, ClientError> {
        self.get("/v1/vulnerabilities/items", query)
    }

    /// One vulnerability item with its transitions.
    pub fn vuln_item(&self, id: &str) -> Result<andon_domain::vuln_items::VulnItem, ClientError> {
        self.get(&format!("/v1/vulnerabilities/items/{id}"), &[])
    }

    /// Advances every vulnerability item and raises the overdue alerts now (admin).
    pub fn check_vulnerabilities(
        &self,
    ) -> Result<andon_domain::vuln_items::CheckAnswer, ClientError> {
        self.post("/v1/vulnerabilities/check", &[], b"")
    }

    /// DORA's four keys: `query` holds `application` or `team`, and optionally `period`,
    /// `since`, `until`.
    pub fn metrics(&self, query: &[(&str, String)]) -> Result<serde_json::Value, ClientError> {
        self.get("/v1/metrics", query)
    }
}
