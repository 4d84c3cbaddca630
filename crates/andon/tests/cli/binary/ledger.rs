//! The ledger as an auditor checks it: `andon verify` names a byte changed in the database,
//! a backup restored elsewhere verifies, and a rotated log key is followed.

use std::process::Command;

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_ledger::NoteVerifier;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

fn one_changed_byte_in_the_database_is_named_by_verify(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (_, issued, key) = pay_pipeline(&server.url, &token, 4);
    let ci = Client::new(&server.url, Some(issued.token));
    let receipts: Vec<_> = (0..12)
        .map(|n| {
            ci.submit_evidence("pay", None, None, &envelope(&key, n))
                .expect("ok")
        })
        .collect();
    assert!(
        verify(&[], &server.url, &token).0,
        "an untouched ledger verifies"
    );
    let victim = &receipts[7];
    let id = victim.id.clone().expect("id");

    // An attacker with database access flips one byte of a stored document. The triggers
    // that protect the rows are dropped first, as such an attacker could.
    tamper(&db, b, "evidence", "document", &id);
    let (ok, report) = verify(&[], &server.url, &token);
    assert!(!ok, "tampering went unnoticed: {report}");
    assert_eq!(report["first_bad_entry"], victim.ledger_index, "{report}");
    assert!(
        report["problem"]
            .as_str()
            .expect("problem")
            .contains("document"),
        "{report}"
    );

    // The same check straight from the database, with no server in the way.
    let out = Command::new(BIN)
        .args(["--output", "json", "verify", "--database", &db.url])
        .output()
        .expect("verify");
    assert!(!out.status.success());
    let direct: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(direct["first_bad_entry"], victim.ledger_index);
    drop(server_guard(server));
}

/// `andon backup` while the server runs, `andon restore` into an empty database, and
/// `andon verify --database` on the result.
fn backup_restore_and_verify_through_the_cli(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    for app in ["pay", "shop"] {
        admin.create_application(app, "team").expect("app");
    }
    let file = db.dir().join("andon.backup");
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().expect("andon");
        assert!(
            out.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The database comes from the server's own setting; a file that was there before is
    // narrowed to its owner (a backup holds token hashes and webhook secrets).
    std::fs::write(&file, "old").expect("write");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let out = Command::new(BIN)
        .args(["backup", "--out", file.to_str().expect("path")])
        .env("ANDON_DATABASE_URL", &db.url)
        .output()
        .expect("andon backup");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.starts_with("backed up "),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup is readable by others");
    }
    // Restoring into a database a server already started on is refused, saying so, and
    // writes nothing.
    let before = admin.ledger_info().expect("info").size;
    let out = Command::new(BIN)
        .args([
            "restore",
            file.to_str().expect("path"),
            "--database",
            &db.url,
        ])
        .output()
        .expect("andon restore");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("not empty")
            && err.contains("nothing was written")
            && !err.contains("corrupt"),
        "{err}"
    );
    assert_eq!(admin.ledger_info().expect("info").size, before);
    let target = TestDb::new(b);
    let said = run(&[
        "restore",
        file.to_str().expect("path"),
        "--database",
        &target.url,
    ]);
    assert!(said.starts_with("restored "), "{said}");
    let (ok, report) = verify(&["--database", &target.url], &server.url, &token);
    assert!(ok, "{report:#}");
    // `--database` alone reads the database the server's setting names.
    let out = Command::new(BIN)
        .args(["--output", "json", "verify", "--database"])
        .env("ANDON_DATABASE_URL", &target.url)
        .output()
        .expect("andon verify");
    let alone: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert!(out.status.success(), "{alone:#}");
    assert_eq!(alone["entries_checked"], report["entries_checked"]);
    assert!(
        alone["tables_compared"].as_u64().is_some_and(|n| n > 0),
        "{alone:#}"
    );
    assert_eq!(
        report["entries_checked"],
        admin.ledger_info().expect("info").size,
        "{report:#}"
    );
    drop(server_guard(server));
}

/// The log key is rotated at a restart: the old key signs the hand-over into the ledger,
/// an auditor pinned to the old key follows it, old decisions still replay, and a start
/// with the wrong previous key (or none) refuses and writes nothing.
fn the_log_key_is_rotated_and_verify_follows_the_hand_over(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    admin.create_application("pay", "payments").expect("app");
    let issued = admin
        .create_identity("ci-pay", "pipeline", &["pay".into()])
        .expect("identity");
    let path = |name: &str| db.dir().join(name).to_str().expect("path").to_owned();
    let (ci_key, new_key, stranger) = (path("ci.key"), path("new.key"), path("stranger.key"));
    for k in [&ci_key, &new_key, &stranger] {
        assert!(
            cli(&server.url, &token, &["keygen", "--out", k])
                .status
                .success()
        );
    }
    assert!(
        cli(
            &server.url,
            &token,
            &["identity", "add-key", "ci-pay", "--key", &ci_key]
        )
        .status
        .success()
    );
    let attest = |url: &str, n: u32| {
        let subject = format!(
            "registry.example.com/pay@{}",
            Sha256Digest::of(&n.to_be_bytes())
        );
        let report = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../andon-evidence/tests/fixtures/junit/cargo-nextest-0.9.143.xml"
        );
        let out = cli(
            url,
            &issued.token,
            &[
                "attest",
                "junit",
                "--app",
                "pay",
                "--subject",
                &subject,
                "--key",
                &ci_key,
                "--file",
                report,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        subject
    };
    let subject = attest(&server.url, 1);
    let gated = cli(
        &server.url,
        &issued.token,
        &[
            "--output",
            "json",
            "gate",
            "--app",
            "pay",
            "--artifact",
            &subject,
            "--env",
            "production",
        ],
    );
    let decision: serde_json::Value = serde_json::from_slice(&gated.stdout).expect("json");
    let decision_id = decision["id"].as_str().expect("decision id").to_owned();
    let old_info = admin.ledger_info().expect("info");
    let saved = path("before-rotation.checkpoint");
    assert!(verify(&["--save-checkpoint", &saved], &server.url, &token).0);
    drop(server_guard(server));

    // Refused starts: a new key without the old one, and a previous key that is not the
    // database's. Neither writes anything.
    let refused = |extra: &[&str]| {
        let out = serve_command(&db.url, &db.dir())
            .args(extra)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run andon serve");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = refused(&["--log-key", &new_key]);
    assert!(
        err.contains("does not match this database") && err.contains("previous log key"),
        "{err}"
    );
    let err = refused(&["--log-key", &new_key, "--previous-log-key", &stranger]);
    assert!(
        err.contains("not the key this database is signed by"),
        "{err}"
    );

    // The rotation.
    let old_key_file = path("log.key");
    let server = start_with(
        &db,
        false,
        &["--log-key", &new_key, "--previous-log-key", &old_key_file],
    );
    let admin = Client::new(&server.url, Some(token.clone()));
    let info = admin.ledger_info().expect("info");
    assert_ne!(info.verifier_key, old_info.verifier_key);
    assert_eq!(
        info.previous_verifier_keys,
        vec![old_info.verifier_key.clone()]
    );
    assert_eq!(
        info.size,
        old_info.size + 1,
        "the refused starts wrote something"
    );
    let entry = &admin.entries(old_info.size, 1).expect("entries").entries[0];
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &entry.entry)
        .expect("base64");
    let rotation: serde_json::Value = serde_json::from_slice(&bytes).expect("entry json");
    assert_eq!(rotation["kind"], "log.key_rotated");
    assert_eq!(rotation["body"]["previous"], old_info.verifier_key);
    assert_eq!(rotation["body"]["next"], info.verifier_key);
    NoteVerifier::parse(&info.verifier_key)
        .expect("new key")
        .verify(&info.checkpoint)
        .expect("new checkpoints are signed with the new key");
    attest(&server.url, 2);

    // An auditor pinned to the old key follows the hand-over; old and new checkpoints and
    // the saved one all verify, from the server and from the database.
    for source in [vec![], vec!["--database", db.url.as_str()]] {
        let mut args = source.clone();
        args.extend(["--log-key", &old_info.verifier_key, "--checkpoint", &saved]);
        let (ok, report) = verify(&args, &server.url, &token);
        assert!(ok, "{report}");
        assert_eq!(
            report["key_rotations"][0]["index"], old_info.size,
            "{report}"
        );
        assert_eq!(
            report["key_rotations"][0]["next"], info.verifier_key,
            "{report}"
        );
        assert_eq!(report["previous_checkpoint"], old_info.size, "{report}");
    }
    assert!(verify(&["--log-key", &info.verifier_key], &server.url, &token).0);
    // A key that never signed this log is handed nothing.
    let stranger_key = {
        let seed =
            andon_domain::SigningKey::from_pem(&std::fs::read_to_string(&stranger).expect("read"))
                .expect("pem")
                .seed();
        andon_ledger::LogSigner::new(old_info.origin.clone(), seed)
            .verifier()
            .to_string()
    };
    let (ok, report) = verify(&["--log-key", &stranger_key], &server.url, &token);
    assert!(!ok, "{report}");
    assert!(
        report["problem"]
            .as_str()
            .expect("problem")
            .contains("never handed"),
        "{report}"
    );

    // A decision signed before the rotation still replays.
    let replayed = cli(&server.url, &token, &["decision", "replay", &decision_id]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    drop(server_guard(server));

    // Later starts with the new key alone rotate nothing again.
    let server = start_with(&db, false, &["--log-key", &new_key]);
    let admin = Client::new(&server.url, Some(token.clone()));
    assert_eq!(admin.ledger_info().expect("info").size, info.size + 1);
    drop(server_guard(server));
}

/// `andon verify --database` on the database of a server that keeps recording evidence
/// while it reads: it checks one moment of the ledger, so the entries and checkpoints
/// committed meanwhile are neither missing nor unsigned, and the tables match what it
/// replays.
fn verify_of_a_database_in_use_checks_one_moment(b: Backend) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (_, issued, key) = pay_pipeline(&server.url, &token, 4);
    let ci = Client::new(&server.url, Some(issued.token));
    // Enough entries that each verification reads for a while.
    for chunk in 0..20u32 {
        let envelopes: Vec<Vec<u8>> = (0..100).map(|n| envelope(&key, chunk * 100 + n)).collect();
        ci.submit_evidence_batch("pay", None, &envelopes)
            .expect("recorded");
    }
    let writing = std::sync::Arc::new(AtomicBool::new(true));
    let writer = {
        let writing = writing.clone();
        std::thread::spawn(move || {
            let mut n = 10_000;
            while writing.load(Ordering::Relaxed) {
                ci.submit_evidence("pay", None, None, &envelope(&key, n))
                    .expect("recorded while verify reads");
                n += 1;
            }
            n - 10_000
        })
    };
    let mut checked = Vec::new();
    for _ in 0..3 {
        let out = Command::new(BIN)
            .args(["--output", "json", "verify", "--database", &db.url])
            .output()
            .expect("verify");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert!(out.status.success(), "{report:#}");
        assert_eq!(report["problem_count"], 0, "{report:#}");
        checked.push(report["entries_checked"].as_u64().expect("entries"));
    }
    writing.store(false, Ordering::Relaxed);
    let written = writer.join().expect("writer");
    // The server recorded while each verification read: each saw more entries than the one
    // before.
    assert!(written > 0, "nothing was recorded meanwhile");
    assert!(
        checked.windows(2).all(|w| w[1] > w[0]),
        "{checked:?} entries checked, {written} recorded meanwhile"
    );
    drop(server_guard(server));
}

both_backends!(
    backup_restore_and_verify_through_the_cli,
    verify_of_a_database_in_use_checks_one_moment,
    the_log_key_is_rotated_and_verify_follows_the_hand_over,
    one_changed_byte_in_the_database_is_named_by_verify,
);
