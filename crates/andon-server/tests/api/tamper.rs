//! A hostile database administrator, through the real paths: history is written through the
//! API, then rewritten with SQL (the append-only triggers dropped first, as such an operator
//! could). The server's verification names every problem by its entry, the self-check
//! alerts on the first, and a restart refuses the database instead of signing over it.

use crate::common::{self, Harness};
use andon_domain::Sha256Digest;
use andon_domain::api::GateRequest;
use andon_ledger::{Checkpoint, LogSigner, leaf_hash};
use andon_testkit::{Backend, TestDb, both_backends};
use serde_json::Value;
use sqlx::Executor as _;

/// Some history: one application per entry, each its own batch and checkpoint.
fn history(h: &Harness, n: usize) -> Vec<u64> {
    for i in 0..n {
        h.admin
            .create_application(&format!("app{i}"), "team")
            .expect("app");
    }
    let idx: Vec<i64> = query(h, |pool| async move {
        sqlx::query_scalar(
            "SELECT idx FROM ledger_entries WHERE kind = 'application.created' ORDER BY idx",
        )
        .fetch_all(&pool)
        .await
        .expect("indexes")
    });
    idx.into_iter().map(|i| i as u64).collect()
}

fn query<T, F, Fut>(h: &Harness, f: F) -> T
where
    F: FnOnce(sqlx::AnyPool) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    h.rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&h.db.url).await.expect("connect");
        f(pool).await
    })
}

/// Runs `statements` as the database's administrator, the ledger's guards dropped first.
fn sql(url: &str, b: Backend, statements: &[String]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.expect("connect");
        let guards: &[&str] = match b {
            Backend::Sqlite => &[
                "DROP TRIGGER IF EXISTS ledger_entries_no_update",
                "DROP TRIGGER IF EXISTS ledger_entries_no_delete",
            ],
            Backend::Postgres => {
                &["DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries"]
            }
        };
        for g in guards {
            pool.execute(*g).await.expect("drop guard");
        }
        for s in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()))
                .execute(&pool)
                .await
                .expect(s);
        }
    });
}

fn entry(h: &Harness, idx: u64) -> Vec<u8> {
    query(h, |pool| async move {
        sqlx::query_scalar("SELECT entry FROM ledger_entries WHERE idx = $1")
            .bind(idx as i64)
            .fetch_one(&pool)
            .await
            .expect("entry")
    })
}

fn blob(b: Backend, bytes: &[u8]) -> String {
    match b {
        Backend::Sqlite => format!("X'{}'", hex::encode(bytes)),
        Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(bytes)),
    }
}

/// Sets entry `idx`'s bytes, and with `leaf` its leaf hash to match them.
fn rewrite(h: &Harness, idx: u64, bytes: &[u8], leaf: bool) -> String {
    let b = h.db.backend;
    let mut set = format!("entry = {}", blob(b, bytes));
    if leaf {
        set.push_str(&format!(", leaf_hash = {}", blob(b, &leaf_hash(bytes))));
    }
    format!("UPDATE ledger_entries SET {set} WHERE idx = {idx}")
}

fn renamed(h: &Harness, idx: u64, from: &str, to: &str) -> Vec<u8> {
    let forged = String::from_utf8(entry(h, idx))
        .expect("utf-8")
        .replace(from, to);
    assert!(forged.contains(to), "{forged}");
    forged.into_bytes()
}

fn checked(h: &Harness) -> Value {
    let r = h.admin.verify_ledger().expect("checked");
    assert_eq!(r["verified"], false, "{r}");
    r
}

/// The problems found in the ledger itself, (entry, check). A changed ledger also changes
/// what its projection says the tables hold; those differences (`projection`) are
/// specified in projection.rs.
fn named(r: &Value) -> Vec<(u64, String)> {
    r["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["check"] != "projection")
        .map(|p| {
            (
                p["index"].as_u64().expect("index"),
                p["check"].as_str().expect("check").to_owned(),
            )
        })
        .collect()
}

fn alert_subjects(h: &Harness) -> Vec<String> {
    h.admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "ledger_verification_failed")
        .map(|a| a.subject)
        .collect()
}

/// Stops the server (its runtime goes) and keeps its database.
fn stop(h: Harness) -> TestDb {
    let Harness { db, rt, .. } = h;
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    db
}

/// A start on `db` as the test server starts: it must be refused; answers why.
fn refused_start(db: &TestDb) -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("rt");
    match rt.block_on(andon_server::App::open(common::config_for(db))) {
        Ok(_) => panic!("a start on the tampered database was not refused"),
        Err(e) => e,
    }
}

fn an_entry_rewritten_without_its_leaf_hash_is_named_alerted_and_refused(b: Backend) {
    let h = common::start(b);
    let apps = history(&h, 6);
    let victim = apps[3];
    sql(
        &h.db.url,
        b,
        &[rewrite(
            &h,
            victim,
            &renamed(&h, victim, "app3", "appX"),
            false,
        )],
    );
    let r = checked(&h);
    assert_eq!(r["first_bad_index"], victim, "{r}");
    assert_eq!(named(&r), vec![(victim, "leaf_hash".into())], "{r}");
    assert_eq!(r["problems"][0]["kind"], "application.created", "{r}");
    assert_eq!(alert_subjects(&h), vec![format!("ledger:{victim}")]);
    let err = refused_start(&stop(h));
    assert!(
        err.contains(&format!(
            "entry {victim} (application.created): its bytes do not hash"
        )),
        "{err}"
    );
}

fn an_entry_rewritten_with_its_leaf_hash_is_named_through_its_checkpoints(b: Backend) {
    let h = common::start(b);
    let apps = history(&h, 6);
    let victim = apps[2];
    sql(
        &h.db.url,
        b,
        &[rewrite(
            &h,
            victim,
            &renamed(&h, victim, "app2", "appY"),
            true,
        )],
    );
    let r = checked(&h);
    assert_eq!(r["first_bad_index"], victim, "{r}");
    assert_eq!(named(&r), vec![(victim, "checkpoint_root".into())], "{r}");
    assert!(
        r["problems"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("later checkpoints"),
        "{r}"
    );
    assert_eq!(alert_subjects(&h), vec![format!("ledger:{victim}")]);
    let err = refused_start(&stop(h));
    assert!(
        err.contains(&format!("entry {victim} is the first that differs")),
        "{err}"
    );
}

/// Several problems at once: two entries swapped (bytes only), one rewritten, one deleted:
/// every one is named.
fn several_problems_are_all_named(b: Backend) {
    let h = common::start(b);
    let apps = history(&h, 10);
    let (i, j, k, gone) = (apps[1], apps[4], apps[6], apps[8]);
    let (ei, ej) = (entry(&h, i), entry(&h, j));
    sql(
        &h.db.url,
        b,
        &[
            rewrite(&h, i, &ej, false),
            rewrite(&h, j, &ei, false),
            rewrite(&h, k, &renamed(&h, k, "app6", "appZ"), false),
            format!("DELETE FROM ledger_entries WHERE idx = {gone}"),
        ],
    );
    let r = checked(&h);
    assert_eq!(
        named(&r),
        vec![
            (i, "leaf_hash".into()),
            (j, "leaf_hash".into()),
            (k, "leaf_hash".into()),
            (gone, "missing".into()),
        ],
        "{r}"
    );
    // The four in the ledger, and what they change in the applications table: two rows
    // swapped, one rewritten (missing, and one no entry wrote), one deleted (a row no entry
    // wrote).
    assert!(
        r["summary"]
            .as_str()
            .is_some_and(|s| s.contains("3 leaf_hash, 1 missing, 5 projection")),
        "{r}"
    );
    assert_eq!(r["problem_count"], 9, "{r}");
    assert_eq!(r["first_bad_index"], i, "{r}");
    let err = refused_start(&stop(h));
    assert!(err.contains("4 problems"), "{err}");
    assert!(
        err.contains(&format!("entry {i} (application.created)")),
        "{err}"
    );
}

/// Two entries swapped together with their leaf hashes: every row is self-consistent, the
/// signed checkpoints are not.
fn swapped_entries_with_their_leaf_hashes_are_named(b: Backend) {
    let h = common::start(b);
    let apps = history(&h, 6);
    let (i, j) = (apps[1], apps[4]);
    let (ei, ej) = (entry(&h, i), entry(&h, j));
    sql(
        &h.db.url,
        b,
        &[rewrite(&h, i, &ej, true), rewrite(&h, j, &ei, true)],
    );
    let r = checked(&h);
    assert_eq!(named(&r), vec![(i, "checkpoint_root".into())], "{r}");
    let err = refused_start(&stop(h));
    assert!(
        err.contains(&format!("entry {i} is the first that differs")),
        "{err}"
    );
}

fn a_deleted_entry_is_named(b: Backend) {
    let h = common::start(b);
    let apps = history(&h, 6);
    let gone = apps[2];
    sql(
        &h.db.url,
        b,
        &[format!("DELETE FROM ledger_entries WHERE idx = {gone}")],
    );
    let r = checked(&h);
    assert_eq!(named(&r), vec![(gone, "missing".into())], "{r}");
    let err = refused_start(&stop(h));
    assert!(
        err.contains(&format!("entry {gone}: it is missing")),
        "{err}"
    );
}

/// A report uploaded on its own is outside the ledger's bytes, but the entry of the evidence
/// naming it records its digest and size: altering it in place, then removing it, is named
/// at that entry.
fn an_uploaded_report_altered_or_removed_is_named(b: Backend) {
    let h = common::start(b);
    let (ci, key) = h.pipeline("pay");
    let id = crate::large_reports::attest_uploaded(&ci, &key);
    let index = h.admin.show_evidence(&id).expect("show").ledger_index;
    let digest = Sha256Digest::of(crate::large_reports::REPORT).hex();
    let mut altered = crate::large_reports::REPORT.to_vec();
    altered[10] ^= 1;
    let guard = match b {
        Backend::Sqlite => "DROP TRIGGER IF EXISTS reports_no_update".to_owned(),
        Backend::Postgres => "DROP TRIGGER IF EXISTS reports_immutable ON reports".to_owned(),
    };
    sql(
        &h.db.url,
        b,
        &[
            guard,
            format!(
                "UPDATE reports SET content = {} WHERE digest = '{digest}'",
                blob(b, &altered)
            ),
        ],
    );
    let r = checked(&h);
    assert_eq!(named(&r), vec![(index, "report".into())], "{r}");
    assert!(
        r["problems"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no longer matches its digest"),
        "{r}"
    );
    sql(
        &h.db.url,
        b,
        &[format!("DELETE FROM reports WHERE digest = '{digest}'")],
    );
    let r = checked(&h);
    assert_eq!(named(&r), vec![(index, "report".into())], "{r}");
    assert!(
        r["problems"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("is missing"),
        "{r}"
    );
}

/// The last entries removed, their checkpoints kept: the checkpoints name them.
fn truncated_entries_are_named_by_their_checkpoints(b: Backend) {
    let h = common::start(b);
    history(&h, 6);
    let size = h.admin.ledger_info().expect("info").size;
    let cut = size - 3;
    sql(
        &h.db.url,
        b,
        &[format!("DELETE FROM ledger_entries WHERE idx >= {cut}")],
    );
    let r = checked(&h);
    assert_eq!(named(&r), vec![(cut, "missing".into())], "{r}");
    let err = refused_start(&stop(h));
    assert!(
        err.contains(&format!("entry {cut}: it is missing")),
        "{err}"
    );
}

/// The last entries removed together with their checkpoints: the database alone is a
/// shorter, consistent log, but the checkpoint file the server keeps knows better. (The
/// running server's verification names them too: see the CLI's tamper tests, whose
/// verification appends no alert in between.)
fn entries_truncated_with_their_checkpoints_are_refused_by_the_checkpoint_file(b: Backend) {
    let h = common::start(b);
    history(&h, 6);
    let size = h.admin.ledger_info().expect("info").size;
    let token = h.admin.token().map(str::to_owned);
    let cut = size - 3;
    let db = stop(h);
    sql(
        &db.url,
        b,
        &[
            format!("DELETE FROM ledger_entries WHERE idx >= {cut}"),
            format!("DELETE FROM checkpoints WHERE size > {cut}"),
        ],
    );
    let err = refused_start(&db);
    assert!(
        err.contains("the checkpoint file")
            && err.contains(&format!(
                "more than the {cut} this database holds: entries {cut} to {} are missing",
                size - 1
            ))
            && err.contains("--acknowledge-loss"),
        "{err}"
    );
    // Served anyway, on purpose (a restore from an older backup): the loss and the reason
    // are in the ledger, and alerted.
    let h = Harness::start_on_with_token(
        db,
        |c| c.acknowledge_loss = Some("restored the nightly backup after the disk failed".into()),
        token,
    );
    let entries = h.admin.entries(cut, 2).expect("entries").entries;
    let entry: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            &entries[0].entry,
        )
        .expect("base64"),
    )
    .expect("entry");
    assert_eq!(entry["kind"], "ledger.restored", "{entry}");
    assert_eq!(entry["body"]["lost"][0]["from"], cut, "{entry}");
    assert_eq!(entry["body"]["lost"][0]["size"], size, "{entry}");
    assert_eq!(
        entry["body"]["reason"],
        "restored the nightly backup after the disk failed"
    );
    let alerts = h.admin_get("/v1/alerts?kind=ledger_history_lost").1;
    assert!(
        alerts.contains("ledger_history_lost") && alerts.contains("disk failed"),
        "{alerts}"
    );
    // The acknowledged loss is not raised again at the next start.
    let token = h.admin.token().map(str::to_owned);
    let size_after = h.admin.ledger_info().expect("info").size;
    let db = stop(h);
    let h = Harness::start_on_with_token(db, |_| {}, token);
    assert_eq!(h.admin.ledger_info().expect("info").size, size_after);
}

/// A denied decision whose entry is rewritten to say allow (with its leaf hash: the
/// checkpoints cannot be re-signed without the log key) is named by its meaning.
fn a_decision_rewritten_to_allow_is_caught_by_its_signed_decision(b: Backend) {
    let h = common::start(b);
    let (ci, _) = h.pipeline("pay");
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
    let bytes = renamed(&h, idx, "\"allow\":false", "\"allow\":true");
    sql(&h.db.url, b, &[rewrite(&h, idx, &bytes, true)]);
    let r = checked(&h);
    let problems = r["problems"].as_array().expect("problems");
    assert!(
        problems.iter().any(|p| p["index"] == idx
            && p["check"] == "meaning"
            && p["kind"] == "gate.decision"
            && p["message"]
                .as_str()
                .unwrap_or_default()
                .contains("allow true")),
        "{r}"
    );
    assert_eq!(r["first_bad_index"], idx, "{r}");
}

fn restart_of_an_untouched_ledger_is_not_refused(b: Backend) {
    let h = common::start(b);
    history(&h, 4);
    let before = h.admin.ledger_info().expect("info");
    let token = h.admin.token().map(str::to_owned);
    let db = stop(h);
    let file = common::config_for(&db)
        .checkpoint_file
        .expect("a checkpoint file");
    let saved = std::fs::read_to_string(&file).expect("the checkpoint file");
    assert_eq!(
        saved, before.checkpoint,
        "the file holds the last acknowledged checkpoint"
    );
    let h = Harness::start_on_with_token(db, |_| {}, token);
    assert_eq!(h.admin.ledger_info().expect("info").size, before.size);
    assert_eq!(h.admin.verify_ledger().expect("verify")["verified"], true);
}

both_backends!(
    an_entry_rewritten_without_its_leaf_hash_is_named_alerted_and_refused,
    an_entry_rewritten_with_its_leaf_hash_is_named_through_its_checkpoints,
    several_problems_are_all_named,
    swapped_entries_with_their_leaf_hashes_are_named,
    a_deleted_entry_is_named,
    truncated_entries_are_named_by_their_checkpoints,
    entries_truncated_with_their_checkpoints_are_refused_by_the_checkpoint_file,
    a_decision_rewritten_to_allow_is_caught_by_its_signed_decision,
    restart_of_an_untouched_ledger_is_not_refused,
    an_uploaded_report_altered_or_removed_is_named,
);

/// Several servers share one PostgreSQL database; "another server" writes an entry and a
/// checkpoint that the log key did not sign. It is not adopted: the server keeps serving
/// its own checkpoint and refuses to append on top of it. (Only PostgreSQL is shared by
/// several servers.)
#[test]
fn a_forged_checkpoint_from_another_server_is_not_adopted() {
    let h = common::start(Backend::Postgres);
    history(&h, 3);
    let before = h.admin.ledger_info().expect("info");
    let leaves: Vec<[u8; 32]> = query(&h, |pool| async move {
        let rows: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT leaf_hash FROM ledger_entries ORDER BY idx")
                .fetch_all(&pool)
                .await
                .expect("leaves");
        rows.into_iter()
            .map(|l| l.try_into().expect("32 bytes"))
            .collect()
    });
    let forged_entry = br#"{"v":1,"kind":"application.created","time":"2030-01-01T00:00:00Z","actor":"admin","body":{"name":"planted","team":"x"}}"#;
    let mut tree = andon_ledger::MerkleTree::from_leaf_hashes(leaves);
    tree.push(leaf_hash(forged_entry));
    let origin = before.origin.clone();
    let forged = LogSigner::new(origin.clone(), [9; 32]).sign(&Checkpoint {
        origin,
        size: tree.size(),
        root: tree.root(),
    });
    let b = Backend::Postgres;
    sql(
        &h.db.url,
        b,
        &[
            format!(
                "INSERT INTO ledger_entries (idx, kind, leaf_hash, entry, created_at) VALUES ({}, 'application.created', {}, {}, 0)",
                before.size,
                blob(b, &leaf_hash(forged_entry)),
                blob(b, forged_entry)
            ),
            format!(
                "INSERT INTO checkpoints (size, root, note, created_at) VALUES ({}, {}, '{}', 0)",
                tree.size(),
                blob(b, &tree.root()),
                forged.note.replace('\'', "''")
            ),
        ],
    );
    // The refresher looks twice a second.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let after = h.admin.ledger_info().expect("info");
    assert_eq!(after.size, before.size, "the forged checkpoint was adopted");
    assert_eq!(after.checkpoint, before.checkpoint);
    let refused = h.admin.create_application("later", "team");
    assert!(
        refused.is_err(),
        "an append went on top of the forged entry"
    );
}
