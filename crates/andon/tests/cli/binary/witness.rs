//! An auditor who trusts witnesses, not the operator: `andon serve --witness-url
//! --witness-key` keeps the cosignatures of an external witness (the tests' Node witness,
//! `crates/andon-server/tests/fixtures/witness/witness.mjs`, written from the C2SP
//! specifications), and `andon verify --witness-key K --min-witnesses N` requires the log,
//! from the server and from its database, to extend a checkpoint N of them cosigned.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

struct Witness {
    prefix: String,
    key: String,
    child: Child,
}

impl Witness {
    fn start(name: &str) -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../andon-server/tests/fixtures/witness/witness.mjs"
        );
        let mut child = Command::new("node")
            .args([script, name])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the witness (.ci/browser.sh installs Node)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first: serde_json::Value =
            serde_json::from_str(&lines.next().expect("a first line").expect("read"))
                .expect("json");
        // Keep draining what it prints.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Self {
            prefix: first["prefix"].as_str().expect("prefix").to_owned(),
            key: first["key"].as_str().expect("key").to_owned(),
            child,
        }
    }

    /// Tells the witness which log it follows.
    fn trust(&self, log_key: &str) {
        let base = self.prefix.trim_end_matches("/witness");
        let resp = ureq::post(&format!("{base}/trust")).send(log_key);
        assert!(
            matches!(&resp, Ok(r) if r.status().as_u16() == 204),
            "trusting {log_key}: {resp:?}"
        );
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn checks(report: &serde_json::Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["check"].as_str().expect("check").to_owned())
        .collect()
}

fn verify_requires_the_witnesses_cosignatures_from_the_server_and_the_database(b: Backend) {
    let (w1, w2) = (
        Witness::start("witness.test/w1"),
        Witness::start("witness.test/w2"),
    );
    let db = TestDb::new(b);
    let server = start_with(
        &db,
        true,
        &[
            "--witness-url",
            &w1.prefix,
            "--witness-key",
            &w1.key,
            "--witness-interval",
            "1s",
        ],
    );
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    w1.trust(&admin.ledger_info().expect("info").verifier_key);
    for app in ["pay", "shop", "ledger"] {
        admin.create_application(app, "team").expect("app");
    }
    let size = admin.ledger_info().expect("info").size;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !admin
        .cosigned_checkpoint()
        .expect("cosigned")
        .is_some_and(|n| n.contains(&format!("\n{size}\n")))
    {
        assert!(
            Instant::now() < deadline,
            "the witness never cosigned {size}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let none = "http://127.0.0.1:1";
    // From the server and from the database: the log extends what w1 cosigned.
    for (args, url) in [
        (vec!["--witness-key", w1.key.as_str()], server.url.as_str()),
        (
            vec![
                "--database",
                db.url.as_str(),
                "--witness-key",
                w1.key.as_str(),
            ],
            none,
        ),
    ] {
        let (ok, report) = verify(&args, url, &token);
        assert!(ok, "{report}");
        assert_eq!(report["witnessed"]["size"], size, "{report}");
        assert_eq!(
            report["witnessed"]["cosigned_by"][0][0], "witness.test/w1",
            "{report}"
        );
    }
    // Two required, one cosigned; a witness that never saw the log.
    let (ok, report) = verify(
        &[
            "--witness-key",
            &w1.key,
            "--witness-key",
            &w2.key,
            "--min-witnesses",
            "2",
        ],
        &server.url,
        &token,
    );
    assert!(!ok, "{report}");
    assert_eq!(checks(&report), ["witness"], "{report}");
    assert!(
        report["problem"]
            .as_str()
            .is_some_and(|p| p.contains("by 1 of the 2 witnesses required (witness.test/w1)")),
        "{report}"
    );
    let (ok, report) = verify(&["--witness-key", &w2.key], &server.url, &token);
    assert!(!ok && checks(&report) == ["witness"], "{report}");
    // A key that is not a witness key is refused before anything is checked.
    let out = cli(
        &server.url,
        &token,
        &[
            "verify",
            "--witness-key",
            &admin.ledger_info().expect("info").verifier_key,
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an Ed25519 cosignature key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server_guard(server));

    // A hostile administrator forges the kept cosignature, then removes it: neither passes.
    let db_args = [
        "--database",
        db.url.as_str(),
        "--witness-key",
        w1.key.as_str(),
    ];
    let forged = {
        let rows = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt")
            .block_on(async {
                let store = andon_store::Store::connect(&db.url).await?;
                store.cosignatures(size).await
            })
            .expect("kept");
        let line = &rows[0].line;
        // Another signature under the same key ID and time: the last base64 characters.
        let flipped = if line.ends_with("A=") { "B=" } else { "A=" };
        format!("{}{flipped}", &line[..line.len() - 2])
    };
    tamper_sql(
        &db,
        &format!("UPDATE cosignatures SET line = '{forged}' WHERE size = {size}"),
    );
    let (ok, report) = verify(&db_args, none, "unused");
    assert!(!ok && checks(&report) == ["witness"], "{report}");
    assert!(report.to_string().contains("does not verify"), "{report}");
    tamper_sql(&db, "DELETE FROM cosignatures");
    let (ok, report) = verify(&db_args, none, "unused");
    assert!(!ok && checks(&report) == ["witness"], "{report}");
    assert!(
        report.to_string().contains("no witness has cosigned"),
        "{report}"
    );
}

/// Runs one statement on the database as its administrator could.
fn tamper_sql(db: &TestDb, statement: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
        .block_on(async {
            let store = andon_store::Store::connect(&db.url).await.expect("store");
            store
                .raw_execute_for_tests(statement)
                .await
                .expect(statement);
        });
}

both_backends!(verify_requires_the_witnesses_cosignatures_from_the_server_and_the_database);
