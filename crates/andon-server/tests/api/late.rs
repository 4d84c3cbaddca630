//! Time is bounded, through the real HTTP path on both backends: a fact that carries its
//! own time (a deployment, an incident's start and resolution, a state change, a standing
//! account's use, a snapshot) older than the late window is refused with `too_late` and
//! nothing is written; within the window it is accepted; an admin records an older one with
//! a reason, and the listing, the CSV export, the ledger entry and the metrics say it
//! arrived late; any other role setting the flag is refused; a closed period says how many
//! of its facts were recorded after it closed.

use andon_client::{Client, ClientError};
use andon_domain::access::Workload;
use andon_domain::api::{
    AccountInput, AccountUseInput, DeploymentRequest, DeploymentStateRequest, IncidentRequest,
    LateRequest, SnapshotInput,
};
use andon_domain::{LedgerEntry, Sha256Digest};
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::common::{self, Harness, refusal};

const REASON: &str = "hand deployment during INC-305, found in the on-call log";

/// A harness on a manual clock standing at the real time (the ledger's acceptance times
/// are real), and the pipeline of `pay`.
fn start(b: Backend) -> (Harness, Client, Clock, Timestamp) {
    let now = Timestamp::now();
    let clock = Clock::manual(now.as_millisecond());
    let h = common::start_on_clock(b, clock.clone());
    let (ci, _) = h.pipeline("pay");
    (h, ci, clock, now)
}

fn ago(now: Timestamp, hours: i64) -> String {
    (now - SignedDuration::from_hours(hours)).to_string()
}

fn day_of(t: &str) -> String {
    t[..10].to_owned()
}

fn late(reason: &str) -> Option<LateRequest> {
    Some(LateRequest {
        reason: reason.into(),
    })
}

fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String) {
    let (status, code, _) = refusal(r);
    (status, code)
}

/// The ledger entry at `index`, decoded.
fn entry(h: &Harness, index: u64) -> LedgerEntry {
    let page = h.admin.entries(index, 1).expect("entries");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&page.entries[0].entry)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("an entry")
}

fn size(h: &Harness) -> u64 {
    h.admin.ledger_info().expect("info").size
}

fn artifact(n: &str) -> String {
    format!(
        "registry.example.com/pay@{}",
        Sha256Digest::of(n.as_bytes())
    )
}

fn deployment(n: &str, at: Option<String>) -> DeploymentRequest {
    DeploymentRequest {
        application: "pay".into(),
        artifact: artifact(n),
        environment: "production".into(),
        deployed_at: at,
        ..Default::default()
    }
}

/// A person with a role.
fn person(h: &Harness, name: &str, role: &str) -> Client {
    let issued = h.admin.create_identity(name, role, &[]).expect("identity");
    Client::new(&h.url, Some(issued.token))
}

/// The CSV export of the deployments of `pay`.
fn deployments_csv(h: &Harness) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&format!(
            "{}/v1/deployments?application=pay&format=csv",
            h.url
        ))
        .header(
            "Authorization",
            &format!("Bearer {}", h.admin.token().expect("token")),
        )
        .call()
        .expect("response");
    assert_eq!(r.status().as_u16(), 200);
    r.body_mut().read_to_string().expect("body")
}

fn browser() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// A web session of a new auditor: its cookie.
fn session(h: &Harness) -> String {
    let auditor = h
        .admin
        .create_identity("auditor", "auditor", &[])
        .expect("auditor")
        .token;
    let r = browser()
        .post(&format!("{}/ui/sign-in", h.url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("token={auditor}&next=%2Fui%2F"))
        .expect("signed in");
    r.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session")
        .to_owned()
}

/// The web page at `path`, read with the session `cookie`.
fn page(h: &Harness, cookie: &str, path: &str) -> String {
    let mut r = browser()
        .get(&format!("{}{path}", h.url))
        .header("Cookie", cookie)
        .call()
        .expect("page");
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.body_mut().read_to_string().expect("body")
}

/// The daily four keys of `pay` from `since` (a date) to the day after `now`.
fn daily(c: &Client, since: &str, now: Timestamp) -> Value {
    c.metrics(&[
        ("application", "pay".to_owned()),
        ("period", "day".to_owned()),
        ("since", since.to_owned()),
        ("until", day_of(&ago(now, -24))),
    ])
    .expect("metrics")
}

/// The period of `report` starting on `day`.
fn period<'a>(report: &'a Value, day: &str) -> &'a Value {
    report["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .find(|p| p["start"] == day)
        .unwrap_or_else(|| panic!("no period {day} in {report:#}"))
}

fn a_deployment_older_than_the_window_needs_an_admins_reason(b: Backend) {
    let (h, ci, clock, now) = start(b);
    let admin_name = h.admin.whoami().expect("whoami").name;
    let three_days = ago(now, 72);
    let approver = person(&h, "carol", "approver");

    // The pipeline, three days late: refused, with the window and the way to record it.
    let before = (h.counts(), size(&h));
    let (status, code_, message) =
        refusal(ci.record_deployment(&deployment("hand", Some(three_days.clone()))));
    assert_eq!((status, code_.as_str()), (400, "too_late"));
    assert!(message.contains("late window (24h)"), "{message}");
    assert!(message.contains("\"late\": {\"reason\""), "{message}");
    assert!(message.contains("--late"), "{message}");
    // Setting the flag is an admin's: the pipeline is refused, whatever the time.
    for at in [Some(three_days.clone()), None] {
        let flagged = DeploymentRequest {
            late: late(REASON),
            ..deployment("hand", at)
        };
        assert_eq!(
            code(ci.record_deployment(&flagged)),
            (403, "late_not_allowed".into())
        );
    }
    // An approver may not either (nor deploy at all), and a blank reason is no reason.
    assert_eq!(
        code(approver.record_deployment(&DeploymentRequest {
            late: late(REASON),
            ..deployment("hand", Some(three_days.clone()))
        }))
        .0,
        403
    );
    assert_eq!(
        code(h.admin.record_deployment(&DeploymentRequest {
            late: late("  "),
            ..deployment("hand", Some(three_days.clone()))
        })),
        (400, "invalid_late".into())
    );
    // Nor the future beyond the skew.
    assert_eq!(
        code(ci.record_deployment(&deployment("next", Some(ago(now, -1))))),
        (400, "future_time".into())
    );
    assert_eq!((h.counts(), size(&h)), before, "nothing written");
    assert!(
        h.admin
            .deployments(Some("pay"), None)
            .expect("list")
            .is_empty()
    );

    // Within the window: accepted, on time.
    let on_time = ci
        .record_deployment(&deployment("now", None))
        .expect("on time");
    assert!(on_time["deployment"]["late"].is_null(), "{on_time:#}");
    let recent = ci
        .record_deployment(&deployment("recent", Some(ago(now, 23))))
        .expect("23 hours old is within the window");
    assert!(recent["deployment"]["late"].is_null());

    // The admin, with the reason: accepted and marked late.
    let recorded = h
        .admin
        .record_deployment(&DeploymentRequest {
            late: late(REASON),
            ..deployment("hand", Some(three_days.clone()))
        })
        .expect("recorded late");
    let d = &recorded["deployment"];
    assert_eq!(
        d["late"],
        json!({"reason": REASON, "allowed_by": admin_name})
    );
    let id = d["id"].as_str().expect("id").to_owned();

    // The ledger entry carries the flag, the reason and who allowed it; an on-time one none.
    let e = entry(&h, d["ledger_index"].as_u64().expect("index"));
    assert_eq!(e.kind.as_str(), "deployment.recorded");
    assert_eq!(e.actor, admin_name);
    assert_eq!(
        e.body["deployment"]["late"],
        json!({"reason": REASON, "allowed_by": admin_name})
    );
    let e = entry(
        &h,
        on_time["deployment"]["ledger_index"].as_u64().expect("i"),
    );
    assert!(e.body["deployment"]["late"].is_null());

    // The listing marks it, and only it.
    let listed = ci.deployments(Some("pay"), None).expect("list");
    assert_eq!(listed.len(), 3);
    for x in &listed {
        assert_eq!(x.late.is_some(), x.id == id, "{x:?}");
    }
    let shown = ci.deployment(&id).expect("show");
    assert_eq!(shown.late.expect("late").reason, REASON);

    // The CSV export has the columns; the late row carries the reason.
    let csv = deployments_csv(&h);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert!(header.contains(&"late"), "{header:?}");
    assert!(header.contains(&"state_late"), "{header:?}");
    let late_rows: Vec<&str> = lines.filter(|l| l.contains(REASON)).collect();
    assert_eq!(late_rows.len(), 1, "{csv}");
    assert!(late_rows[0].contains(&format!(",{id},")), "{csv}");

    // The pages: the listing's Recorded column and the deployment's page.
    let cookie = session(&h);
    let listing = page(&h, &cookie, "/ui/deployments?application=pay");
    assert!(listing.contains(REASON), "{listing}");
    assert!(listing.contains("on time"), "{listing}");
    let one = page(&h, &cookie, &format!("/ui/deployments/{id}"));
    assert!(
        one.contains("Recorded late") && one.contains(REASON) && one.contains(&admin_name),
        "{one}"
    );

    // The metrics: the late deployment counts as late in its day, which has closed and
    // learnt of it after; today is still open.
    let since = day_of(&ago(now, 96));
    let m = daily(&ci, &since, now);
    let late_day = period(&m, &day_of(&three_days));
    assert_eq!(late_day["deployments"], 1, "{m:#}");
    assert_eq!(late_day["late"], 1);
    assert_eq!(late_day["recorded_after_close"], 1);
    let today = period(&m, &day_of(&now.to_string()));
    assert_eq!(today["late"], 0);
    assert!(today["recorded_after_close"].is_null(), "{today:#}");
    assert_eq!(m["total"]["late"], 1);

    // Two days on, today has closed too: its deployment was recorded before it closed.
    clock.advance(std::time::Duration::from_secs(48 * 3600));
    let m = daily(&ci, &since, now);
    assert_eq!(
        period(&m, &day_of(&now.to_string()))["recorded_after_close"],
        0
    );
    assert_eq!(period(&m, &day_of(&three_days))["recorded_after_close"], 1);
}

fn incidents_and_state_changes_are_bounded_too(b: Backend) {
    let (h, ci, _clock, now) = start(b);
    // A production deployment four days ago, recorded late by the admin.
    let d = h
        .admin
        .record_deployment(&DeploymentRequest {
            late: late(REASON),
            ..deployment("old", Some(ago(now, 96)))
        })
        .expect("recorded")["deployment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let incident = |c: &Client, start: String, end: Option<String>, flag| {
        c.report_incident(&IncidentRequest {
            application: "pay".into(),
            id: "INC-305".into(),
            title: "refunds failing".into(),
            started_at: start,
            resolved_at: end,
            late: flag,
            ..Default::default()
        })
    };
    let approver = person(&h, "carol", "approver");
    let before = (h.counts(), size(&h));
    let (status, code_, message) = refusal(incident(&ci, ago(now, 72), None, None));
    assert_eq!((status, code_.as_str()), (400, "too_late"));
    assert!(message.starts_with("started_at "), "{message}");
    assert_eq!(
        code(incident(&ci, ago(now, 2), Some(ago(now, 72)), None)).1,
        "too_late",
        "the resolution is bounded too"
    );
    assert_eq!(
        code(incident(&ci, ago(now, 72), None, late(REASON))),
        (403, "late_not_allowed".into())
    );
    assert_eq!(
        code(incident(&ci, ago(now, -2), None, None)),
        (400, "future_time".into())
    );
    // A state change: the same rule, for every role that may report one.
    let mark = |c: &Client, at: String, flag| {
        c.deployment_state(
            &d,
            &DeploymentStateRequest {
                state: "failed".into(),
                at: Some(at),
                note: None,
                late: flag,
            },
        )
    };
    assert_eq!(code(mark(&ci, ago(now, 72), None)).1, "too_late");
    assert_eq!(
        code(mark(&approver, ago(now, 72), late(REASON))),
        (403, "late_not_allowed".into())
    );
    assert_eq!((h.counts(), size(&h)), before, "nothing written");
    assert_eq!(
        ci.deployment(&d).expect("d").state.as_str(),
        "deployed",
        "no failure recorded"
    );

    // The admin reports it with the reason: the start is late, the resolution on time.
    let r =
        incident(&h.admin, ago(now, 72), Some(ago(now, 2)), late(REASON)).expect("reported late");
    assert_eq!(r["deployment"]["id"], d.as_str());
    assert_eq!(r["deployment"]["state"], "restored");
    assert_eq!(r["deployment"]["state_late"]["reason"], REASON);
    let end = size(&h);
    let (failed, restored) = (entry(&h, end - 2), entry(&h, end - 1));
    assert_eq!(failed.kind.as_str(), "deployment.state");
    assert_eq!(failed.body["state"], "failed");
    assert_eq!(failed.body["late"]["reason"], REASON);
    assert_eq!(restored.body["state"], "restored");
    assert!(restored.body.get("late").is_none(), "{:#}", restored.body);
    let listed = ci.deployments(Some("pay"), None).expect("list");
    assert_eq!(listed[0].state_late.as_ref().expect("late").reason, REASON);

    // Its day counts two late facts (the deployment and its failure); all three of its
    // facts, the restoration on time included, were learnt after the day had closed.
    let m = daily(&ci, &day_of(&ago(now, 120)), now);
    let day = period(&m, &day_of(&ago(now, 96)));
    assert_eq!(
        (
            day["deployments"].clone(),
            day["late"].clone(),
            day["recorded_after_close"].clone()
        ),
        (json!(1), json!(2), json!(3)),
        "{day:#}"
    );
}

fn account_uses_and_snapshots_are_bounded_too(b: Backend) {
    let (h, ci, _clock, now) = start(b);
    let admin_name = h.admin.whoami().expect("whoami").name;
    h.admin
        .register_account(&AccountInput {
            name: "db-root".into(),
            environment: "production".into(),
            application: Some("pay".into()),
            owners: vec!["dana".into()],
        })
        .expect("registered");
    let used = |c: &Client, at: String, flag| {
        c.account_used(
            "db-root",
            &AccountUseInput {
                at: Some(at),
                actor: Some("dana".into()),
                source: Some("teleport".into()),
                late: flag,
            },
        )
    };
    let before = (h.counts(), size(&h));
    assert_eq!(
        code(used(&ci, ago(now, 72), None)),
        (400, "too_late".into())
    );
    assert_eq!(
        code(used(&ci, ago(now, 72), late(REASON))),
        (403, "late_not_allowed".into())
    );
    assert_eq!(
        code(used(&ci, ago(now, -1), None)),
        (400, "future_time".into())
    );
    assert_eq!((h.counts(), size(&h)), before, "nothing written");
    assert_eq!(used(&ci, ago(now, 1), None).expect("on time").uses, 1);
    assert_eq!(
        used(&h.admin, ago(now, 72), late(REASON))
            .expect("late")
            .uses,
        2
    );
    let e = entry(&h, size(&h) - 1);
    assert_eq!(e.kind.as_str(), "access.account_used");
    assert_eq!(
        e.body["late"],
        json!({"reason": REASON, "allowed_by": admin_name})
    );
    let debt = ci
        .access_debt(&[
            ("application", "pay".to_owned()),
            ("period", "day".to_owned()),
            ("since", day_of(&ago(now, 120))),
            ("until", day_of(&ago(now, -24))),
        ])
        .expect("debt");
    assert_eq!(debt["total"]["account_uses"], 2);
    assert_eq!(debt["total"]["late_uses"], 1);
    let day = period(&debt, &day_of(&ago(now, 72)));
    assert_eq!(
        (
            day["late_uses"].clone(),
            day["recorded_after_close"].clone()
        ),
        (json!(1), json!(1))
    );

    // Snapshots: what ran three days ago is the admin's to record, with the reason.
    let snapshot = |c: &Client, at: Option<String>, flag| {
        c.report_snapshot(
            "production",
            &SnapshotInput {
                application: Some("pay".into()),
                whole_environment: false,
                taken_at: at,
                source: "kubernetes".into(),
                workloads: vec![Workload {
                    name: "pay-0".into(),
                    image: artifact("running"),
                }],
                late: flag,
            },
        )
    };
    let before = (h.counts(), size(&h));
    assert_eq!(
        code(snapshot(&ci, Some(ago(now, 72)), None)),
        (400, "too_late".into())
    );
    assert_eq!(
        code(snapshot(&ci, Some(ago(now, 72)), late(REASON))),
        (403, "late_not_allowed".into())
    );
    assert_eq!((h.counts(), size(&h)), before, "nothing written");
    assert!(ci.snapshots("production").expect("list").is_empty());
    snapshot(&ci, None, None).expect("on time");
    snapshot(&h.admin, Some(ago(now, 72)), late(REASON)).expect("late");
    let listed = ci.snapshots("production").expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].late.as_ref().expect("late").reason, REASON);
    assert_eq!(
        listed[0].late.as_ref().expect("late").allowed_by,
        admin_name
    );
    assert!(listed[1].late.is_none());
}

fn the_late_window_is_configured(b: Backend) {
    let now = Timestamp::now();
    let h = Harness::start_configured(b, |c| {
        c.late_window = std::time::Duration::from_secs(7 * 86_400);
    });
    let (ci, _) = h.pipeline("pay");
    ci.record_deployment(&deployment("week", Some(ago(now, 6 * 24))))
        .expect("six days old is within a week's window");
    let (_, code_, message) =
        refusal(ci.record_deployment(&deployment("older", Some(ago(now, 8 * 24)))));
    assert_eq!(code_, "too_late");
    assert!(message.contains("late window (7d)"), "{message}");
}

/// The OpenAPI description names the late flag on every request that carries a time.
#[test]
fn the_openapi_description_describes_the_late_flag() {
    let doc = andon_server::openapi::document();
    let schemas = &doc["components"]["schemas"];
    for body in [
        "DeploymentRequest",
        "DeploymentStateRequest",
        "IncidentRequest",
        "AccountUseInput",
        "SnapshotInput",
    ] {
        let late = &schemas[body]["properties"]["late"];
        assert!(!late.is_null(), "{body}: {:#}", schemas[body]);
    }
    assert_eq!(
        schemas["LateRequest"]["required"],
        json!(["reason"]),
        "{:#}",
        schemas["LateRequest"]
    );
}

both_backends!(
    a_deployment_older_than_the_window_needs_an_admins_reason,
    incidents_and_state_changes_are_bounded_too,
    account_uses_and_snapshots_are_bounded_too,
    the_late_window_is_configured,
);
