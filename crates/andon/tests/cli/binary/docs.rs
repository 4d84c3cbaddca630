//! The guides run as written: docs/quickstart.md's commands and docs/rego.md's control
//! and bundle.

use std::process::Command;

use andon_client::Client;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

/// The fenced blocks of one language in a document, in order.
fn doc_blocks(doc: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}\n");
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find(&fence) {
        rest = &rest[at + fence.len()..];
        let end = rest.find("```").expect("a closing fence");
        out.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// Runs a shell block as a reader would, with `andon` on the PATH, in `dir`.
fn run_block(block: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> std::process::Output {
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .args(["-euo", "pipefail", "-c", block])
        .current_dir(dir)
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .expect("bash")
}

/// Copies a directory tree.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("dir");
    for e in std::fs::read_dir(from)
        .expect("read")
        .map(|e| e.expect("entry"))
    {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// docs/quickstart.md's commands, exactly as written, against a live server.
fn the_quickstart_runs_as_written(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let doc = include_str!("../../../../../docs/quickstart.md");
    let blocks = doc_blocks(doc, "sh");
    assert_eq!(blocks.len(), 3, "the quickstart's shape changed");
    // The reader copies the guide's files and works in the copy: so does this test (into
    // a directory of its own, not the guide's /tmp one, so both backends run at once).
    assert_eq!(
        blocks[1].trim(),
        "cp -r docs/examples/quickstart /tmp/andon-quickstart && cd /tmp/andon-quickstart"
    );
    let dir = db.dir().join("quickstart");
    copy_dir(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/examples/quickstart"
        )),
        &dir,
    );
    let out = run_block(
        &blocks[2],
        &dir,
        &[("ANDON_SERVER", &server.url), ("ANDON_TOKEN", &token)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the reader was told they would see: two denials, then an allow.
    assert_eq!(stdout.matches("DENY").count(), 2, "{stdout}");
    assert!(
        stdout.contains("published policy payments-staging"),
        "{stdout}"
    );
    assert!(stdout.contains("what to do:"), "{stdout}");
    assert!(stdout.contains("1 of 3 tests failed"), "{stdout}");
    assert!(stdout.contains("ALLOW"), "{stdout}");
    assert!(stdout.contains("ok: "), "{stdout}");
    assert!(dir.join("first.cp").exists());
    let admin = Client::new(&server.url, Some(token));
    let deployments = admin
        .deployments(Some("payments"), Some("staging"))
        .expect("deployments");
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    drop(server_guard(server));
}

/// docs/rego.md's control and bundle, exactly as written: its tests pass, it publishes.
fn the_rego_guide_runs_as_written(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let doc = include_str!("../../../../../docs/rego.md");
    let rego = doc_blocks(doc, "rego");
    let json = doc_blocks(doc, "json");
    let sh = doc_blocks(doc, "sh");
    assert_eq!(
        (rego.len(), json.len(), sh.len()),
        (1, 1, 1),
        "the guide's shape changed"
    );
    let dir = db.dir().join("guide");
    let bundle = dir.join("policies/payments");
    std::fs::create_dir_all(&bundle).expect("dir");
    std::fs::write(bundle.join("ticket_linked.rego"), &rego[0]).expect("rego");
    std::fs::write(bundle.join("policy.json"), &json[0]).expect("json");
    let admin = Client::new(&server.url, Some(token.clone()));
    admin
        .create_application("payments", "team-payments")
        .expect("app");
    let out = run_block(
        &sh[0],
        &dir,
        &[("ANDON_SERVER", &server.url), ("ANDON_TOKEN", &token)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout
            .matches("PASS andon.controls.ticket_linked.test_")
            .count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    let policies = admin.list_policies().expect("policies");
    assert!(
        policies.iter().any(|p| p["name"] == "payments-production"),
        "{policies:?}"
    );
    drop(server_guard(server));
}

both_backends!(
    the_quickstart_runs_as_written,
    the_rego_guide_runs_as_written,
);
