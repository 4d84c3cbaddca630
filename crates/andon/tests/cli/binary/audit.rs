//! What auditors rely on: no secret in the server's log, and audit packages that verify
//! offline and fail on any change.

use std::process::Command;

use andon_client::Client;
use andon_domain::{Sha256Digest, SigningKey};
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

/// No secret reaches the server's log, even at debug level: not the admin token, not a
/// pipeline token (used, refused, or mistyped), not the webhook secret, not a private key.
fn no_secret_is_ever_logged(b: Backend) {
    let db = TestDb::new(b);
    let log = db.dir().join("serve.log");
    let server = spawn_server(&db.url, &db.dir(), true, &[], Some(&log));
    let token = server.token.clone().expect("admin token");
    let (admin, issued, key) = pay_pipeline(&server.url, &token, 8);
    let ci = Client::new(&server.url, Some(issued.token.clone()));
    ci.submit_evidence("pay", None, None, &envelope(&key, 1))
        .expect("evidence");
    // Refused: a token one character off, a token for the wrong application, a bad body.
    let mut wrong = issued.token.clone();
    let last = wrong.pop().expect("a token");
    wrong.push(if last == '0' { '1' } else { '0' });
    assert!(
        Client::new(&server.url, Some(wrong.clone()))
            .whoami()
            .is_err()
    );
    assert!(
        ci.submit_evidence("other", None, None, &envelope(&key, 2))
            .is_err()
    );
    // A webhook delivery signed with the secret, and one signed wrongly.
    let body = br#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#;
    for sig in [
        andon_client::github_signature(WEBHOOK_SECRET, body),
        "sha256=00".to_owned(),
    ] {
        let _ = admin.deliver_webhook(
            "/webhooks/github",
            &[
                ("X-GitHub-Event", "ping".to_owned()),
                ("X-GitHub-Delivery", format!("log-{sig}")),
                ("X-Hub-Signature-256", sig),
            ],
            body,
        );
    }
    drop(server);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("request done"), "the log is empty: {text}");
    let private = std::fs::read_to_string(db.dir().join("log.key")).expect("log key");
    for (what, secret) in [
        ("the admin token", token.as_str()),
        ("the pipeline token", issued.token.as_str()),
        ("a mistyped token", wrong.as_str()),
        ("the webhook secret", WEBHOOK_SECRET),
        ("the log key", private.lines().nth(1).unwrap_or("-")),
    ] {
        assert!(!text.contains(secret), "{what} is in the log");
    }
}

/// Every file of a tar archive, in order.
fn untar(path: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(std::fs::File::open(path).expect("open"));
    a.entries()
        .expect("entries")
        .map(|e| {
            let mut e = e.expect("entry");
            let name = e.path().expect("path").display().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).expect("read");
            (name, bytes)
        })
        .collect()
}

fn retar(path: &std::path::Path, files: &[(String, Vec<u8>)]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).expect("create"));
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, &bytes[..]).expect("append");
    }
    b.finish().expect("finish");
}

/// An audit package of one application: it holds that application's entries and no
/// other's, verifies offline with the server gone, and fails, naming the file, when any
/// file in it is altered, added or removed, also when the manifest is rewritten to match.
fn an_audit_package_verifies_offline_and_any_change_fails(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    let run = |tok: &str, args: &[&str]| cli(&server.url, tok, args);
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/junit/cargo-nextest-0.9.143.xml"
    );
    for (n, app) in ["pay", "other"].into_iter().enumerate() {
        admin.create_application(app, "payments").expect("app");
        let issued = admin
            .create_identity(&format!("ci-{app}"), "pipeline", &[app.into()])
            .expect("identity");
        let key = SigningKey::from_seed([9 + n as u8; 32]);
        admin
            .register_key(&format!("ci-{app}"), &key.public_key().to_ledger_text())
            .expect("key");
        let key_file = db.dir().join(format!("{app}.key"));
        std::fs::write(&key_file, key.to_pem()).expect("key file");
        let key_file = key_file.to_str().expect("path");
        let subject = format!(
            "registry.example.com/{app}@{}",
            Sha256Digest::of(app.as_bytes())
        );
        let attested = run(
            &issued.token,
            &[
                "attest",
                "junit",
                "--app",
                app,
                "--subject",
                &subject,
                "--key",
                key_file,
                "--file",
                report,
            ],
        );
        assert!(
            attested.status.success(),
            "{}",
            String::from_utf8_lossy(&attested.stderr)
        );
        // A production gate: denied, recorded, signed.
        let _ = run(
            &issued.token,
            &[
                "gate",
                "--app",
                app,
                "--artifact",
                &subject,
                "--env",
                "production",
            ],
        );
    }
    let package = db.dir().join("pay-audit.tar");
    let package = package.to_str().expect("path");
    let exported = run(
        &token,
        &["export", "package", "--app", "pay", "--out", package],
    );
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let log_key = admin.ledger_info().expect("info").verifier_key;
    drop(server);

    // Offline: the server is gone.
    let check = |path: &str, key: &str| {
        let out = Command::new(BIN)
            .args([
                "--output",
                "json",
                "verify",
                "--package",
                path,
                "--log-key",
                key,
            ])
            .output()
            .expect("andon verify --package");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.success(), report)
    };
    let (ok, report) = check(package, &log_key);
    assert!(ok, "{report}");
    let files = untar(std::path::Path::new(package));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let entries = names.iter().filter(|n| n.starts_with("entries/")).count();
    assert_eq!(report["entries_verified"], entries, "{report}");
    // pay's application, key, identity, evidence and decision entries; none of other's.
    for (name, bytes) in &files {
        if name.starts_with("entries/") {
            let e: serde_json::Value = serde_json::from_slice(bytes).expect("entry");
            assert_ne!(
                e["body"]["application"], "other",
                "{name} is another application's"
            );
        }
    }
    assert!(
        names.iter().any(|n| n.starts_with("documents/")),
        "{names:?}"
    );
    let controls = String::from_utf8(
        files
            .iter()
            .find(|(n, _)| n == "controls.csv")
            .expect("controls.csv")
            .1
            .clone(),
    )
    .expect("utf-8");
    assert!(
        controls
            .lines()
            .any(|l| l.starts_with("tests-pass,") && l.contains(",1,0,1,")),
        "{controls}"
    );
    let html = String::from_utf8(
        files
            .iter()
            .find(|(n, _)| n == "report.html")
            .expect("report")
            .1
            .clone(),
    )
    .expect("utf-8");
    assert!(!html.contains("<script"), "the report runs scripts");

    // A stranger's key does not verify it.
    let stranger = andon_ledger::LogSigner::new("andon.local/x", [4; 32])
        .verifier()
        .to_string();
    assert!(!check(package, &stranger).0);

    // Every file altered by one byte, one at a time; then added and removed files; then an
    // altered file with the manifest rewritten to match.
    let altered = db.dir().join("altered.tar");
    let altered = altered.to_str().expect("path");
    for i in 0..files.len() {
        let mut copy = files.clone();
        let bytes = &mut copy[i].1;
        let at = bytes.len() / 2;
        bytes[at] ^= 0x01;
        retar(std::path::Path::new(altered), &copy);
        let (ok, report) = check(altered, &log_key);
        assert!(!ok, "altering {} went unnoticed", files[i].0);
        assert!(
            report["problem"].as_str().is_some_and(|p| !p.is_empty()),
            "{report}"
        );
    }
    let mut added = files.clone();
    added.push(("documents/9999999999".into(), b"planted".to_vec()));
    retar(std::path::Path::new(altered), &added);
    let (ok, report) = check(altered, &log_key);
    assert!(
        !ok && report["problem"].as_str().unwrap_or("").contains("added"),
        "{report}"
    );
    let removed: Vec<_> = files
        .iter()
        .filter(|(n, _)| !n.starts_with("documents/"))
        .cloned()
        .collect();
    retar(std::path::Path::new(altered), &removed);
    assert!(
        !check(altered, &log_key).0,
        "removing the documents went unnoticed"
    );
    for target in ["report.html", "controls.csv"] {
        let mut copy = files.clone();
        let i = copy.iter().position(|(n, _)| n == target).expect("file");
        copy[i].1 = String::from_utf8(copy[i].1.clone())
            .expect("utf-8")
            .replace("pass", "PASS")
            .into_bytes();
        let digest = Sha256Digest::of(&copy[i].1).hex();
        let m = copy
            .iter()
            .position(|(n, _)| n == "manifest.json")
            .expect("manifest");
        let mut manifest: serde_json::Value = serde_json::from_slice(&copy[m].1).expect("json");
        manifest["files"][target] = digest.into();
        copy[m].1 = serde_json::to_vec_pretty(&manifest).expect("json");
        retar(std::path::Path::new(altered), &copy);
        let (ok, report) = check(altered, &log_key);
        assert!(
            !ok && report["problem"].as_str().unwrap_or("").contains(target),
            "{target} rewritten with its manifest digest went unnoticed: {report}"
        );
    }
}

both_backends!(
    no_secret_is_ever_logged,
    an_audit_package_verifies_offline_and_any_change_fails,
);
