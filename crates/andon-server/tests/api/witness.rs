//! The log's checkpoints reach external witnesses by C2SP tlog-witness, and their C2SP
//! tlog-cosignatures are kept and served, on both backends. The witnesses are
//! `tests/fixtures/witness/witness.mjs`: written from the specifications in JavaScript with
//! Node's built-in (OpenSSL) Ed25519, sharing no code with Andon.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common;
use andon_ledger::{LogSigner, WitnessVerifier};
use andon_testkit::{Backend, TestDb, both_backends};
use serde_json::Value;

const ORIGIN: &str = "andon.test/witnessed";

/// A witness process for the test log (origin [`ORIGIN`], the tests' log seed).
struct Witness {
    prefix: String,
    key: String,
    /// One JSON line per request it answered: old, proof length, size, status.
    seen: Arc<Mutex<Vec<Value>>>,
    child: Child,
}

impl Witness {
    fn start(name: &str) -> Self {
        let log_key = LogSigner::new(ORIGIN, [1; 32]).verifier().to_string();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/witness/witness.mjs"
        );
        let mut child = Command::new("node")
            .args([script, name, &log_key])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the witness (.ci/browser.sh installs Node)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first: Value =
            serde_json::from_str(&lines.next().expect("a first line").expect("read"))
                .expect("json");
        let seen: Arc<Mutex<Vec<Value>>> = Default::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    log.lock().expect("lock").push(v);
                }
            }
        });
        Self {
            prefix: first["prefix"].as_str().expect("prefix").to_owned(),
            key: first["key"].as_str().expect("key").to_owned(),
            seen,
            child,
        }
    }

    fn config(&self) -> andon_server::Witness {
        andon_server::Witness {
            url: self.prefix.clone(),
            key: WitnessVerifier::parse(&self.key).expect("the witness's key parses"),
        }
    }

    fn seen(&self) -> Vec<Value> {
        self.seen.lock().expect("lock").clone()
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: TestDb, witnesses: &[&Witness]) -> common::Harness {
    let configs: Vec<_> = witnesses.iter().map(|w| w.config()).collect();
    common::Harness::start_on(db, |c| {
        c.origin = ORIGIN.into();
        c.witnesses = configs;
        c.witness_interval = Duration::from_millis(100);
    })
}

fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The server's newest cosigned checkpoint once it is of `size` and carries `n` cosignatures.
fn cosigned_at(h: &common::Harness, size: u64, keys: &[WitnessVerifier]) -> String {
    until(
        &format!("{} cosignatures of size {size}", keys.len()),
        || {
            let note = h.admin.cosigned_checkpoint().expect("cosigned")?;
            let found = andon_ledger::cosignatures(&note, keys).expect("every line verifies");
            (note.contains(&format!("\n{size}\n")) && found.len() == keys.len()).then_some(note)
        },
    )
}

fn witnesses_cosign_each_checkpoint_consistent_with_the_last_and_the_log_serves_them(b: Backend) {
    let (w1, w2) = (
        Witness::start("witness.test/w1"),
        Witness::start("witness.test/w2"),
    );
    let keys = [w1.config().key, w2.config().key];
    let h = start(TestDb::new(b), &[&w1, &w2]);
    let first = h.admin.ledger_info().expect("info").size;
    cosigned_at(&h, first, &keys);
    h.admin.create_application("pay", "team").expect("app");
    for app in ["shop", "ledger", "reports"] {
        h.admin.create_application(app, "team").expect("app");
    }
    let size = h.admin.ledger_info().expect("info").size;
    let note = cosigned_at(&h, size, &keys);
    // The log's own signature still verifies on the note with the cosignatures.
    let log = LogSigner::new(ORIGIN, [1; 32]).verifier();
    assert_eq!(log.verify(&note).expect("log signature").size, size);
    // The latest checkpoint, once cosigned, is served with its cosignatures.
    let latest = h.admin.checkpoint_note().expect("checkpoint");
    assert_eq!(
        andon_ledger::cosignatures(&latest, &keys)
            .expect("verify")
            .len(),
        2,
        "{latest}"
    );
    // Every accepted submission after a witness's first proved consistency from the size
    // it had cosigned before.
    for w in [&w1, &w2] {
        let seen = w.seen();
        let accepted: Vec<_> = seen.iter().filter(|s| s["status"] == 200).collect();
        assert!(accepted.len() >= 2, "{seen:?}");
        assert_eq!(accepted[0]["old"], 0, "{seen:?}");
        for pair in accepted.windows(2) {
            assert_eq!(pair[1]["old"], pair[0]["size"], "{seen:?}");
            assert!(pair[1]["proof"].as_u64() > Some(0), "{seen:?}");
        }
        assert!(
            seen.iter().all(|s| s["status"] == 200),
            "nothing refused: {seen:?}"
        );
    }
    // The cosignatures are kept in the database: a restart serves them without asking.
    let kept =
        h.rt.block_on(async {
            let store = andon_store::Store::connect(&h.db.url).await?;
            store.cosignatures(size).await
        })
        .expect("stored");
    let names: Vec<_> = kept.iter().map(|c| c.witness.as_str()).collect();
    assert_eq!(names, ["witness.test/w1", "witness.test/w2"]);
}

fn refusals(h: &common::Harness) -> Vec<andon_domain::change::Alert> {
    h.admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "witness_refused")
        .collect()
}

fn a_witness_that_saw_another_history_raises_one_alert(b: Backend) {
    let w = Witness::start("witness.test/w1");
    let key = [w.config().key];
    // The witness follows log A (same key and origin as the others below).
    let a = start(TestDb::new(b), &[&w]);
    let base = a.admin.ledger_info().expect("info").size;
    cosigned_at(&a, base, &key);

    // B holds another history of the same size under the same key: the witness refuses it
    // as inconsistent with what it cosigned (422), once raised however often it retries.
    let other = start(TestDb::new(b), &[&w]);
    assert_eq!(other.admin.ledger_info().expect("info").size, base);
    let alert = until(
        &format!(
            "a witness_refused alert on B, the witness saw {:?}",
            w.seen()
        ),
        || refusals(&other).pop(),
    );
    assert_eq!(alert.severity, "high");
    assert_eq!(alert.subject, "witness:witness.test/w1");
    assert!(alert.message.contains("inconsistent"), "{}", alert.message);
    assert!(
        w.seen().iter().any(|s| s["status"] == 422),
        "{:?}",
        w.seen()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(refusals(&other).len(), 1, "raised once");
    // B's history is not cosigned: it has nothing to serve as witnessed.
    assert_eq!(other.admin.cosigned_checkpoint().expect("cosigned"), None);

    // A grows and is cosigned further; C holds fewer entries than the witness has seen, as
    // a server restored from an older backup would: the log was rolled back.
    a.admin.create_application("pay", "team").expect("app");
    let grown = a.admin.ledger_info().expect("info").size;
    cosigned_at(&a, grown, &key);
    let c = start(TestDb::new(b), &[&w]);
    let alert = until("a witness_refused alert on C", || refusals(&c).pop());
    assert!(alert.message.contains("rolled back"), "{}", alert.message);
    assert!(refusals(&a).is_empty(), "A's own history was never refused");
}

/// A backup restored after the witness cosigned past it: the start asks the witness, which
/// names the larger size it cosigned; the start is refused and writes nothing, until an
/// operator acknowledges the loss.
fn a_restore_behind_what_the_witness_cosigned_is_refused(b: Backend) {
    let w = Witness::start("witness.test/w1");
    let key = [w.config().key];
    let a = start(TestDb::new(b), &[&w]);
    a.admin.create_application("pay", "team").expect("app");
    let mut backup = Vec::new();
    a.rt.block_on(async {
        andon_store::Store::connect(&a.db.url)
            .await
            .expect("store")
            .backup(&mut backup)
            .await
            .expect("backup")
    });
    let backed_up = a.admin.ledger_info().expect("info").size;
    a.admin.create_application("shop", "team").expect("app");
    let grown = a.admin.ledger_info().expect("info").size;
    cosigned_at(&a, grown, &key);
    let token = a.admin.token().map(str::to_owned);
    drop(a);

    let db = TestDb::new(b);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let store = rt.block_on(async {
        let store = andon_store::Store::connect(&db.url).await.expect("store");
        store.restore(&backup[..]).await.expect("restore");
        store
    });
    let mut config = common::config_for(&db);
    config.origin = ORIGIN.into();
    config.witnesses = vec![w.config()];
    let err = match rt.block_on(andon_server::App::open(config)) {
        Ok(_) => panic!("a restore behind its witness started"),
        Err(e) => e,
    };
    assert!(
        err.contains(&format!(
            "witness witness.test/w1 holds a signed checkpoint of {grown} entries, more than the {backed_up}"
        )),
        "{err}"
    );
    let count = rt.block_on(store.counts()).expect("counts").ledger_entries;
    assert_eq!(count, backed_up, "a refused start wrote");
    let h = common::Harness::start_on_with_token(
        db,
        |c| {
            c.origin = ORIGIN.into();
            c.witnesses = vec![w.config()];
            c.acknowledge_loss = Some("rebuilt from last night's backup".into());
        },
        token,
    );
    let lost: Vec<_> = h
        .admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "ledger_history_lost")
        .collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(
        lost[0].message.contains("witness witness.test/w1"),
        "{}",
        lost[0].message
    );
}

both_backends!(
    witnesses_cosign_each_checkpoint_consistent_with_the_last_and_the_log_serves_them,
    a_witness_that_saw_another_history_raises_one_alert,
    a_restore_behind_what_the_witness_cosigned_is_refused,
);
