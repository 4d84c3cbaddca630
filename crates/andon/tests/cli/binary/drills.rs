//! `andon drill` as a team runs a game day: started by the pipeline, finished (nothing
//! reached production, so no time to production), its retrospective recorded by a person
//! (refused to the pipeline) with an action whose owner is an e-mail address, listed and
//! shown; `andon app risk` by an admin, refused to a pipeline, and unchanged when repeated.

use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::cli_pipeline;
use crate::common::*;

fn a_game_day_is_started_finished_and_reviewed(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (pipeline, _) = cli_pipeline(&db, &server.url, &token, "shop", "storefront");
    let run = |tok: &str, args: &[&str]| {
        let out = cli(&server.url, tok, args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    let (code, text) = run(
        &pipeline,
        &[
            "drill",
            "start",
            "--app",
            "shop",
            "--scenario",
            "a critical CVE in the base image",
            "--rehearses",
            "rebuild the shop image",
            "--participant",
            "alice",
            "--participant",
            "bob",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let id = text
        .split_whitespace()
        .find(|w| w.starts_with("DR-"))
        .expect("the drill's id")
        .to_owned();
    assert!(text.contains("  participants: alice, bob"), "{text}");

    // A retrospective before the finish is refused.
    let (code, text) = run(&token, &["drill", "retro", &id, "--went-well", "x"]);
    assert_ne!(code, Some(0), "{text}");

    let (code, text) = run(&pipeline, &["drill", "finish", &id]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("(completed, entry ") && text.contains("time to production -"),
        "{text}"
    );
    assert!(
        text.contains("during it: 0 runs, 0 gate decisions, 0 deployments"),
        "{text}"
    );

    // The team records it, not the pipeline.
    let (code, text) = run(&pipeline, &["drill", "retro", &id, "--went-well", "x"]);
    assert_eq!(code, Some(2), "{text}");
    let (code, text) = run(
        &token,
        &[
            "drill",
            "retro",
            &id,
            "--went-badly",
            "the image rebuild waited for a runner",
            "--action",
            "keep a warm runner for releases=ops@example.com@2027-01-15",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("retrospective by admin (entry "), "{text}");
    assert!(
        text.contains("    - the image rebuild waited for a runner"),
        "{text}"
    );
    assert!(
        text.contains("    → keep a warm runner for releases (ops@example.com, by 2027-01-15)"),
        "{text}"
    );

    let (_, text) = run(&token, &["drill", "list", "--app", "shop"]);
    assert!(
        text.contains(&id) && text.contains("completed") && text.contains("rebuild the shop image"),
        "{text}"
    );
    let (_, json) = run(&token, &["--output", "json", "drill", "show", &id]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        v["retrospective"]["actions"][0]["owner"], "ops@example.com",
        "{v}"
    );
    assert!(v["retrospective_envelope"].as_str().is_some(), "{v}");

    let (code, text) = run(&pipeline, &["app", "risk", "shop", "high"]);
    assert_eq!(code, Some(2), "{text}");
    let (code, text) = run(&token, &["app", "risk", "shop", "high"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("application shop: risk high (ledger entry "),
        "{text}"
    );
    let (_, text) = run(&token, &["app", "risk", "shop", "high"]);
    assert!(
        text.contains("application shop: risk high (unchanged)"),
        "{text}"
    );
}

both_backends!(a_game_day_is_started_finished_and_reviewed);
