//! Game days through the real HTTP path, on both backends and the server's manual clock: a
//! drill started by the pipeline, the release it rehearses sent, gated and deployed, the
//! drill finished with exact segments and time to production, its retrospective signed by
//! the log key, the `drill-recent` control for a high-risk application (missing, passing,
//! then failing 91 days on), drills beside real fixes in the metrics, bad requests refused
//! with nothing written, and a drill row rewritten behind the ledger named by `verify`.

use andon_domain::api::DeploymentRequest;
use andon_domain::drills::{DrillAction, DrillStart, RETROSPECTIVE_PAYLOAD_TYPE, Retrospective};
use andon_domain::{Envelope, PublicKey, Sha256Digest};
use andon_policy::Verdict;
use andon_server::Clock;
use andon_testkit::{Backend, both_backends};

use crate::common::release::{Twist, verdict, world_with};
use crate::common::{at_ms, err};

const MINUTE: i64 = 60_000;

fn start_input(app: &str) -> DrillStart {
    DrillStart {
        application: app.into(),
        scenario: "CVE-2022-40897 in the base image, Tuesday 14:00".into(),
        rehearses: "rebuild the pay image without setuptools 65.5.0".into(),
        vulnerability: Some("CVE-2022-40897".into()),
        participants: vec!["alice".into(), "bob".into()],
    }
}

fn a_drill_rehearses_a_fix_to_production_and_keeps_a_signed_retrospective(b: Backend) {
    let t0 = at_ms("2026-12-08T14:00:00Z");
    // The setup happens half an hour before the drill.
    let clock = Clock::manual(t0 - 30 * MINUTE);
    let w = world_with(b, |c| c.clock = clock.clone());
    let h = &w.h;

    // A high-risk application with no drill: the production gate misses one.
    h.admin.set_application_risk("pay", "high").expect("risk");
    let before = w.release("pay-before", Twist::None);
    let d = w.gate(&before, "production");
    assert_eq!(
        verdict(&d, "drill-recent"),
        (
            Verdict::Missing,
            "no completed drill of this high-risk application".into()
        )
    );
    assert!(!d.decision.allow);
    // Not a production gate: not applicable.
    assert_eq!(
        verdict(&w.gate(&before, "staging"), "drill-recent").0,
        Verdict::NotApplicable
    );
    // A drill started and finished at once, nothing shipped: it does not count.
    clock.set_ms(t0 - 20 * MINUTE);
    let idle = w.ci.start_drill(&start_input("pay")).expect("started");
    clock.set_ms(t0 - 19 * MINUTE);
    let idle = w.ci.finish_drill(&idle.id, false).expect("finished");
    assert_eq!(idle.time_to_production_ms, None);
    assert_eq!(
        verdict(&w.gate(&before, "production"), "drill-recent").0,
        Verdict::Missing
    );
    // Medium risk is not held to drills by default; the same level again writes nothing.
    h.admin.set_application_risk("pay", "medium").expect("risk");
    let counts = h.counts();
    let same = h.admin.set_application_risk("pay", "medium").expect("risk");
    assert_eq!(same["unchanged"], true);
    assert_eq!(h.counts(), counts);

    let auditor = h
        .admin
        .create_identity("audit", "auditor", &[])
        .expect("id");
    let auditor = andon_client::Client::new(&h.url, Some(auditor.token));
    let carol = h
        .admin
        .create_identity("carol", "approver", &[])
        .expect("id");
    let carol = andon_client::Client::new(&h.url, Some(carol.token));
    // Bad requests are refused with the reason, and nothing is written.
    let counts = h.counts();
    let mut empty = start_input("pay");
    empty.scenario = " ".into();
    assert_eq!(err(w.ci.start_drill(&empty)), (400, "invalid_drill".into()));
    assert_eq!(
        err(w.ci.start_drill(&start_input("nobody"))),
        (403, "application_not_allowed".into())
    );
    assert_eq!(
        err(h.admin.start_drill(&start_input("nobody"))),
        (404, "not_found".into())
    );
    assert_eq!(err(auditor.start_drill(&start_input("pay"))).0, 403);
    // Text that would forge a line of the CLI's or a page's output, and a participant named
    // twice.
    let mut forged = start_input("pay");
    forged.scenario = "x\n  finished 2026-12-08T14:00:00Z (completed)".into();
    assert_eq!(
        err(w.ci.start_drill(&forged)),
        (400, "invalid_drill".into())
    );
    let mut twice = start_input("pay");
    twice.participants = vec!["alice".into(), "alice".into()];
    assert_eq!(err(w.ci.start_drill(&twice)), (400, "invalid_drill".into()));
    assert_eq!(
        err(h.admin.set_application_risk("pay", "extreme")),
        (400, "invalid_risk".into())
    );
    assert_eq!(
        err(w.ci.set_application_risk("pay", "low")).0,
        403,
        "only admins set a risk level"
    );
    assert_eq!(
        err(h.admin.finish_drill("DR-0000000000000000", false)).0,
        404
    );
    assert_eq!(h.counts(), counts, "a refused request wrote something");

    // 14:00: the pipeline starts the drill.
    clock.set_ms(t0);
    let drill = w.ci.start_drill(&start_input("pay")).expect("started");
    assert!(
        drill.id.starts_with("DR-") && drill.id.len() == 19,
        "{}",
        drill.id
    );
    assert_eq!(drill.started_at, t0);
    assert!(drill.ledger_index > 0);
    // A retrospective waits for the finish.
    let retro = Retrospective {
        went_well: vec!["the SBOM named the package at once".into()],
        went_badly: vec!["the production approval waited 12 minutes for a reviewer".into()],
        actions: vec![DrillAction {
            what: "add a second approver to the on-call rota".into(),
            owner: "bob".into(),
            due: Some("2027-01-15".into()),
        }],
    };
    let counts = h.counts();
    assert_eq!(
        err(carol.drill_retrospective(&drill.id, &retro)),
        (409, "conflict".into())
    );
    assert_eq!(h.counts(), counts);

    // 14:10 the rebuilt image's evidence arrives; 14:25 the production gate allows it;
    // 14:40 it is deployed; 14:50 the drill finishes.
    clock.set_ms(t0 + 10 * MINUTE);
    let fixed = w.release("pay-fixed", Twist::None);
    clock.set_ms(t0 + 25 * MINUTE);
    let decided = w.gate(&fixed, "production");
    assert!(decided.decision.allow, "{:?}", decided.decision.controls);
    // 14:30 someone records a production deployment no gate allowed, dated a minute after
    // the start: it is a bypass, and it does not make the drill look fast.
    clock.set_ms(t0 + 30 * MINUTE);
    let rogue = w.release("pay-rogue-build", Twist::Failing("tests-pass"));
    let early = at_ms("2026-12-08T14:01:00Z");
    w.ci.record_deployment(&DeploymentRequest {
        application: "pay".into(),
        artifact: rogue,
        environment: "production".into(),
        deployed_at: Some(
            jiff::Timestamp::from_millisecond(early)
                .expect("t")
                .to_string(),
        ),
        ..Default::default()
    })
    .expect("recorded, as a bypass");
    clock.set_ms(t0 + 40 * MINUTE);
    let deployed =
        w.ci.record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact: fixed.clone(),
            environment: "production".into(),
            run: Some("run-1".into()),
            ..Default::default()
        })
        .expect("deployed");
    clock.set_ms(t0 + 50 * MINUTE);
    let finished = w.ci.finish_drill(&drill.id, false).expect("finished");
    assert_eq!(finished.finished_at, Some(t0 + 50 * MINUTE));
    assert_eq!(finished.outcome.as_deref(), Some("completed"));
    assert_eq!(finished.time_to_production_ms, Some(40 * MINUTE));
    let links = finished.links.clone().expect("links");
    assert_eq!(links.segments.first_evidence_ms, Some(10 * MINUTE));
    assert_eq!(links.segments.allowing_gate_ms, Some(25 * MINUTE));
    assert_eq!(links.segments.production_ms, Some(40 * MINUTE));
    assert_eq!(links.runs, ["run-1"]);
    assert_eq!(links.decisions, std::slice::from_ref(&decided.id));
    assert_eq!(
        links.deployments,
        [deployed["deployment"]["id"].as_str().expect("id")]
    );
    let counts = h.counts();
    assert_eq!(
        err(w.ci.finish_drill(&drill.id, false)),
        (409, "conflict".into())
    );
    assert_eq!(h.counts(), counts, "a second finish wrote something");

    // The retrospective is recorded by a person, not the pipeline, and signed by the log
    // key; the entry binds the envelope.
    clock.set_ms(t0 + 70 * MINUTE);
    let counts = h.counts();
    assert_eq!(err(w.ci.drill_retrospective(&drill.id, &retro)).0, 403);
    let mut late_action = retro.clone();
    late_action.actions[0].due = Some("2026-12-01".into());
    assert_eq!(
        err(carol.drill_retrospective(&drill.id, &late_action)),
        (400, "invalid_drill".into())
    );
    assert_eq!(h.counts(), counts);
    let reviewed = carol
        .drill_retrospective(&drill.id, &retro)
        .expect("recorded");
    let recorded = reviewed.retrospective.clone().expect("retrospective");
    assert_eq!(recorded.retrospective, retro);
    assert_eq!(recorded.recorded_at, t0 + 70 * MINUTE);
    let shown = h.admin.drill(&drill.id).expect("drill");
    let envelope = shown.retrospective_envelope.clone().expect("envelope");
    assert_eq!(
        Sha256Digest::of(envelope.as_bytes()).hex(),
        recorded.document
    );
    let env = Envelope::parse(envelope.as_bytes()).expect("envelope");
    let info = h.admin.ledger_info().expect("info");
    let key = andon_ledger::NoteVerifier::parse(&info.verifier_key)
        .expect("key")
        .public_key();
    env.verify(&PublicKey::ed25519(&key).expect("key"))
        .expect("signed by the log key");
    assert_eq!(env.payload_type, RETROSPECTIVE_PAYLOAD_TYPE);
    let payload: serde_json::Value = serde_json::from_slice(&env.payload).expect("json");
    assert_eq!(payload["drill"], drill.id.as_str());
    assert_eq!(payload["time_to_production_ms"], 40 * MINUTE);
    assert_eq!(payload["actions"][0]["owner"], "bob");
    assert_eq!(payload["recorded_by"], "carol");
    assert_eq!(payload["segments"]["allowing_gate_ms"], 25 * MINUTE);
    assert_eq!(payload["participants"][1], "bob");
    let page = h.admin.entries(recorded.ledger_index, 1).expect("entry");
    assert_eq!(page.entries[0].kind, "drill.retrospective");
    let leaf = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        &page.entries[0].entry,
    )
    .expect("base64");
    let leaf: serde_json::Value = serde_json::from_slice(&leaf).expect("leaf");
    assert_eq!(
        leaf["body"]["document"],
        recorded.document.as_str(),
        "{leaf:#}"
    );
    let counts = h.counts();
    assert_eq!(
        err(carol.drill_retrospective(&drill.id, &retro)),
        (409, "conflict".into())
    );
    assert_eq!(h.counts(), counts);
    let listed = h.admin.drills(Some("pay")).expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, drill.id, "newest first");
    assert!(
        listed[0].retrospective_envelope.is_none(),
        "listings stay short"
    );

    // Critical now: the drill passes the control, naming it, until it is 90 days old.
    h.admin
        .set_application_risk("pay", "critical")
        .expect("risk");
    clock.set_ms(t0 + 2 * 60 * MINUTE);
    let d = w.gate(&fixed, "production");
    let (v, reason) = verdict(&d, "drill-recent");
    assert_eq!(v, Verdict::Pass, "{reason}");
    assert_eq!(
        reason,
        format!("drill {} finished 0 days ago (at most 90)", drill.id)
    );
    // The metrics show the drill beside the real fixes.
    let m = h
        .admin
        .metrics(&[
            ("application", "pay".into()),
            ("since", "2026-12-01".into()),
            ("until", "2026-12-31".into()),
        ])
        .expect("metrics");
    let drills = &m["security"]["drills"];
    // The idle drill completed too, but reached nothing.
    assert_eq!(drills["finished"], 2, "{m:#}");
    assert_eq!(drills["reached_production"], 1);
    let hours = drills["time_to_production_median_hours"]
        .as_f64()
        .expect("h");
    assert!((hours - 40.0 / 60.0).abs() < 1e-9, "{hours}");
    let token = h.admin.token().expect("token").to_owned();
    let signed = crate::web::sign_in(&h.url, &token, "/ui/");
    let cookie = signed.cookie.split(';').next().expect("pair").to_owned();
    let page = crate::web::get(&format!("{}/ui/metrics?application=pay", h.url), &cookie);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(
            "Game days in these 90 days: 2 finished, 1 reached production; time to production median 0.7 h, 90th percentile 0.7 h"
        ),
        "{}",
        page.body
    );

    // Every step is re-derived by the verification; a database administrator who shortens
    // the drill's time to production is named.
    let clean = h.admin.verify_ledger().expect("verify");
    assert_eq!(clean["verified"], true, "{clean:#}");
    crate::operator::execute(
        h,
        &[format!(
            "UPDATE drills SET time_to_production_ms = 60000 WHERE id = '{}'",
            drill.id
        )],
    );
    let found = h.admin.verify_ledger().expect("verify");
    assert_eq!(found["verified"], false, "{found:#}");
    assert!(found.to_string().contains("table drills"), "{found:#}");

    // 91 days after the drill (the admin's token has expired by then; the pipeline's
    // has not): the control fails, naming the drill and its age.
    clock.set_ms(t0 + 50 * MINUTE + 91 * 24 * 60 * MINUTE);
    let d = w.gate(&fixed, "production");
    assert_eq!(
        verdict(&d, "drill-recent"),
        (
            Verdict::Fail,
            format!(
                "the last drill ({}) finished 91 days ago; critical-risk applications drill every 90 days",
                drill.id
            )
        )
    );
}

both_backends!(a_drill_rehearses_a_fix_to_production_and_keeps_a_signed_retrospective,);
