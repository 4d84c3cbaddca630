//! Errors a person can act on: what was tried, and where.

use std::process::Command;

use crate::common::*;

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
