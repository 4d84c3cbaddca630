//! What operators watch, through the real HTTP path on both backends: liveness and
//! readiness, a request id on every response, and Prometheus metrics whose figures match
//! what was done.

mod common;

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
    assert_eq!(value(r#"andon_alerts_open{severity="high"}"#), 1.0);
    assert!(value("andon_ledger_append_duration_seconds_count{}") >= 3.0);
    assert_eq!(value("andon_sequencer_queue_depth"), 0.0);
    assert_eq!(value("andon_notifications_pending"), 0.0);
}

both_backends!(operators_see_requests_the_ledger_and_alerts);
