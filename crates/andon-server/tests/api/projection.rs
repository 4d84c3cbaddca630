//! The tables every read uses are a projection of the ledger: a deployment's state, a
//! waiver's approver, an evidence subject, an alert or an application changed, deleted or
//! inserted directly in the database is found by the server's verification (and its
//! self-check alert), naming the table, the row, the column and the entry. Both backends.

use crate::common;
use andon_domain::api::{DeploymentRequest, DeploymentStateRequest, WaiverRequest};
use andon_testkit::{Backend, both_backends};

fn problems(v: &serde_json::Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["check"] == "projection")
                .map(|p| {
                    format!(
                        "entry {}: {}",
                        p["index"],
                        p["message"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn rows_changed_behind_the_ledger_are_named(b: Backend) {
    let h = common::start(b);
    let (ci, key) = h.pipeline("pay");
    ci.submit_evidence("pay", None, None, &common::envelope(&key, 1))
        .expect("evidence");
    // A production deployment nothing gated: a deployment, a change and a bypass alert.
    let artifact = format!(
        "registry.example.com/pay@sha256:{}",
        andon_domain::Sha256Digest::of(b"pay-image").hex()
    );
    let r = ci
        .record_deployment(&DeploymentRequest {
            application: "pay".into(),
            artifact,
            environment: "production".into(),
            ..Default::default()
        })
        .expect("recorded");
    let dep = r["deployment"]["id"].as_str().expect("id").to_owned();
    let alert = r["alert"]["id"]
        .as_str()
        .expect("a bypass alert")
        .to_owned();
    ci.deployment_state(
        &dep,
        &DeploymentStateRequest {
            state: "failed".into(),
            ..Default::default()
        },
    )
    .expect("failed");
    let w = h
        .admin
        .request_waiver(&WaiverRequest {
            application: "pay".into(),
            control: "coverage".into(),
            vulnerability: None,
            reason: "flaky suite quarantined".into(),
            ticket: "PAY-9".into(),
            hours: 24,
        })
        .expect("waiver");
    let waiver = w["id"].as_str().expect("id").to_owned();
    let dana = h
        .admin
        .create_identity("dana", "approver", &[])
        .expect("dana");
    andon_client::Client::new(&h.url, Some(dana.token))
        .approve_waiver(&waiver)
        .expect("approved");

    let clean = h.admin.verify_ledger().expect("verify");
    assert_eq!(clean["verified"], true, "{clean:#}");
    assert!(
        clean["tables_compared"].as_u64().unwrap_or(0) >= 20,
        "{clean}"
    );

    let subject = andon_domain::Sha256Digest::of(b"other").hex();
    crate::operator::execute(&h, &[
            format!("UPDATE deployments SET state = 'restored' WHERE id = '{dep}'"),
            format!("UPDATE waivers SET approved_by = 'mallory' WHERE id = '{waiver}'"),
            format!("UPDATE evidence_subjects SET digest = '{subject}'"),
            format!("DELETE FROM alerts WHERE id = '{alert}'"),
            "INSERT INTO applications (name, team, ledger_idx, created_at) VALUES ('ghost', 'nobody', 1, 0)".into(),
        ],
    );
    let found = h.admin.verify_ledger().expect("verify");
    assert_eq!(found["verified"], false, "{found:#}");
    let listed = problems(&found);
    let text = listed.join("\n");
    for wanted in [
        format!(
            "table deployments, row id={dep}: column state holds \"restored\", the ledger says \"failed\""
        ),
        format!(
            "table waivers, row id={waiver}: column approved_by holds \"mallory\", the ledger says \"dana\""
        ),
        "table evidence_subjects".to_owned(),
        format!("table alerts: the row id={alert} that the ledger writes is missing"),
        "table applications: the row name=ghost was written by no entry".to_owned(),
    ] {
        assert!(text.contains(&wanted), "missing {wanted:?} in:\n{text}");
    }
    // Each names the entry that wrote the row: the deployment's is the one that recorded it.
    let entries = h.admin.entries(0, 100).expect("entries").entries;
    let recorded = entries
        .iter()
        .find(|e| e.kind == "deployment.recorded")
        .expect("the deployment's entry")
        .index;
    assert!(
        listed
            .iter()
            .any(|p| p.starts_with(&format!("entry {recorded}: table deployments"))),
        "{text}"
    );
    // The self-check raised its alert.
    let raised = h
        .admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .any(|a| a.kind == "ledger_verification_failed");
    assert!(raised, "no ledger_verification_failed alert");
}

both_backends!(rows_changed_behind_the_ledger_are_named);
