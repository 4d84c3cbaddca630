//! What runs in a Kubernetes namespace, read from the API server with a service account's
//! token, as `andon env report` does from a pod inside the cluster (or from anywhere with a
//! token and the cluster's CA).
//!
//! `GET /api/v1/namespaces/{namespace}/pods`, paged with `limit` and `continue`, optionally
//! filtered by a label selector; the answer is a `PodList`, read like `kubectl get pods -o
//! json` (each running container by the digest of its `imageID`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use andon_domain::access::Workload;
use anyhow::{Context as _, bail};
use serde_json::Value;

/// Where a pod finds its service account's token, CA and namespace.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How to reach the API server.
#[derive(Debug, Clone)]
pub struct ApiSource {
    /// `https://host:port`.
    pub server: String,
    /// The namespace whose pods are read.
    pub namespace: String,
    /// A file holding the bearer token (a service account's).
    pub token_file: PathBuf,
    /// The cluster's CA certificates (PEM); without it the public web roots are trusted.
    pub ca_file: Option<PathBuf>,
    /// A label selector (`app=pay`), passed through to the API.
    pub selector: Option<String>,
}

impl ApiSource {
    /// The in-cluster defaults: the server from `KUBERNETES_SERVICE_HOST` and
    /// `KUBERNETES_SERVICE_PORT`, the token and CA from the service account's directory.
    pub fn in_cluster(
        namespace: String,
        server: Option<String>,
        token_file: Option<PathBuf>,
        ca_file: Option<PathBuf>,
        selector: Option<String>,
    ) -> anyhow::Result<Self> {
        let server = match server {
            Some(s) => s,
            None => {
                let host = std::env::var("KUBERNETES_SERVICE_HOST").context(
                    "no --kubernetes-server and KUBERNETES_SERVICE_HOST is not set (not in a cluster)",
                )?;
                let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or("443".into());
                if host.contains(':') {
                    format!("https://[{host}]:{port}")
                } else {
                    format!("https://{host}:{port}")
                }
            }
        };
        let dir = Path::new(SERVICE_ACCOUNT_DIR);
        let ca_file = ca_file.or_else(|| Some(dir.join("ca.crt")).filter(|p| p.exists()));
        Ok(Self {
            server: server.trim_end_matches('/').to_owned(),
            namespace,
            token_file: token_file.unwrap_or_else(|| dir.join("token")),
            ca_file,
            selector,
        })
    }

    fn agent(&self) -> anyhow::Result<ureq::Agent> {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)));
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let mut certs = Vec::new();
            for item in ureq::tls::parse_pem(&pem) {
                if let ureq::tls::PemItem::Certificate(c) =
                    item.with_context(|| format!("{} is not PEM", path.display()))?
                {
                    certs.push(c);
                }
            }
            if certs.is_empty() {
                bail!("{} holds no PEM certificate", path.display());
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                    .build(),
            );
        }
        Ok(config.build().into())
    }

    /// Every running container of the namespace's pods (all pages).
    pub fn workloads(&self) -> anyhow::Result<Vec<Workload>> {
        let token = std::fs::read_to_string(&self.token_file)
            .with_context(|| format!("reading the token {}", self.token_file.display()))?;
        let token = token.trim();
        if token.is_empty() {
            bail!("the token file {} is empty", self.token_file.display());
        }
        let agent = self.agent()?;
        let url = format!("{}/api/v1/namespaces/{}/pods", self.server, self.namespace);
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let mut req = agent
                .get(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .header("Accept", "application/json")
                .query("limit", "500");
            if let Some(s) = &self.selector {
                req = req.query("labelSelector", s);
            }
            if let Some(c) = &next {
                req = req.query("continue", c);
            }
            let mut resp = req
                .call()
                .with_context(|| format!("reaching the Kubernetes API at {}", self.server))?;
            let status = resp.status().as_u16();
            let body: Value = resp
                .body_mut()
                .read_json()
                .with_context(|| format!("the Kubernetes API answered {status} without JSON"))?;
            if status != 200 {
                let why = body["message"].as_str().unwrap_or("no message");
                match status {
                    401 => bail!(
                        "the Kubernetes API refused the token in {} (401): {why}",
                        self.token_file.display()
                    ),
                    403 => bail!(
                        "the token's service account may not list pods in namespace {} (403): {why}; grant it `list` on `pods` there",
                        self.namespace
                    ),
                    _ => bail!("the Kubernetes API answered {status}: {why}"),
                }
            }
            out.extend(crate::commands::env::workloads::workloads_from_pod_list(
                &body,
            )?);
            match body["metadata"]["continue"].as_str() {
                Some(c) if !c.is_empty() => next = Some(c.to_owned()),
                _ => return Ok(out),
            }
        }
    }
}
