//! Errors a person can act on: what was tried, and where.

use std::process::Command;

use andon_testkit::{Backend, TestDb};

use crate::common::*;

/// A second server on the same SQLite database refuses to start, naming the first
/// process; the first keeps serving.
#[test]
fn a_second_server_on_one_sqlite_file_refuses_naming_the_first() {
    let db = TestDb::new(Backend::Sqlite);
    let first = start(&db, true);
    let second = serve_command(&db.url, &db.dir())
        .output()
        .expect("andon serve");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another andon serve (process {}) is using",
            first.child.id()
        )),
        "{stderr}"
    );
    let health = Command::new(BIN)
        .args([
            "--server",
            &first.url,
            "--token",
            first.token.as_deref().expect("token"),
        ])
        .args(["app", "list"])
        .output()
        .expect("andon app list");
    assert!(health.status.success(), "the first server stopped serving");
}

/// A server that does not answer is named, with the flag that chose it; a key file that
/// is not there is named too. Both are errors (2), not verdicts.
#[test]
fn an_unreachable_server_and_a_missing_key_are_named() {
    // Port 1 on loopback: nothing listens there.
    let out = Command::new(BIN)
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--token",
            "t",
            "evidence",
            "list",
        ])
        .output()
        .expect("andon");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the server at http://127.0.0.1:1 (--server, ANDON_SERVER)")
            && stderr.contains("Connection refused"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("absent.key");
    let report = dir.path().join("junit.xml");
    std::fs::write(&report, "<testsuites/>").expect("report");
    let out = Command::new(BIN)
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--token",
            "t",
            "attest",
            "junit",
        ])
        .args(["--app", "pay", "--subject"])
        .arg(format!("pay@sha256:{}", "a".repeat(64)))
        .arg("--key")
        .arg(&key)
        .arg("--file")
        .arg(&report)
        .output()
        .expect("andon");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&key.display().to_string()),
        "the missing key file is not named: {stderr}"
    );
}

/// Keys of the kinds people hold (made by OpenSSL and OpenSSH, tests/fixtures/keys) are
/// named for what they are, with what Andon accepts and how to make one; nothing is
/// registered.
#[test]
fn keys_andon_does_not_read_yet_are_named() {
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    for (file, kind) in [
        ("rsa.pub", "an RSA key"),
        ("rsa.key", "an RSA key"),
        ("ec-p256.pub", "an ECDSA (EC) key"),
        ("ec-p256.key", "an ECDSA (EC) key"),
        ("openssh-ed25519.pub", "an OpenSSH key"),
        ("openssh-ed25519", "an OpenSSH key"),
    ] {
        let out = cli(
            &server.url,
            &token,
            &[
                "identity",
                "add-key",
                "admin",
                "--key",
                fixtures.join(file).to_str().expect("path"),
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file} was accepted");
        assert!(
            stderr.contains(&format!("this is {kind}"))
                && stderr.contains("andon keygen")
                && stderr.contains("openssl genpkey -algorithm ed25519"),
            "{file}: {stderr}"
        );
    }
    let shown = cli(&server.url, &token, &["identity", "show", "admin"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("admin"), "{shown}");
    assert!(
        !shown.lines().any(|l| l.trim_start().starts_with("key ")),
        "a key was registered: {shown}"
    );
}
