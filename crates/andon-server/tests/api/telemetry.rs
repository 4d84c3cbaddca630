//! Security telemetry through the real HTTP path, on both backends: a batch is one ledger
//! entry whose digest anyone recomputes from the stored events; bad batches write nothing;
//! each rule raises its alert when it must and stays quiet when it must not.

use crate::common;
use crate::common::release::{Twist, world};
use crate::common::{Harness, err};
use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_domain::api::{DeploymentRequest, GateRequest};
use andon_domain::change::{Alert, ChangeFields};
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use serde_json::{Value, json};

fn send(c: &Client, events: Value) -> Value {
    c.send_telemetry(&serde_json::to_vec(&events).expect("json"))
        .expect("accepted")
}

fn alerts_of(h: &Harness, kind: &str) -> Vec<Alert> {
    h.admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == kind)
        .collect()
}

fn artifact(n: &str) -> String {
    format!(
        "registry.example.com/pay@{}",
        Sha256Digest::of(n.as_bytes())
    )
}

/// Records a production deployment of `pay` at `at`, as it happens (the clock moved
/// there), ungated (a gate bypass, which is beside the point here); returns its id.
fn deploy(h: &Harness, clock: &Clock, n: &str, at: &str) -> String {
    clock.set_ms(common::at_ms(at));
    h.admin
        .record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact: artifact(n),
            environment: "production".into(),
            deployed_at: Some(at.into()),
            ..Default::default()
        })
        .expect("recorded")["deployment"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn a_batch_is_one_ledger_entry_with_a_recomputable_digest(b: Backend) {
    let h = common::start(b);
    let (ci, _) = h.pipeline("pay");
    h.admin.create_application("shop", "team").expect("shop");
    let events = json!([
        {"kind": "login.success", "at": "2026-11-02T10:00:00Z", "source": "okta", "application": "pay", "count": 12},
        {"kind": "http.requests", "at": "2026-11-02T10:01:00Z", "source": "lb", "application": "pay",
         "environment": "production", "count": 900, "status_4xx": 30, "status_5xx": 2},
        {"kind": "iam.change", "at": "2026-11-02T10:02:00+01:00", "source": "cloudtrail", "actor": "alice",
         "detail": "AttachRolePolicy AdministratorAccess"}
    ]);
    let r = send(&ci, events);
    assert_eq!(r["accepted"], 3);
    let idx = r["ledger_index"].as_u64().expect("index");
    let digest = r["digest"].as_str().expect("digest").to_owned();

    // The ledger entry holds the batch's digest ...
    let page = h.admin.entries(idx, 1).expect("entries");
    assert_eq!(page.entries[0].kind, "telemetry.batch");
    let leaf = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &page.entries[0].entry,
    )
    .expect("base64");
    let entry: andon_domain::LedgerEntry = serde_json::from_slice(&leaf).expect("entry");
    assert_eq!(entry.body["digest"], digest.as_str());
    assert_eq!(entry.body["count"], 3);
    assert_eq!(entry.actor, "ci-pay");
    // ... which the stored events, read back in batch order, hash to.
    let stored = h
        .admin
        .telemetry(&[("batch", idx.to_string())])
        .expect("batch");
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[2]["at"], "2026-11-02T09:02:00Z");
    let lines: Vec<String> = stored
        .iter()
        .map(|e| {
            let mut e = e.clone();
            let o = e.as_object_mut().expect("object");
            o.remove("ledger_index");
            o.remove("seq");
            serde_json::to_string(&e).expect("json")
        })
        .collect();
    let reread = andon_telemetry::parse_batch(lines.join("\n").as_bytes()).expect("valid");
    assert_eq!(andon_telemetry::batch_digest(&reread), digest);

    // Search.
    let q = |k: &'static str, v: &str| vec![(k, v.to_owned())];
    assert_eq!(
        h.admin
            .telemetry(&q("kind", "iam.change"))
            .expect("q")
            .len(),
        1
    );
    assert_eq!(
        h.admin
            .telemetry(&q("application", "pay"))
            .expect("q")
            .len(),
        2
    );
    assert_eq!(
        h.admin
            .telemetry(&q("since", "2026-11-02T10:00:30Z"))
            .expect("q")
            .len(),
        1
    );
    assert_eq!(
        err(h.admin.telemetry(&q("kind", "login"))),
        (400, "invalid_kind".into())
    );
    assert_eq!(
        h.admin.telemetry_rules().expect("rules")["login_failures"]["min_failures"],
        20
    );

    // Refused batches write nothing.
    let before = h.counts();
    let stored_before = h.admin.telemetry(&[]).expect("all").len();
    let refuse =
        |c: &Client, body: Value| err(c.send_telemetry(&serde_json::to_vec(&body).expect("json")));
    let ok = json!({"kind": "login.success", "at": "2026-11-02T10:00:00Z", "source": "okta"});
    let (status, code) = refuse(
        &ci,
        json!([ok, {"kind": "http.requests", "at": "2026-11-02T10:00:00Z", "source": "lb",
                    "application": "pay", "environment": "production"}]),
    );
    assert_eq!((status, code.as_str()), (400, "invalid_event"));
    assert_eq!(
        refuse(
            &ci,
            json!([ok, {"kind": "login.success", "at": "2026-11-02T10:00:00Z", "source": "okta", "application": "nope"}])
        ),
        (422, "unknown_application".into())
    );
    assert_eq!(
        refuse(
            &ci,
            json!([{"kind": "login.success", "at": "2026-11-02T10:00:00Z", "source": "okta", "application": "shop"}])
        ),
        (403, "application_not_allowed".into())
    );
    let auditor = h
        .admin
        .create_identity("audit", "auditor", &[])
        .expect("auditor");
    let auditor = Client::new(&h.url, Some(auditor.token));
    assert_eq!(refuse(&auditor, json!([ok])).0, 403);
    assert_eq!(refuse(&ci, json!([])), (400, "invalid_event".into()));
    let too_many: Vec<Value> = (0..10_001).map(|_| ok.clone()).collect();
    assert_eq!(refuse(&ci, json!(too_many)), (400, "invalid_event".into()));
    // The auditor's identity (created, enrolled, its own token) is the only write since.
    let after = h.counts();
    assert_eq!(
        after.ledger_entries,
        before.ledger_entries + 3,
        "identity and its token only"
    );
    assert_eq!(h.admin.telemetry(&[]).expect("all").len(), stored_before);
}

fn failed_logins_over_the_ratio_in_the_window_raise_one_alert(b: Backend) {
    let h = common::start(b);
    let (ci, _) = h.pipeline("pay");
    let login = |kind: &str, source: &str, at: &str, count: u32| json!({"kind": kind, "at": at, "source": source, "application": "pay", "count": count});
    // 25 failures against 30 successes: under the ratio.
    let r = send(
        &ci,
        json!([
            login("login.success", "okta", "2026-11-02T10:00:00Z", 30),
            login("login.failure", "okta", "2026-11-02T10:00:00Z", 25)
        ]),
    );
    assert_eq!(r["alerts"], json!([]));
    // Ten more five minutes later: the window now holds 35 against 30.
    let r = send(
        &ci,
        json!([login("login.failure", "okta", "2026-11-02T10:05:00Z", 10)]),
    );
    let raised = r["alerts"].as_array().expect("alerts");
    assert_eq!(raised.len(), 1, "{r:#}");
    assert_eq!(raised[0]["kind"], "login_failures");
    assert_eq!(raised[0]["subject"], "okta/pay");
    let message = raised[0]["message"].as_str().expect("message");
    assert!(
        message.contains("35 failed against 30 successful"),
        "{message}"
    );
    // Still attacking: the open window's alert is not raised again.
    let r = send(
        &ci,
        json!([login("login.failure", "okta", "2026-11-02T10:06:00Z", 50)]),
    );
    assert_eq!(r["alerts"], json!([]));
    assert_eq!(alerts_of(&h, "login_failures").len(), 1);

    // Another source: 15 failures (under the floor of 20), then 10 more an hour later. All
    // history holds 25, but no window does.
    let r = send(
        &ci,
        json!([login("login.failure", "vpn", "2026-11-02T10:00:00Z", 15)]),
    );
    assert_eq!(r["alerts"], json!([]));
    let r = send(
        &ci,
        json!([login("login.failure", "vpn", "2026-11-02T11:00:00Z", 10)]),
    );
    assert_eq!(r["alerts"], json!([]));
    assert_eq!(alerts_of(&h, "login_failures").len(), 1);
}

fn configuration_changes_need_a_pipeline_deployment(b: Backend) {
    let clock = Clock::manual(common::at_ms("2026-11-02T09:00:00Z"));
    let h = common::start_on_clock(b, clock.clone());
    let (ci, _) = h.pipeline("pay");
    let d = deploy(&h, &clock, "pay-1", "2026-11-02T10:00:00Z");
    let change = |kind: &str, at: &str, extra: Value| {
        let mut e = json!({"kind": kind, "at": at, "source": "cloudtrail", "application": "pay",
                           "environment": "production", "actor": "deploy-bot"});
        for (k, v) in extra.as_object().expect("object") {
            e[k] = v.clone();
        }
        e
    };
    // Explained: within 15 minutes of the deployment, or naming it.
    let r = send(
        &ci,
        json!([
            change("config.change", "2026-11-02T10:05:00Z", json!({})),
            change("security_group.change", "2026-11-02T09:50:00Z", json!({})),
            change(
                "config.change",
                "2026-11-02T13:00:00Z",
                json!({"deployment": d})
            )
        ]),
    );
    assert_eq!(r["alerts"], json!([]), "{r:#}");
    // Not explained: two hours later by hand; a change naming a deployment that does not
    // exist; an IAM change no application owns.
    let r = send(
        &ci,
        json!([
            change("security_group.change", "2026-11-02T12:00:00Z",
                   json!({"actor": "mallory", "detail": "0.0.0.0/0 on 22"})),
            change("config.change", "2026-11-02T10:01:00Z", json!({"deployment": "D-nope"})),
            {"kind": "iam.change", "at": "2026-11-02T10:00:00Z", "source": "cloudtrail", "actor": "mallory"}
        ]),
    );
    let raised = r["alerts"].as_array().expect("alerts");
    assert_eq!(raised.len(), 3, "{r:#}");
    let idx = r["ledger_index"].as_u64().expect("index");
    assert_eq!(raised[0]["kind"], "unplanned_config_change");
    assert_eq!(raised[0]["severity"], "high");
    assert_eq!(raised[0]["subject"], format!("telemetry:{idx}#0"));
    let message = raised[0]["message"].as_str().expect("message");
    assert!(
        message.contains("security_group.change by mallory") && message.contains("0.0.0.0/0"),
        "{message}"
    );
    assert_eq!(raised[2]["subject"], format!("telemetry:{idx}#2"));
    assert_eq!(alerts_of(&h, "unplanned_config_change").len(), 3);
}

fn maintenance_outside_a_planned_window_is_alerted(b: Backend) {
    let w = world(b);
    let artifact = w.release("pay-4.0.0", Twist::None);
    let window = |start: &str, end: &str| GateRequest {
        application: "pay".into(),
        artifact: artifact.clone(),
        environment: "production".into(),
        change: Some(ChangeFields {
            planned_start: Some(start.into()),
            planned_end: Some(end.into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    // A planned window is two RFC 3339 times, in order; a bad one opens nothing.
    let changes_before = w.h.admin.changes(None).expect("changes").len();
    for (s, e) in [
        ("tonight", "2026-11-03T02:00:00Z"),
        ("2026-11-03T02:00:00Z", "2026-11-03T01:00:00Z"),
    ] {
        assert_eq!(err(w.ci.gate(&window(s, e))), (400, "invalid_time".into()));
    }
    assert_eq!(
        w.h.admin.changes(None).expect("changes").len(),
        changes_before
    );
    let d =
        w.ci.gate(&window("2026-11-03T01:00:00Z", "2026-11-03T02:00:00Z"))
            .expect("gated");
    assert!(
        d.change.is_some(),
        "the production gate opened a change record"
    );

    let switch = |kind: &str, at: &str| {
        json!({"kind": kind, "at": at, "source": "ops-console", "application": "pay",
               "environment": "production", "actor": "oncall"})
    };
    let r = send(
        &w.ci,
        json!([
            switch("maintenance.on", "2026-11-03T01:05:00Z"),
            switch("maintenance.off", "2026-11-03T01:55:00Z")
        ]),
    );
    assert_eq!(r["alerts"], json!([]), "{r:#}");
    let r = send(
        &w.ci,
        json!([
            switch("maintenance.on", "2026-11-03T14:00:00Z"),
            // Another environment has no change record at all.
            {"kind": "maintenance.on", "at": "2026-11-03T01:30:00Z", "source": "ops-console",
             "application": "pay", "environment": "staging"}
        ]),
    );
    let raised = r["alerts"].as_array().expect("alerts");
    assert_eq!(raised.len(), 2, "{r:#}");
    assert_eq!(raised[0]["kind"], "unscheduled_maintenance");
    assert_eq!(raised[0]["environment"], "production");
    assert!(
        raised[0]["message"]
            .as_str()
            .expect("message")
            .contains("by oncall"),
        "{r:#}"
    );
    assert_eq!(raised[1]["environment"], "staging");
}

fn a_5xx_spike_after_a_deployment_marks_it_suspect(b: Backend) {
    let clock = Clock::manual(common::at_ms("2026-11-02T09:00:00Z"));
    let h = common::start_on_clock(b, clock.clone());
    let (ci, _) = h.pipeline("pay");
    let d1 = deploy(&h, &clock, "pay-1", "2026-11-02T10:00:00Z");
    let traffic = |at: &str, count: u32, errors: u32| {
        json!({"kind": "http.requests", "at": at, "source": "lb", "application": "pay",
               "environment": "production", "count": count, "status_5xx": errors})
    };
    // 0.5% before, 0.8% after: no spike.
    let r = send(
        &ci,
        json!([
            traffic("2026-11-02T09:40:00Z", 1000, 5),
            traffic("2026-11-02T10:05:00Z", 1000, 8)
        ]),
    );
    assert_eq!(r["alerts"], json!([]));
    // 120 of 500 ten minutes in: 128 of 1500 since the deployment, 8.5% against 0.5%.
    let r = send(&ci, json!([traffic("2026-11-02T10:10:00Z", 500, 120)]));
    let raised = r["alerts"].as_array().expect("alerts");
    assert_eq!(raised.len(), 1, "{r:#}");
    assert_eq!(raised[0]["kind"], "error_spike");
    assert_eq!(raised[0]["subject"], d1.as_str());
    assert_eq!(raised[0]["severity"], "high");
    let message = raised[0]["message"].as_str().expect("message");
    assert!(
        message.contains("128 5xx of 1500 requests") && message.contains("5 5xx of 1000"),
        "{message}"
    );
    let suspect = |id: &str| {
        h.admin
            .deployments(Some("pay"), None)
            .expect("deployments")
            .into_iter()
            .find(|d| d.id == id)
            .expect("deployment")
            .suspect_at
    };
    assert_eq!(
        suspect(&d1),
        Some(
            "2026-11-02T10:10:00Z"
                .parse::<jiff::Timestamp>()
                .expect("time")
                .as_millisecond()
        )
    );
    // More errors: no second alert for the same deployment.
    let r = send(&ci, json!([traffic("2026-11-02T10:12:00Z", 500, 300)]));
    assert_eq!(r["alerts"], json!([]));
    // An hour later errors are no deployment's fault (none in the 30 minutes before).
    let r = send(&ci, json!([traffic("2026-11-02T11:00:00Z", 1000, 500)]));
    assert_eq!(r["alerts"], json!([]));
    // A deployment into an already failing service: 10% before, 12% after, not 3x.
    let d2 = deploy(&h, &clock, "pay-2", "2026-11-02T13:00:00Z");
    let r = send(
        &ci,
        json!([
            traffic("2026-11-02T12:45:00Z", 1000, 100),
            traffic("2026-11-02T13:05:00Z", 1000, 120)
        ]),
    );
    assert_eq!(r["alerts"], json!([]), "{r:#}");
    assert_eq!(suspect(&d2), None);
    assert_eq!(alerts_of(&h, "error_spike").len(), 1);
}

fn disabled_rules_stay_quiet(b: Backend) {
    let h = Harness::start_configured(b, |c| {
        c.telemetry_rules = andon_telemetry::Rules::from_json(
            r#"{"config_change": {"enabled": false}, "maintenance": {"enabled": false}}"#,
        )
        .expect("rules");
    });
    let (ci, _) = h.pipeline("pay");
    let r = send(
        &ci,
        json!([
            {"kind": "config.change", "at": "2026-11-02T10:00:00Z", "source": "x", "application": "pay", "environment": "production"},
            {"kind": "maintenance.on", "at": "2026-11-02T10:00:00Z", "source": "x", "application": "pay", "environment": "production"}
        ]),
    );
    assert_eq!(r["alerts"], json!([]));
    assert_eq!(
        h.admin.telemetry_rules().expect("rules")["config_change"]["enabled"],
        false
    );
}

both_backends!(
    a_batch_is_one_ledger_entry_with_a_recomputable_digest,
    failed_logins_over_the_ratio_in_the_window_raise_one_alert,
    configuration_changes_need_a_pipeline_deployment,
    maintenance_outside_a_planned_window_is_alerted,
    a_5xx_spike_after_a_deployment_marks_it_suspect,
    disabled_rules_stay_quiet
);
