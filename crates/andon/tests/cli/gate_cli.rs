//! Every built-in control through `andon gate`, on both backends: the release world of the
//! HTTP gate tests (a GitHub pull-request history and real tools' reports), gated by the
//! binary as a pipeline runs it. Each control passes on a good release, and on a release
//! where it fails or lacks its evidence the CLI exits 1, shows the verdict in its table and
//! says what to do; `--output json` carries the same verdict. A normal change goes through
//! the CLI too: denied until a DBA approves, its RFC shown, deployed, marked failed; and an
//! ungated deployment is alerted.

// The server tests' helpers: this file uses their release world, not the rest.
#[path = "../../../andon-server/tests/api/common/mod.rs"]
#[expect(dead_code, reason = "a part of the server tests' helpers is used here")]
mod common;

use std::process::{Command, Output};

use andon_domain::gate::Verdict;
use andon_testkit::{Backend, both_backends};
use common::release::{CONTROLS, Twist, World, world};

const BIN: &str = env!("CARGO_BIN_EXE_andon");

fn gate(w: &World, artifact: &str, json: bool) -> Output {
    let token = w.ci.token().expect("pipeline token");
    let mut cmd = Command::new(BIN);
    cmd.args(["--server", &w.h.url, "--token", token]);
    if json {
        cmd.args(["--output", "json"]);
    }
    cmd.args([
        "gate",
        "--app",
        "pay",
        "--artifact",
        artifact,
        "--env",
        "production",
    ])
    .output()
    .expect("run andon")
}

/// The table line of `control` in the CLI's answer.
fn line<'a>(text: &'a str, control: &str) -> &'a str {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(control))
        .unwrap_or_else(|| panic!("no line for {control} in:\n{text}"))
}

/// The verdict of `control` in the CLI's JSON answer.
fn json_verdict(out: &Output, control: &str) -> Verdict {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json answer");
    let c = v["decision"]["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .find(|c| c["id"] == control)
        .unwrap_or_else(|| panic!("no control {control}"));
    serde_json::from_value(c["verdict"].clone()).expect("verdict")
}

fn every_builtin_control_gates_through_the_cli(b: Backend) {
    let w = world(b);
    let good = w.release("pay-2.0.0", Twist::None);
    let out = gate(&w, &good, false);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("ALLOW"), "{text}");
    for control in CONTROLS {
        assert!(
            line(&text, control).contains(" pass "),
            "{control}:\n{text}"
        );
    }
    assert!(!text.contains("what to do:"), "{text}");

    for control in CONTROLS {
        for (twist, mark, verdict) in [
            (Twist::Missing(control), "MISSING", Verdict::Missing),
            (Twist::Failing(control), "FAIL", Verdict::Fail),
        ] {
            let label = if verdict == Verdict::Missing {
                "missing"
            } else {
                "failing"
            };
            let artifact = w.release(&format!("pay-cli-{label}-{control}"), twist);
            let out = gate(&w, &artifact, false);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            assert_eq!(out.status.code(), Some(1), "{control} {label}:\n{text}");
            assert!(text.starts_with("DENY"), "{text}");
            assert!(
                line(&text, control).contains(mark),
                "{control} {label}:\n{text}"
            );
            let advice = text
                .split("what to do:")
                .nth(1)
                .unwrap_or_else(|| panic!("no advice:\n{text}"));
            assert!(
                advice.contains(control),
                "{control} {label}: no advice:\n{text}"
            );
            assert!(text.lines().count() < 30, "more than a screen:\n{text}");
            // The machine-readable answer says the same.
            let out = gate(&w, &artifact, true);
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(json_verdict(&out, control), verdict, "{control} {label}");
        }
    }
}

fn run(w: &World, token: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["--server", &w.h.url, "--token", token])
        .args(args)
        .output()
        .expect("run andon");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// `andon deploy record` of `artifact` to production.
fn record(artifact: &str) -> [&str; 8] {
    [
        "deploy",
        "record",
        "--app",
        "pay",
        "--env",
        "production",
        "--artifact",
        artifact,
    ]
}

fn a_normal_change_is_approved_deployed_and_marked_through_the_cli(b: Backend) {
    let w = world(b);
    let ci = w.ci.token().expect("token").to_owned();
    let admin = w.h.admin.token().expect("token").to_owned();
    let artifact = w.release("pay-7.0.0", Twist::None);
    let gate_args = [
        "gate",
        "--app",
        "pay",
        "--artifact",
        &artifact,
        "--env",
        "production",
    ];
    let mut with_migration = gate_args.to_vec();
    with_migration.extend([
        "--path",
        "db/migrations/0042_fees.sql",
        "--rollback-plan",
        "run 0042 down",
    ]);
    let (code, text) = run(&w, &ci, &with_migration);
    assert_eq!(code, 1, "{text}");
    let change = text
        .split_whitespace()
        .find(|t| t.starts_with("CHG-"))
        .map(|t| t.trim_end_matches(':').to_owned())
        .unwrap_or_else(|| panic!("no change id in {text}"));
    assert!(
        text.contains("awaits approval: 0 of 1 (from dba)"),
        "{text}"
    );

    let (code, rfc) = run(&w, &ci, &["change", "show", &change]);
    assert_eq!(code, 0, "{rfc}");
    assert!(
        rfc.starts_with(&format!("# Request for change {change}")),
        "{rfc}"
    );
    assert!(rfc.contains("Rollback plan: run 0042 down"), "{rfc}");

    let (code, text) = run(
        &w,
        &admin,
        &[
            "identity", "create", "dana", "--role", "approver", "--group", "dba",
        ],
    );
    assert_eq!(code, 0, "{text}");
    let enrollment = text.lines().last().expect("code line").trim().to_owned();
    assert!(
        enrollment.starts_with("enroll_"),
        "a person enrolls: {text}"
    );
    let (code, text) = run(&w, "", &["enroll", &enrollment]);
    assert_eq!(code, 0, "{text}");
    let dana = text.lines().last().expect("token line").trim().to_owned();
    let (code, text) = run(&w, &dana, &["change", "reject", &change]);
    assert_ne!(code, 0, "a rejection without a comment: {text}");
    let (code, text) = run(
        &w,
        &dana,
        &["change", "approve", &change, "--comment", "ok"],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("approved {change}: now approved")),
        "{text}"
    );
    let (code, text) = run(&w, &ci, &gate_args);
    assert_eq!(code, 0, "{text}");

    let (code, text) = run(&w, &ci, &record(&artifact));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("change record {change}")), "{text}");
    assert!(!text.contains("GATE BYPASS"), "{text}");
    let deployment = text
        .split_whitespace()
        .find(|t| t.starts_with("D-"))
        .expect("deployment id")
        .to_owned();
    let (code, text) = run(
        &w,
        &ci,
        &["deploy", "mark", &deployment, "failed", "--note", "INC-9"],
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("{deployment} is failed")), "{text}");
    let (code, text) = run(
        &w,
        &ci,
        &["--output", "json", "change", "list", "--app", "pay"],
    );
    assert_eq!(code, 0, "{text}");
    let list: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(list[0]["id"], change.as_str());
    assert_eq!(list[0]["status"], "deployed");

    // A deployment nothing allowed: recorded, and the alert says so.
    let rogue = format!(
        "registry.example.com/pay@{}",
        andon_domain::Sha256Digest::of(b"laptop build")
    );
    let (code, text) = run(&w, &ci, &record(&rogue));
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("GATE BYPASS"), "{text}");
    let (code, text) = run(&w, &ci, &["alerts"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("gate_bypass") && text.contains(&rogue),
        "{text}"
    );
}

both_backends!(
    every_builtin_control_gates_through_the_cli,
    a_normal_change_is_approved_deployed_and_marked_through_the_cli,
);
