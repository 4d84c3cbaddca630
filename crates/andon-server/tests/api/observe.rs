//! What operators watch, through the real HTTP path on both backends: liveness and
//! readiness, a request id on every response, and Prometheus metrics whose figures match
//! what was done.

use crate::common;
use andon_domain::Sha256Digest;
use andon_domain::api::DeploymentRequest;
use andon_testkit::{Backend, both_backends};

fn operators_see_requests_the_ledger_and_alerts(b: Backend) {
    let h = common::start(b);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str, token: Option<&str>, id: Option<&str>| {
        let mut r = agent.get(&format!("{}{path}", h.url));
        if let Some(t) = token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        if let Some(i) = id {
            r = r.header("X-Request-Id", i);
        }
        let mut resp = r.call().expect("response");
        let rid = resp
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        (status, rid, body)
    };
    assert_eq!(get("/livez", None, None).0, 200);
    let (status, _, body) = get("/readyz", None, None);
    assert_eq!((status, body.as_str()), (200, "ready"));
    // A request id: the caller's, or a new one.
    assert_eq!(
        get("/v1/whoami", h.admin.token(), Some("ci-run-42")).1,
        "ci-run-42"
    );
    let fresh = get("/v1/whoami", h.admin.token(), None).1;
    assert_eq!(fresh.len(), 16, "{fresh}");
    assert!(fresh.chars().all(|c| c.is_ascii_hexdigit()));

    h.admin.create_application("pay", "team").expect("app");
    h.admin.create_application("shop", "team").expect("app");
    h.admin
        .record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact: format!("registry.example.com/pay@{}", Sha256Digest::of(b"x")),
            environment: "production".into(),
            ..Default::default()
        })
        .expect("a gate bypass");
    assert_eq!(get("/metrics", None, None).0, 401);
    let (status, _, text) = get("/metrics", h.admin.token(), None);
    assert_eq!(status, 200);
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF:\n{text}"
    );
    // The figures the database holds are read every few seconds: wait for a first read.
    let text = {
        let mut text = text;
        for _ in 0..100 {
            if text.contains("andon_database_up 1") && text.contains("andon_alerts_open{") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            text = get("/metrics", h.admin.token(), None).2;
        }
        text
    };
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(
        value(r#"andon_http_requests_total{method="POST",route="/v1/applications",status="201"}"#),
        2.0
    );
    assert_eq!(
        value(
            r#"andon_http_request_duration_seconds_count{method="POST",route="/v1/applications"}"#
        ),
        2.0
    );
    let size = h.admin.ledger_info().expect("info").size;
    assert_eq!(value("andon_ledger_entries"), size as f64);
    assert_eq!(
        value(r#"andon_alerts_open{kind="gate_bypass",severity="high"}"#),
        1.0
    );
    assert!(value("andon_ledger_append_duration_seconds_count") >= 3.0);
    assert_eq!(value("andon_database_up"), 1.0);
    assert_eq!(value("andon_writes_stopped"), 0.0);
    assert_eq!(value("andon_sequencer_queue_depth"), 0.0);
    assert_eq!(value("andon_notifications_pending"), 0.0);
}

/// A request body that arrives only when told to: its handler holds a request slot.
struct Held(std::sync::mpsc::Receiver<()>, bool);

impl std::io::Read for Held {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.1 {
            return Ok(0);
        }
        let _ = self.0.recv();
        self.1 = true;
        let body = br#"[{"kind":"login.success","at":"2026-11-02T10:00:00Z","source":"okta"}]"#;
        buf[..body.len()].copy_from_slice(body);
        Ok(body.len())
    }
}

fn overload_is_refused_with_retry_after_and_writes_nothing(b: Backend) {
    // One request at a time, and a sequencer queue of 8 facts.
    let h = common::Harness::start_configured(b, |c| {
        c.max_in_flight = 1;
        c.max_batch = 1;
    });
    let (ci, key) = h.pipeline("pay");
    // A batch bigger than the queue is refused whole, before any of it is queued.
    let before = h.counts();
    let envelopes: Vec<Vec<u8>> = (0..9).map(|n| common::envelope(&key, n)).collect();
    let (status, code) = common::err(ci.submit_evidence_batch("pay", None, &envelopes));
    assert_eq!((status, code.as_str()), (429, "too_busy"));
    assert_eq!(h.counts(), before, "a refused batch wrote something");
    assert_eq!(
        ci.submit_evidence_batch("pay", None, &envelopes[..8])
            .expect("fits")
            .len(),
        8
    );

    // While one request holds the only slot, others get 429 with Retry-After. The held
    // request must take the slot first: it is sent alone, and the probe follows a moment
    // later; on a loaded machine the probe can still win the race (then the held request
    // is the one refused), so the scenario is tried again, a few times at most.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let admin_token = h.admin.token().expect("token").to_owned();
    let probe = || {
        agent
            .get(&format!("{}/v1/whoami", h.url))
            .header("Authorization", &format!("Bearer {admin_token}"))
            .call()
            .expect("response")
    };
    for attempt in 1..=5 {
        let (tx, rx) = std::sync::mpsc::channel();
        let url = format!("{}/v1/telemetry", h.url);
        let token = ci.token().expect("token").to_owned();
        let slow = std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            agent
                .post(&url)
                .header("Authorization", &format!("Bearer {token}"))
                .header("Content-Type", "application/json")
                .send(ureq::SendBody::from_reader(&mut Held(rx, false)))
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
        std::thread::sleep(std::time::Duration::from_millis(300 * attempt));
        let refused = probe();
        if refused.status().as_u16() != 429 {
            let _ = tx.send(());
            let _ = slow.join();
            assert!(attempt < 5, "the held request never held the slot");
            continue;
        }
        assert_eq!(
            refused
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        // Probes are not refused: an overloaded server is still alive.
        let live = agent
            .get(&format!("{}/livez", h.url))
            .call()
            .expect("response");
        assert_eq!(live.status().as_u16(), 200);
        // A client that retries (as the CLI does) waits out the overload and gets its
        // answer.
        let patient = andon_client::Client::new(&h.url, Some(admin_token.clone())).retrying(3);
        let waiting = std::thread::spawn(move || patient.whoami().map(|w| w.name));
        std::thread::sleep(std::time::Duration::from_millis(300));
        tx.send(()).expect("release");
        assert_eq!(slow.join().expect("thread"), 201);
        assert_eq!(waiting.join().expect("thread").expect("answered"), "admin");
        break;
    }
    assert_eq!(h.admin.whoami().expect("served again").name, "admin");
}

fn guessing_tokens_is_slowed_to_the_limit(b: Backend) {
    let h = common::Harness::start_configured(b, |c| {
        c.auth_failure_limit = 3;
        c.auth_failure_window = std::time::Duration::from_secs(3);
    });
    let guess = andon_client::Client::new(&h.url, Some("andon_guess".into()));
    // A forgotten header is not a guess: never counted.
    let anonymous = andon_client::Client::new(&h.url, None);
    for _ in 0..5 {
        assert_eq!(common::err(anonymous.whoami()).0, 401);
    }
    for _ in 0..3 {
        assert_eq!(common::err(guess.whoami()), (401, "unauthorized".into()));
    }
    // Past the limit the address is refused before any token is looked at, even a good one.
    assert_eq!(
        common::err(guess.whoami()),
        (429, "too_many_auth_failures".into())
    );
    assert_eq!(common::err(h.admin.whoami()).0, 429);
    // The window ends; the good token works again.
    std::thread::sleep(std::time::Duration::from_millis(3100));
    assert_eq!(h.admin.whoami().expect("served again").name, "admin");
}

/// The shipped alerting rules pass promtool's own tests, and every metric they name (with
/// its labels) is one a running server serves.
fn the_alert_rules_name_what_the_server_serves(b: Backend) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let out = std::process::Command::new("bash")
        .arg(format!("{root}/.ci/prometheus.sh"))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = std::fs::read_to_string(format!("{root}/integrations/prometheus/andon.rules.yml"))
        .expect("rules");
    let h = common::start(b);
    h.admin.create_application("pay", "team").expect("app");
    h.admin
        .record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact: format!("registry.example.com/pay@{}", Sha256Digest::of(b"x")),
            environment: "production".into(),
            ..Default::default()
        })
        .expect("a gate bypass");
    h.admin.verify_ledger().expect("a self-check");
    let mut text = String::new();
    for _ in 0..100 {
        text = h.admin_get("/metrics").1;
        if text.contains("andon_alerts_open{") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let served: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    let named: std::collections::BTreeSet<String> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("andon_"))
        .map(str::to_owned)
        .collect();
    assert!(named.len() >= 8, "{named:?}");
    for m in &named {
        assert!(
            served.contains(m.as_str()),
            "the rules name {m}, the server serves {served:?}"
        );
    }
    assert!(
        text.contains("andon_alerts_open{kind=\"gate_bypass\""),
        "{text}"
    );
}

both_backends!(
    the_alert_rules_name_what_the_server_serves,
    operators_see_requests_the_ledger_and_alerts,
    overload_is_refused_with_retry_after_and_writes_nothing,
    guessing_tokens_is_slowed_to_the_limit
);
