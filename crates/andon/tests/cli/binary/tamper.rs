//! A hostile database administrator against the binary: history written through a running
//! `andon serve`, then rewritten with SQL. `andon verify` (from the database and from the
//! server) names every problem by its entry, `andon serve` refuses to start on the result,
//! and `andon restore` refuses an edited backup.

use std::process::Command;

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_domain::api::GateRequest;
use andon_testkit::{Backend, TestDb, both_backends};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::binary::helpers::*;
use crate::common::*;

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
        .block_on(f)
}

/// Every entry: (index, kind, bytes).
fn entries(url: &str) -> Vec<(u64, String, Vec<u8>)> {
    block_on(async {
        let store = andon_store::Store::connect(url).await.expect("store");
        store
            .entries(0, 10_000)
            .await
            .expect("entries")
            .into_iter()
            .map(|e| (e.index, e.kind, e.entry))
            .collect()
    })
}

fn of_kind(url: &str, kind: &str) -> Vec<(u64, Vec<u8>)> {
    entries(url)
        .into_iter()
        .filter(|(_, k, _)| k == kind)
        .map(|(i, _, e)| (i, e))
        .collect()
}

fn hex_blob(b: Backend, bytes: &[u8]) -> String {
    match b {
        Backend::Sqlite => format!("X'{}'", hex::encode(bytes)),
        Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(bytes)),
    }
}

/// Runs `statements` with the ledger's guards dropped, as an administrator could.
fn sql(db: &TestDb, statements: &[String]) {
    block_on(async {
        let store = andon_store::Store::connect(&db.url).await.expect("store");
        let guards: &[&str] = match db.backend {
            Backend::Sqlite => &[
                "DROP TRIGGER IF EXISTS ledger_entries_no_update",
                "DROP TRIGGER IF EXISTS ledger_entries_no_delete",
            ],
            Backend::Postgres => {
                &["DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries"]
            }
        };
        for g in guards {
            store.raw_execute_for_tests(g).await.expect("drop guard");
        }
        for s in statements {
            store.raw_execute_for_tests(s).await.expect(s);
        }
    });
}

fn rewrite(db: &TestDb, idx: u64, bytes: &[u8], leaf: bool) -> String {
    let mut set = format!("entry = {}", hex_blob(db.backend, bytes));
    if leaf {
        let h = andon_ledger::leaf_hash(bytes);
        set.push_str(&format!(", leaf_hash = {}", hex_blob(db.backend, &h)));
    }
    format!("UPDATE ledger_entries SET {set} WHERE idx = {idx}")
}

fn replaced(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    assert!(text.contains(from), "{text}");
    text.replace(from, to).into_bytes()
}

/// The problems found in the ledger itself, (entry, check): what a changed ledger changes
/// in the tables' projection (`projection`) is asserted where it matters.
fn problems(report: &serde_json::Value) -> Vec<(u64, String)> {
    all_problems(report)
        .into_iter()
        .filter(|(_, c)| c != "projection")
        .collect()
}

fn all_problems(report: &serde_json::Value) -> Vec<(u64, String)> {
    report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["index"].as_u64().expect("index"),
                p["check"].as_str().expect("check").to_owned(),
            )
        })
        .collect()
}

/// `andon serve` on `db` must refuse to start; answers what it said.
fn refused_start(db: &TestDb) -> String {
    let out = serve_command(&db.url, &db.dir())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run andon serve");
    assert!(
        !out.status.success(),
        "andon serve started on a tampered database"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn apps(server: &Server, token: &str, n: usize) -> Client {
    let admin = Client::new(&server.url, Some(token.to_owned()));
    for i in 0..n {
        admin
            .create_application(&format!("app{i}"), "team")
            .expect("app");
    }
    admin
}

fn verify_names_every_problem_from_the_database_and_the_server(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    apps(&server, &token, 8);
    let created = of_kind(&db.url, "application.created");
    let (k, gone) = (created[3].0, created[6].0);
    sql(
        &db,
        &[
            rewrite(&db, k, &replaced(&created[3].1, "app3", "appX"), false),
            format!("DELETE FROM ledger_entries WHERE idx = {gone}"),
        ],
    );
    let want = vec![(k, "leaf_hash".to_owned()), (gone, "missing".to_owned())];
    let (ok, report) = verify(&["--database", &db.url], "http://127.0.0.1:1", "unused");
    assert!(!ok, "{report}");
    assert_eq!(problems(&report), want, "{report}");
    // From the database the tables are compared too: the rewritten entry's row and the
    // deleted entry's row were written by no entry the ledger holds.
    assert_eq!(report["problem_count"], 5, "{report}");
    assert_eq!(report["tables_compared"], 39, "{report}");
    assert_eq!(report["first_bad_entry"], k, "{report}");
    let (ok, report) = verify(&[], &server.url, &token);
    assert!(!ok, "{report}");
    assert_eq!(problems(&report), want, "{report}");
    // The text form lists them too.
    let out = Command::new(BIN)
        .args(["verify", "--database", &db.url])
        .output()
        .expect("verify");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("FAILED: 5 problems: 1 leaf_hash, 1 missing, 3 projection"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "entry {gone}: table applications: the row name=app6 was written by no entry"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "entry {k} (application.created): its bytes do not hash"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("entry {gone}: it is missing")),
        "{text}"
    );
    drop(server_guard(server));
    let err = refused_start(&db);
    assert!(err.contains("refusing to start"), "{err}");
    assert!(
        err.contains(&format!("entry {k} (application.created)")),
        "{err}"
    );
}

fn truncation_with_the_checkpoints_is_caught_by_the_server_and_its_checkpoint_file(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let saved = db.dir().join("auditor.checkpoint");
    let saved = saved.to_str().expect("path");
    apps(&server, &token, 6);
    assert!(verify(&["--save-checkpoint", saved], &server.url, &token).0);
    let size = Client::new(&server.url, Some(token.clone()))
        .ledger_info()
        .expect("info")
        .size;
    let cut = size - 3;
    sql(
        &db,
        &[
            format!("DELETE FROM ledger_entries WHERE idx >= {cut}"),
            format!("DELETE FROM checkpoints WHERE size > {cut}"),
        ],
    );
    // The running server still publishes what it signed.
    let (ok, report) = verify(&[], &server.url, &token);
    assert!(!ok, "{report}");
    assert_eq!(
        problems(&report),
        vec![(cut, "missing".to_owned())],
        "{report}"
    );
    // The database alone is a shorter log whose entries verify, but the rows the cut
    // entries wrote are still in the tables: the projection names them; a checkpoint the
    // auditor saved shows the log shrank.
    let (ok, report) = verify(&["--database", &db.url], "http://127.0.0.1:1", "unused");
    assert!(!ok, "{report}");
    let found = all_problems(&report);
    assert!(
        !found.is_empty() && found.iter().all(|(i, c)| c == "projection" && *i >= cut),
        "{report}"
    );
    let (ok, report) = verify(
        &["--database", &db.url, "--checkpoint", saved],
        "http://127.0.0.1:1",
        "unused",
    );
    assert!(!ok, "{report}");
    assert!(
        all_problems(&report).contains(&(cut, "saved_checkpoint".to_owned())),
        "{report}"
    );
    assert!(report.to_string().contains("the log shrank"), "{report}");
    drop(server_guard(server));
    let err = refused_start(&db);
    assert!(
        err.contains("the checkpoint file")
            && err.contains(&format!(
                "more than the {cut} this database holds: entries {cut} to"
            )),
        "{err}"
    );
}

fn a_decision_rewritten_to_allow_is_caught_by_verify(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (_, issued, _) = pay_pipeline(&server.url, &token, 7);
    let ci = Client::new(&server.url, Some(issued.token));
    let d = ci
        .gate(&GateRequest {
            application: "pay".into(),
            artifact: format!("pay@{}", Sha256Digest::of(b"never built")),
            environment: "staging".into(),
            ..Default::default()
        })
        .expect("decided");
    assert!(!d.decision.allow, "nothing attested, yet allowed");
    let idx = d.ledger_index;
    let (_, bytes) = of_kind(&db.url, "gate.decision")
        .into_iter()
        .find(|(i, _)| *i == idx)
        .expect("the decision entry");
    sql(
        &db,
        &[rewrite(
            &db,
            idx,
            &replaced(&bytes, "\"allow\":false", "\"allow\":true"),
            true,
        )],
    );
    for (args, url) in [
        (vec!["--database", db.url.as_str()], "http://127.0.0.1:1"),
        (vec![], server.url.as_str()),
    ] {
        let (ok, report) = verify(&args, url, &token);
        assert!(!ok, "{report}");
        let found = problems(&report);
        assert!(found.contains(&(idx, "meaning".into())), "{report}");
        assert!(found.contains(&(idx, "checkpoint_root".into())), "{report}");
        assert_eq!(report["first_bad_entry"], idx, "{report}");
    }
    drop(server_guard(server));
}

fn restore_of_an_edited_backup_fails_naming_the_entry(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    apps(&server, &token, 5);
    let victim = of_kind(&db.url, "application.created")[2].0;
    let file = db.dir().join("andon.backup");
    let backed = Command::new(BIN)
        .args(["backup", "--database", &db.url, "--out"])
        .arg(&file)
        .output()
        .expect("backup");
    assert!(backed.status.success());
    drop(server_guard(server));

    // Rename app2 in its ledger entry, in the backup file.
    let text = std::fs::read_to_string(&file).expect("read");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header = lines
        .iter()
        .position(|l| l.contains("\"table\":\"ledger_entries\""))
        .expect("the ledger's table");
    let columns: serde_json::Value = serde_json::from_str(&lines[header]).expect("json");
    let cols: Vec<&str> = columns["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().expect("name"))
        .collect();
    let (at_idx, at_entry) = (
        cols.iter().position(|c| *c == "idx").expect("idx"),
        cols.iter().position(|c| *c == "entry").expect("entry"),
    );
    let row = lines[header + 1..]
        .iter()
        .position(|l| {
            serde_json::from_str::<serde_json::Value>(l).is_ok_and(|r| r[at_idx] == victim)
        })
        .expect("the victim's row")
        + header
        + 1;
    let mut values: serde_json::Value = serde_json::from_str(&lines[row]).expect("json");
    let bytes = STANDARD
        .decode(values[at_entry]["b64"].as_str().expect("b64"))
        .expect("base64");
    values[at_entry]["b64"] = STANDARD.encode(replaced(&bytes, "app2", "appQ")).into();
    lines[row] = values.to_string();
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");

    let target = TestDb::new(b);
    let out = Command::new(BIN)
        .args(["--output", "json", "restore"])
        .arg(&file)
        .args(["--database", &target.url])
        .output()
        .expect("restore");
    assert!(
        !out.status.success(),
        "an edited backup was restored as good"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["verified"], false, "{report}");
    assert_eq!(
        problems(&report),
        vec![(victim, "leaf_hash".to_owned())],
        "{report}"
    );
}

both_backends!(
    verify_names_every_problem_from_the_database_and_the_server,
    truncation_with_the_checkpoints_is_caught_by_the_server_and_its_checkpoint_file,
    a_decision_rewritten_to_allow_is_caught_by_verify,
    restore_of_an_edited_backup_fails_naming_the_entry,
);
