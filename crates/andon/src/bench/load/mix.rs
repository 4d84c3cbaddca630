//! One client's loop: a release's worth of calls, each timed and counted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use andon_client::{Client, ClientError, EvidenceQuery};
use andon_domain::api::{DeploymentRequest, GateRequest};
use andon_domain::{Sha256Digest, SigningKey, Statement};
use serde::Serialize;

/// What a call was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    Attest,
    Gate,
    Webhook,
    Deploy,
    /// `GET /v1/evidence?app=...&limit=20`.
    SearchEvidence,
    /// `GET /v1/evidence?subject=...`.
    SearchSubject,
    /// `GET /v1/ledger`.
    LedgerHead,
    /// `GET /v1/trace?q=<digest>`.
    Trace,
    /// `GET /v1/deployments?application=...&environment=...`.
    ListDeployments,
}

/// The calls of one client.
#[derive(Default)]
pub(super) struct Log {
    pub(super) latencies: BTreeMap<Kind, Vec<Duration>>,
    pub(super) errors: BTreeMap<String, u64>,
    /// Calls that succeeded, counted across every client as they happen (the soak's
    /// throughput per interval).
    done: Arc<AtomicU64>,
}

impl Log {
    fn record<T>(&mut self, kind: Kind, began: Instant, r: Result<T, ClientError>) {
        let took = began.elapsed();
        match r {
            Ok(_) => {
                self.latencies.entry(kind).or_default().push(took);
                self.done.fetch_add(1, Ordering::Relaxed);
            }
            Err(ClientError::Api { status, code, .. }) => {
                *self.errors.entry(format!("{status} {code}")).or_default() += 1;
            }
            Err(e) => *self.errors.entry(format!("transport: {e}")).or_default() += 1,
        }
    }
}

/// A staging policy of one trivial control, so gates allow and deployments are allowed.
pub(super) fn open_policy() -> serde_json::Value {
    serde_json::json!({
        "name": "load-staging", "applications": ["load"], "environments": ["staging"],
        "builtin": false,
        "modules": {"open.rego": "package andon.controls.open\n\nimport rego.v1\n\nmetadata := {\"id\": \"open\", \"title\": \"Nothing required\", \"risk\": \"none\", \"stage\": \"release\", \"evidence\": [], \"frameworks\": []}\n\ndeny contains \"never\" if false\n"}
    })
}

/// What every client shares.
pub(super) struct Shared<'a> {
    /// The pipeline's token, for writes.
    pub(super) token: &'a str,
    /// The admin's token, for reads.
    pub(super) admin_token: &'a str,
    /// The pipeline's signing key.
    pub(super) key: &'a SigningKey,
    /// The GitHub webhook secret.
    pub(super) secret: &'a str,
    /// Set when the run is over.
    pub(super) stop: &'a AtomicBool,
    /// Successful calls so far, all clients.
    pub(super) done: &'a Arc<AtomicU64>,
}

/// Client `id`'s loop against the server at `url`, until `stop`.
pub(super) fn client_loop(id: usize, url: &str, shared: &Shared<'_>) -> Log {
    let Shared {
        token,
        admin_token,
        key,
        secret,
        stop,
        done,
    } = *shared;
    let ci = Client::new(url, Some(token.to_owned()));
    let reader = Client::new(url, Some(admin_token.to_owned()));
    let mut hook = crate::fixtures::github_history::Hook {
        client: &reader,
        secret,
        repository: "example/load".into(),
        sent: 0,
        run_id: format!("load-{id}-{}", std::process::id()),
    };
    let mut log = Log {
        done: done.clone(),
        ..Log::default()
    };
    let mut release = 0u64;
    while !stop.load(Ordering::Relaxed) {
        release += 1;
        let digest = Sha256Digest::of(format!("load {id} {release}").as_bytes());
        let artifact = format!("registry.example.com/load@{digest}");
        for n in 0..10u32 {
            let st = Statement::new(
                vec![("registry.example.com/load".into(), digest)],
                "https://andon.dev/bench/v1".into(),
                serde_json::json!({"step": n, "status": "passed", "tests": 412, "failures": 0,
                    "runner": "ubuntu-24.04", "duration_s": 93.4}),
            );
            let t = Instant::now();
            log.record(
                Kind::Attest,
                t,
                ci.submit_evidence(
                    "load",
                    Some(&format!("{id}-{release}")),
                    None,
                    &st.sign(key),
                ),
            );
        }
        for _ in 0..2 {
            let t = Instant::now();
            let r = ci.gate(&GateRequest {
                application: "load".into(),
                artifact: artifact.clone(),
                environment: "staging".into(),
                production: Some(false),
                emergency: None,
                change: None,
            });
            log.record(Kind::Gate, t, r);
        }
        for p in 0..2u64 {
            let sha = hex::encode(
                &Sha256Digest::of(format!("{id} {release} {p}").as_bytes()).hex()[..20],
            );
            let t = Instant::now();
            let r = hook
                .push(
                    "main",
                    &[(&sha, "Fix the rounding of refunds (PAY-42)", "dana")],
                )
                .map_err(|e| ClientError::Unverified(e.to_string()));
            log.record(Kind::Webhook, t, r);
        }
        let t = Instant::now();
        let r = ci.record_deployment(&DeploymentRequest {
            application: "load".into(),
            artifact: artifact.clone(),
            environment: "staging".into(),
            production: Some(false),
            decision: None,
            run: Some(format!("{id}-{release}")),
            deployed_at: None,
            late: None,
        });
        log.record(Kind::Deploy, t, r);
        let t = Instant::now();
        let r = reader.list_evidence(&EvidenceQuery {
            app: Some("load".into()),
            limit: Some(20),
            ..Default::default()
        });
        log.record(Kind::SearchEvidence, t, r);
        let t = Instant::now();
        log.record(Kind::LedgerHead, t, reader.ledger_info());
        let t = Instant::now();
        log.record(Kind::Trace, t, reader.trace_artifact(&digest.to_string()));
        let t = Instant::now();
        log.record(
            Kind::ListDeployments,
            t,
            reader.deployments(Some("load"), Some("staging")),
        );
        let t = Instant::now();
        let r = reader.list_evidence(&EvidenceQuery {
            subject: Some(digest.to_string()),
            ..Default::default()
        });
        log.record(Kind::SearchSubject, t, r);
    }
    log
}
