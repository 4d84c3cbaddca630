//! Release gates through the CLI: a release gated, its decision replayed and a tampered
//! decision caught; policy directories published when a server starts.

use std::process::Command;

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

fn a_release_is_gated_replayed_and_a_tampered_decision_is_caught(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (pipeline_token, key) = cli_pipeline(&db, &server.url, &token, "pay", "payments");
    let key = key.as_str();
    let run = |tok: &str, args: &[&str]| cli(&server.url, tok, args);
    let subject = format!("registry.example.com/pay@{}", Sha256Digest::of(b"pay 1.0"));
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/junit/cargo-nextest-0.9.143.xml"
    );
    let attested = run(
        &pipeline_token,
        &[
            "attest",
            "junit",
            "--app",
            "pay",
            "--subject",
            &subject,
            "--key",
            key,
            "--file",
            report,
        ],
    );
    assert!(attested.status.success());

    // Production: the failing test and all the missing evidence deny, exit code 1, with
    // what to do on one screen.
    let denied = run(
        &pipeline_token,
        &[
            "gate",
            "--app",
            "pay",
            "--artifact",
            &subject,
            "--env",
            "production",
        ],
    );
    assert_eq!(denied.status.code(), Some(1));
    let text = String::from_utf8_lossy(&denied.stdout);
    assert!(text.starts_with("DENY"), "{text}");
    assert!(
        text.contains("tests-pass") && text.contains("1 of 3 tests failed"),
        "{text}"
    );
    assert!(
        text.contains("MISSING") && text.contains("what to do:"),
        "{text}"
    );
    assert!(text.lines().count() < 30, "more than a screen: {text}");

    // `andon gate ... | head -1` after head has gone: the closed pipe ends it as SIGPIPE
    // would (141), with no panic on standard error.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let closed = Command::new(BIN)
        .args(["--server", &server.url, "--token", &pipeline_token])
        .args([
            "gate",
            "--app",
            "pay",
            "--artifact",
            &subject,
            "--env",
            "production",
        ])
        .stdout(writer)
        .output()
        .expect("andon gate");
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert_eq!(closed.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // A staging policy of the team's own: only tests are required there, and one of the
    // three may be a known flake. Published from a directory, tested first.
    let dir = db.dir().join("staging-policy");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("policy.json"),
        r#"{"name": "pay-staging", "applications": ["pay"], "environments": ["staging"], "builtin": false}"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("flaky.rego"),
        r#"package andon.controls.mostly_green

import rego.v1

metadata := {"id": "mostly-green", "title": "At most one failing test in staging", "risk": "r",
	"stage": "test", "evidence": ["junit"], "frameworks": ["team policy"]}

failures := sum([e.summary.failures | some e in input.evidence; e.kind == "junit"])

deny contains sprintf("%d failing tests", [failures]) if failures > 1

test_one_failure_is_tolerated if {
	count(deny) == 0 with input as {"evidence": [{"kind": "junit", "summary": {"failures": 1}}]}
}
"#,
    )
    .expect("write");
    let dir = dir.to_str().expect("path");
    let tested = run(&token, &["policy", "test", dir]);
    assert!(
        tested.status.success(),
        "{}",
        String::from_utf8_lossy(&tested.stdout)
    );
    assert!(String::from_utf8_lossy(&tested.stdout).contains("1 test, 1 passed"));
    assert!(run(&token, &["policy", "publish", dir]).status.success());
    // The folder above it is read as `serve --policies` reads it: each bundle inside.
    let parent = db.dir().to_str().expect("path").to_owned();
    let again = run(&token, &["policy", "publish", &parent]);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(said.contains("already had policy pay-staging"), "{said}");
    // A bundle that names no application would govern every one: it takes --scope global.
    let wide = db.dir().join("wide-policy");
    std::fs::create_dir_all(&wide).expect("dir");
    std::fs::copy(
        std::path::Path::new(dir).join("flaky.rego"),
        wide.join("flaky.rego"),
    )
    .expect("copy");
    let wide = wide.to_str().expect("path");
    let listed =
        |t: &str| String::from_utf8_lossy(&run(t, &["policy", "list"]).stdout).into_owned();
    let before = listed(&token);
    let refused = run(&token, &["policy", "publish", wide]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{why}");
    assert!(
        why.contains("would govern every application") && why.contains("--scope global"),
        "{why}"
    );
    assert_eq!(listed(&token), before, "nothing was published");
    let meant = run(&token, &["policy", "publish", wide, "--scope", "global"]);
    assert!(
        meant.status.success(),
        "{}",
        String::from_utf8_lossy(&meant.stderr)
    );
    assert!(listed(&token).contains("wide-policy"));
    let allowed = run(
        &pipeline_token,
        &[
            "--output",
            "json",
            "gate",
            "--app",
            "pay",
            "--artifact",
            &subject,
            "--env",
            "staging",
        ],
    );
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stdout)
    );
    let decision: serde_json::Value = serde_json::from_slice(&allowed.stdout).expect("json");
    assert_eq!(decision["decision"]["policy"]["name"], "pay-staging");
    let id = decision["id"].as_str().expect("id").to_owned();

    // Replay: same verdict, here, from the recorded input and policy version; locally too.
    let replayed = run(&token, &["decision", "replay", &id]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert!(String::from_utf8_lossy(&replayed.stdout).contains("same verdict"));
    let shown = run(&token, &["--output", "json", "decision", "show", &id]);
    assert!(shown.status.success());
    let input = db.dir().join("decision.json");
    std::fs::write(&input, &shown.stdout).expect("write");
    let eval = run(
        &token,
        &[
            "policy",
            "eval",
            "--dir",
            dir,
            "--input",
            input.to_str().expect("path"),
        ],
    );
    assert_eq!(eval.status.code(), Some(0));

    // Tampering with the stored decision: verify names it, replay refuses it.
    assert!(verify(&[], &server.url, &token).0);
    tamper(&db, b, "decisions", "envelope", &id);
    let (ok, report) = verify(&[], &server.url, &token);
    assert!(!ok, "tampering went unnoticed: {report}");
    assert_eq!(
        report["first_bad_entry"], decision["ledger_index"],
        "{report}"
    );
    assert!(
        report["problem"]
            .as_str()
            .expect("problem")
            .contains("decision"),
        "{report}"
    );
    assert_eq!(
        run(&token, &["decision", "replay", &id]).status.code(),
        Some(2)
    );
    drop(server_guard(server));
}

fn a_server_publishes_its_policy_directories_at_start(b: Backend) {
    let db = TestDb::new(b);
    let root = db.dir().join("policies");
    let team = root.join("payments-prod");
    std::fs::create_dir_all(&team).expect("dir");
    std::fs::write(
        team.join("policy.json"),
        r#"{"applications": ["pay"], "environments": ["production"], "params": {"coverage": {"min_line_coverage": 90}}}"#,
    )
    .expect("write");
    std::fs::write(
        team.join("frozen.rego"),
        "package andon.controls.frozen\n\nimport rego.v1\n\nmetadata := {\"id\": \"frozen\", \"title\": \"No releases during the freeze\", \"risk\": \"r\", \"stage\": \"release\", \"evidence\": [], \"frameworks\": [\"team\"]}\n\ndeny contains \"release freeze\" if input.environment.production\n",
    )
    .expect("write");
    let server = start_with(&db, true, &["--policies", root.to_str().expect("path")]);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token));
    let names: Vec<String> = admin
        .list_policies()
        .expect("policies")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names,
        vec!["builtin".to_owned(), "payments-prod".to_owned()]
    );
    drop(server_guard(server));

    // A bundle that fails its own validation stops the start, naming it.
    std::fs::write(
        team.join("broken.rego"),
        "package andon.controls.broken\nmetadata := {",
    )
    .expect("write");
    let out = serve_command(&db.url, &db.dir())
        .args(["--policies", root.to_str().expect("path")])
        .output()
        .expect("serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("payments-prod") && err.contains("broken.rego"),
        "{err}"
    );
}

both_backends!(
    a_server_publishes_its_policy_directories_at_start,
    a_release_is_gated_replayed_and_a_tampered_decision_is_caught,
);
