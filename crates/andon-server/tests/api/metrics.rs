//! DORA's four keys through the real path, on both backends: commits pushed with their
//! author times, production deployments recorded with their times, a failure restored, a
//! failure not restored, a redeployment of commits already deployed; the weekly keys match
//! the hand computation (the same scenario as andon-metrics' own test). Each fact is
//! recorded as it happens: the server's clock is moved to its time first.

use crate::common::release::world_with;
use crate::common::{at_ms, err, github, push_timed, sha};
use andon_domain::api::{DeploymentRequest, DeploymentStateRequest, LateRequest};
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};
use serde_json::Value;

fn the_four_keys_match_a_hand_computed_history(b: Backend) {
    let clock = Clock::manual(at_ms("2026-11-01T00:00:00Z"));
    let w = world_with(b, |c| c.clock = clock.clone());
    let main = "refs/heads/main";
    let c: Vec<String> = ['5', '6', '7', '8', '9'].iter().map(|x| sha(*x)).collect();
    let pushes: [&[(&str, &str, &str)]; 3] = [
        &[
            (&c[0], "PAY-20 limits", "2026-11-01T10:00:00Z"),
            (&c[1], "PAY-21 fees", "2026-11-02T08:00:00Z"),
        ],
        &[(&c[2], "PAY-22 rounding", "2026-11-03T06:00:00Z")],
        &[
            (&c[3], "PAY-23 refunds", "2026-11-10T09:00:00Z"),
            (&c[4], "PAY-24 audit", "2026-11-16T09:00:00Z"),
        ],
    ];
    for (i, p) in pushes.iter().enumerate() {
        github(&w.h, "push", &format!("m{i}"), &push_timed(main, p)).expect("push");
    }
    let a = w.release_from("pay-a", &c[1]);
    let b2 = w.release_from("pay-b", &c[2]);
    let cc = w.release_from("pay-c", &c[4]);
    let admin = &w.h.admin;
    let record = |artifact: &str, at: &str| -> Value {
        clock.set_ms(at_ms(at));
        admin
            .record_deployment(&DeploymentRequest {
                application: "pay".into(),
                artifact: artifact.into(),
                environment: "production".into(),
                deployed_at: Some(at.into()),
                ..Default::default()
            })
            .expect("recorded")
    };
    let deploy = |artifact: &str, at: &str| -> String {
        record(artifact, at)["deployment"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let mark = |id: &str, state: &str, at: &str| {
        clock.set_ms(at_ms(at));
        admin
            .deployment_state(
                id,
                &DeploymentStateRequest {
                    state: state.into(),
                    at: Some(at.into()),
                    note: None,
                    late: None,
                },
            )
            .expect("marked");
    };
    deploy(&a, "2026-11-02T10:00:00Z");
    let d2 = deploy(&b2, "2026-11-03T12:00:00Z");
    mark(&d2, "failed", "2026-11-03T13:00:00Z");
    mark(&d2, "restored", "2026-11-03T13:30:00Z");
    // Artifact A again: its commits were deployed already and are not counted twice; it
    // rolls back B (already failed and restored: its times stay).
    let again = record(&a, "2026-11-05T09:00:00Z");
    assert_eq!(again["rolls_back"], d2.as_str());
    let d3 = again["deployment"]["id"].as_str().expect("id").to_owned();
    mark(&d3, "rolled_back", "2026-11-05T10:00:00Z");
    let d4 = deploy(&cc, "2026-11-17T09:00:00Z");

    let q = |period: &str| -> Vec<(&'static str, String)> {
        vec![
            ("application", "pay".to_owned()),
            ("period", period.to_owned()),
            ("since", "2026-11-02".to_owned()),
            ("until", "2026-11-23".to_owned()),
        ]
    };
    let r = w.ci.metrics(&q("week")).expect("metrics");
    let p = r["periods"].as_array().expect("periods");
    assert_eq!(p.len(), 3, "{r:#}");
    let (w1, w2, w3, all) = (&p[0], &p[1], &p[2], &r["total"]);
    let n = |v: &Value| v.as_f64().expect("number");
    assert_eq!(w1["start"], "2026-11-02");
    assert_eq!(
        (
            w1["deployments"].clone(),
            w1["deployment_days"].clone(),
            w1["changes"].clone()
        ),
        (3.into(), 3.into(), 3.into()),
        "{w1:#}"
    );
    assert_eq!(n(&w1["lead_time_median_hours"]), 6.0);
    assert_eq!(n(&w1["lead_time_p90_hours"]), 24.0);
    assert!((n(&w1["change_failure_rate"]) - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        (w1["restored"].clone(), w1["unrestored"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(n(&w1["time_to_restore_median_minutes"]), 30.0);
    assert_eq!(w1["bands"]["change_failure_rate"], "low");
    assert_eq!(w1["bands"]["time_to_restore"], "elite");
    assert_eq!(w2["deployments"], 0);
    assert!(w2["change_failure_rate"].is_null());
    assert_eq!(
        (w3["deployments"].clone(), w3["changes"].clone()),
        (1.into(), 2.into()),
        "{w3:#}"
    );
    assert_eq!(n(&w3["lead_time_median_hours"]), 96.0);
    assert_eq!(
        (all["deployments"].clone(), all["changes"].clone()),
        (4.into(), 5.into())
    );
    assert_eq!(n(&all["change_failure_rate"]), 0.5);
    assert_eq!(all["bands"]["lead_time"], "high");

    // The team's view is the same (one application); monthly, one period.
    let by_team =
        w.ci.metrics(&[
            ("team", "team".to_owned()),
            ("period", "month".to_owned()),
            ("since", "2026-11-02".to_owned()),
            ("until", "2026-11-23".to_owned()),
        ])
        .expect("team");
    assert_eq!(by_team["total"]["deployments"], 4);
    assert_eq!(by_team["periods"].as_array().expect("p").len(), 1);

    // An incident tool reports a failure without naming the deployment: it is linked to the
    // last production deployment before it started, and its resolution restores service.
    let incident = |id: &str, start: &str, end: Option<&str>, deployment: Option<&str>| {
        w.ci.report_incident(&andon_domain::api::IncidentRequest {
            application: "pay".into(),
            id: id.into(),
            title: "refunds failing".into(),
            started_at: start.into(),
            resolved_at: end.map(str::to_owned),
            deployment: deployment.map(str::to_owned),
            late: None,
        })
    };
    // An old incident only an admin may record: the linking rules hold for it too.
    let old_incident = |id: &str, start: &str, deployment: Option<&str>| {
        admin.report_incident(&andon_domain::api::IncidentRequest {
            application: "pay".into(),
            id: id.into(),
            title: "refunds failing".into(),
            started_at: start.into(),
            deployment: deployment.map(str::to_owned),
            late: Some(LateRequest {
                reason: "from the incident tool's archive".into(),
            }),
            ..Default::default()
        })
    };
    clock.set_ms(at_ms("2026-11-18T10:00:00Z"));
    let linked = incident(
        "INC-1",
        "2026-11-18T09:00:00Z",
        Some("2026-11-18T09:45:00Z"),
        None,
    )
    .expect("reported");
    assert_eq!(linked["linked_by"], "last_deployment_before");
    assert_eq!(linked["deployment"]["id"], d4.as_str());
    let r = w.ci.metrics(&q("week")).expect("metrics");
    let w3 = &r["periods"][2];
    assert_eq!(n(&w3["change_failure_rate"]), 1.0);
    assert_eq!(n(&w3["time_to_restore_median_minutes"]), 45.0);
    let before = w.h.counts().ledger_entries;
    assert_eq!(
        err(old_incident("INC-2", "2026-11-01T00:00:00Z", None)),
        (422, "no_deployment".into())
    );
    assert_eq!(
        err(old_incident("INC-3", "2026-11-02T11:00:00Z", Some(&d4))),
        (422, "deployment_mismatch".into()),
        "the named deployment came after the incident started"
    );
    assert_eq!(
        err(incident(
            "INC-4",
            "2026-11-18T09:00:00Z",
            Some("2026-11-18T08:00:00Z"),
            None
        )),
        (400, "invalid_time".into())
    );
    assert_eq!(w.h.counts().ledger_entries, before, "nothing written");

    // Bad questions.
    assert_eq!(
        err(w.ci.metrics(&[("application", "nobody".to_owned())])),
        (404, "not_found".into())
    );
    assert_eq!(
        err(w.ci.metrics(&[("team", "nobody".to_owned())])),
        (404, "not_found".into())
    );
    assert_eq!(
        err(w.ci.metrics(&q("fortnight"))),
        (400, "invalid_period".into())
    );
    assert_eq!(
        err(w.ci.metrics(&[("period", "week".to_owned())])),
        (400, "invalid_scope".into())
    );
    assert_eq!(
        err(w.ci.metrics(&[
            ("application", "pay".to_owned()),
            ("since", "2026-11-23".to_owned()),
            ("until", "2026-11-02".to_owned())
        ])),
        (400, "invalid_range".into())
    );
}

both_backends!(the_four_keys_match_a_hand_computed_history);
