//! Every built-in control through `andon gate`, on both backends: the release world of the
//! HTTP gate tests (a GitHub pull-request history and real tools' reports), gated by the
//! binary as a pipeline runs it. Each control passes on a good release, and on a release
//! where it fails or lacks its evidence the CLI exits 1, shows the verdict in its table and
//! says what to do; `--output json` carries the same verdict.

#[path = "../../andon-server/tests/common/mod.rs"]
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

both_backends!(every_builtin_control_gates_through_the_cli);
