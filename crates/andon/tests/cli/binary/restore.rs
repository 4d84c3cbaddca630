//! Restores that cannot fork the log quietly, on both backends: a backup restored after the
//! log grew past it is refused while a signed checkpoint shows the lost entries, records the
//! loss, the reason and an alert when an operator acknowledges it, and records every restore
//! as a ledger entry naming the backup's last checkpoint.

use std::process::Command;

use andon_client::Client;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

fn entry_at(c: &Client, index: u64) -> serde_json::Value {
    let e = &c.entries(index, 1).expect("entries").entries[0];
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &e.entry)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("entry json")
}

fn ledger_size(url: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let store = andon_store::Store::connect(url).await.expect("store");
        store.counts().await.expect("counts").ledger_entries
    })
}

fn a_restore_that_lost_signed_entries_is_refused_until_acknowledged(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (admin, issued, key) = pay_pipeline(&server.url, &token, 3);
    let ci = Client::new(&server.url, Some(issued.token.clone()));
    let path = |name: &str| db.dir().join(name).to_str().expect("path").to_owned();
    let backup = path("andon.backup");
    let run = |args: &[&str]| Command::new(BIN).args(args).output().expect("andon");
    assert!(
        run(&["backup", "--database", &db.url, "--out", &backup])
            .status
            .success()
    );
    let backed_up = admin.ledger_info().expect("info").size;
    // The log goes on past the backup; an auditor (or monitoring) saves its checkpoint.
    for n in 0..5 {
        ci.submit_evidence("pay", None, None, &envelope(&key, 500 + n))
            .expect("evidence");
    }
    let highest = path("highest.checkpoint");
    assert!(verify(&["--save-checkpoint", &highest], &server.url, &token).0);
    let grown = admin.ledger_info().expect("info").size;
    drop(server_guard(server));

    // The backup restored into a new database, served by a new server (its own data
    // directory, so no checkpoint file of the old one).
    let target = TestDb::new(b);
    let restored = run(&["restore", &backup, "--database", &target.url]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let dir = target.dir().join("new-server");
    let serve = |extra: &[&str]| {
        serve_command(&target.url, &dir)
            .args([
                "--log-key",
                &path("log.key"),
                "--highest-checkpoint",
                &highest,
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .expect("andon serve")
    };
    let refused = serve(&[]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        err.contains(&format!(
            "more than the {backed_up} this database holds: entries {backed_up} to {} are missing",
            grown - 1
        )) && err.contains("--acknowledge-loss")
            && err.contains("Nothing was written"),
        "{err}"
    );
    assert_eq!(ledger_size(&target.url), backed_up, "a refused start wrote");
    let blank = serve(&["--acknowledge-loss", " "]);
    assert!(!blank.status.success());
    assert!(String::from_utf8_lossy(&blank.stderr).contains("needs a reason"));

    // Acknowledged: the restore, the lost range and the reason go into the ledger, with an
    // alert; the log verifies, and the next start does not ask again.
    let reason = "the primary's disk failed; the nightly backup is what we have";
    let server = start_at(
        &target.url,
        &dir,
        false,
        &[
            "--log-key",
            &path("log.key"),
            "--highest-checkpoint",
            &highest,
            "--acknowledge-loss",
            reason,
        ],
    );
    let admin = Client::new(&server.url, Some(token.clone()));
    let entry = entry_at(&admin, backed_up);
    assert_eq!(entry["kind"], "ledger.restored", "{entry}");
    assert_eq!(entry["body"]["backup"]["size"], backed_up, "{entry}");
    assert_eq!(entry["body"]["lost"][0]["from"], backed_up, "{entry}");
    assert_eq!(entry["body"]["lost"][0]["size"], grown, "{entry}");
    assert_eq!(entry["body"]["reason"], reason, "{entry}");
    let lost = admin.alerts().expect("alerts");
    let lost: Vec<_> = lost
        .iter()
        .filter(|a| a.kind == "ledger_history_lost")
        .collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(lost[0].message.contains(reason), "{}", lost[0].message);
    let (ok, report) = verify(&["--database", &target.url], &server.url, &token);
    assert!(ok, "{report:#}");
    // The auditor's saved checkpoint is not a prefix of the restored log: the loss shows.
    let (ok, report) = verify(&["--checkpoint", &highest], &server.url, &token);
    assert!(!ok, "{report:#}");
    let size = admin.ledger_info().expect("info").size;
    drop(server_guard(server));
    let server = start_at(
        &target.url,
        &dir,
        false,
        &[
            "--log-key",
            &path("log.key"),
            "--highest-checkpoint",
            &highest,
        ],
    );
    let admin = Client::new(&server.url, Some(token.clone()));
    assert_eq!(admin.ledger_info().expect("info").size, size);
    drop(server_guard(server));
}

/// A restore with nothing known lost is still on record: the first start names the
/// backup's last checkpoint in a `ledger.restored` entry, once.
fn every_restore_is_recorded_in_the_ledger(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    admin.create_application("pay", "team").expect("app");
    let info = admin.ledger_info().expect("info");
    let backup = db.dir().join("andon.backup");
    let out = Command::new(BIN)
        .args(["backup", "--database", &db.url, "--out"])
        .arg(&backup)
        .output()
        .expect("backup");
    assert!(out.status.success());
    drop(server_guard(server));
    let target = TestDb::new(b);
    let out = Command::new(BIN)
        .args(["restore"])
        .arg(&backup)
        .args(["--database", &target.url])
        .output()
        .expect("restore");
    assert!(out.status.success());
    let key = db.dir().join("log.key");
    let key = key.to_str().expect("path");
    for restart in 0..2 {
        let server = start_at(&target.url, &target.dir(), false, &["--log-key", key]);
        let admin = Client::new(&server.url, Some(token.clone()));
        assert_eq!(
            admin.ledger_info().expect("info").size,
            info.size + 1,
            "restart {restart}"
        );
        let entry = entry_at(&admin, info.size);
        assert_eq!(entry["kind"], "ledger.restored", "{entry}");
        assert_eq!(entry["body"]["backup"]["size"], info.size, "{entry}");
        assert_eq!(entry["body"]["lost"], serde_json::json!([]), "{entry}");
        drop(server_guard(server));
    }
}

both_backends!(
    a_restore_that_lost_signed_entries_is_refused_until_acknowledged,
    every_restore_is_recorded_in_the_ledger,
);
