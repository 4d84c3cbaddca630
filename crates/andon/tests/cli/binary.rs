//! The binary as operators, pipelines and auditors run it, on both backends: a server killed with
//! SIGKILL mid-stream loses nothing it acknowledged, and `andon verify` catches a byte
//! changed directly in the database and names the entry.

use std::process::Command;

use andon_client::Client;
use andon_domain::{Sha256Digest, SigningKey, Statement};
use andon_ledger::NoteVerifier;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::common::*;

fn envelope(key: &SigningKey, n: u32) -> Vec<u8> {
    let st = Statement::new(
        vec![("svc".into(), Sha256Digest::of(&n.to_be_bytes()))],
        "https://example.com/build/v1".into(),
        serde_json::json!({ "build": n }),
    );
    st.sign(key)
}

fn verify(args: &[&str], url: &str, token: &str) -> (bool, serde_json::Value) {
    let out = Command::new(BIN)
        .args([
            "--server", url, "--token", token, "--output", "json", "verify",
        ])
        .args(args)
        .output()
        .expect("run andon verify");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify printed no JSON ({e}): {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

fn acknowledged_submissions_survive_sigkill_and_the_ledger_verifies(b: Backend) {
    let db = TestDb::new(b);
    let mut server = start(&db, true);
    let token = server.token.clone().expect("admin token on first start");
    let (_, issued, key) = pay_pipeline(&server.url, &token, 3);
    let saved = db.dir().join("before.checkpoint");
    assert!(
        verify(
            &["--save-checkpoint", saved.to_str().expect("path")],
            &server.url,
            &token
        )
        .0
    );

    // Stream submissions from four clients; kill the server while they are in flight.
    let acked = std::sync::Mutex::new(Vec::new());
    let url = server.url.clone();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let (acked, url, tok, key) = (&acked, url.clone(), issued.token.clone(), &key);
            s.spawn(move || {
                let ci = Client::new(&url, Some(tok));
                for n in 0..10_000u32 {
                    match ci.submit_evidence("pay", None, None, &envelope(key, t * 100_000 + n)) {
                        Ok(r) => acked.lock().expect("lock").push(r),
                        Err(_) => break,
                    }
                }
            });
        }
        // Kill once a fair number are acknowledged (however loaded the machine), while the
        // clients are still sending.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while acked.lock().expect("lock").len() < 60 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        server.child.kill().expect("SIGKILL");
        server.child.wait().expect("reaped");
    });
    let acked = acked.into_inner().expect("lock");
    assert!(
        acked.len() > 20,
        "only {} submissions were acknowledged before the kill",
        acked.len()
    );

    let server = start(&db, false);
    let admin = Client::new(&server.url, Some(token.clone()));
    let info = admin.ledger_info().expect("info");
    let verifier = NoteVerifier::parse(&info.verifier_key).expect("key");
    let cp = verifier.verify(&info.checkpoint).expect("checkpoint");
    for r in &acked {
        assert!(
            r.ledger_index < cp.size,
            "acknowledged entry {} lost",
            r.ledger_index
        );
        let p = admin
            .inclusion_proof(r.ledger_index, Some(cp.size))
            .expect("proof");
        assert_eq!(p.leaf_hash, r.leaf_hash, "entry {} changed", r.ledger_index);
        andon_client::check_inclusion(&p, &cp).expect("the proof verifies");
    }
    let (ok, report) = verify(
        &[
            "--checkpoint",
            saved.to_str().expect("path"),
            "--log-key",
            &info.verifier_key,
        ],
        &server.url,
        &token,
    );
    assert!(ok, "verify failed after the crash: {report}");
    assert_eq!(report["size"], cp.size);
    drop(server_guard(server));
}

/// Three servers on one PostgreSQL keep one ledger: loaded at once, one of them killed with
/// SIGKILL while its clients are sending. No two acknowledged entries share an index, every
/// acknowledged entry is where its receipt said, every receipt's checkpoint (whichever
/// server signed it) is a prefix of the final log, and `andon verify` passes against each
/// survivor and the database.
/// An acknowledged submission: which server answered, and its receipt.
type Acked = (usize, andon_domain::api::Receipt);

#[test]
fn several_servers_share_one_ledger_and_survive_a_sigkill() {
    let db = TestDb::new(Backend::Postgres);
    let first = start(&db, true);
    let token = first.token.clone().expect("admin token on first start");
    let (_, issued, key) = pay_pipeline(&first.url, &token, 5);
    let mut servers = vec![first, start(&db, false), start(&db, false)];
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();

    let acked = std::sync::Mutex::new(Vec::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let per_server = |acked: &[Acked], i: usize| acked.iter().filter(|(s, _)| *s == i).count();
    std::thread::scope(|s| {
        for t in 0..6u32 {
            let server = t as usize % 3;
            let (acked, stop, url, tok, key) = (
                &acked,
                &stop,
                urls[server].clone(),
                issued.token.clone(),
                &key,
            );
            s.spawn(move || {
                let ci = Client::new(&url, Some(tok));
                for n in 0..100_000u32 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    match ci.submit_evidence("pay", None, None, &envelope(key, t * 1_000_000 + n)) {
                        Ok(r) => acked.lock().expect("lock").push((server, r)),
                        Err(_) if server == 0 => break,
                        Err(e) => panic!("a surviving server refused: {e}"),
                    }
                }
            });
        }
        let wait_for = |enough: &dyn Fn(&[Acked]) -> bool| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while !enough(&acked.lock().expect("lock")) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        };
        // Every server has appended a fair share before one of them dies mid-stream.
        wait_for(&|a| (0..3).all(|i| per_server(a, i) >= 30));
        servers[0].child.kill().expect("SIGKILL");
        servers[0].child.wait().expect("reaped");
        let at_kill = acked.lock().expect("lock").len();
        // The others go on.
        wait_for(&|a| a.len() >= at_kill + 100);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let acked = acked.into_inner().expect("lock");
    for i in 0..3 {
        assert!(
            per_server(&acked, i) >= 30,
            "server {i} appended too little"
        );
    }
    let mut indexes: Vec<u64> = acked.iter().map(|(_, r)| r.ledger_index).collect();
    indexes.sort_unstable();
    let before = indexes.len();
    indexes.dedup();
    assert_eq!(
        indexes.len(),
        before,
        "two acknowledged entries share an index: a fork"
    );

    // The survivors take in each other's entries within a refresh interval.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let survivors: Vec<Client> = urls[1..]
        .iter()
        .map(|u| Client::new(u, Some(token.clone())))
        .collect();
    let info = survivors[0].ledger_info().expect("info");
    let verifier = NoteVerifier::parse(&info.verifier_key).expect("key");
    let cp = verifier.verify(&info.checkpoint).expect("checkpoint");
    let other = verifier
        .verify(&survivors[1].ledger_info().expect("info").checkpoint)
        .expect("the other survivor's checkpoint");
    assert_eq!(
        (other.size, other.root),
        (cp.size, cp.root),
        "the survivors disagree about the log"
    );
    for (_, r) in &acked {
        let p = survivors[0]
            .inclusion_proof(r.ledger_index, Some(cp.size))
            .expect("proof");
        assert_eq!(p.leaf_hash, r.leaf_hash, "entry {} changed", r.ledger_index);
        andon_client::check_inclusion(&p, &cp).expect("the proof verifies");
    }
    // Every checkpoint a client was given, by any server, is a prefix of the final log.
    let mut seen = std::collections::BTreeMap::new();
    for (_, r) in &acked {
        let c = verifier
            .verify(&r.checkpoint)
            .expect("a receipt's checkpoint");
        seen.insert(c.size, c.root);
    }
    for (size, root) in seen {
        if size == cp.size {
            assert_eq!(root, cp.root);
            continue;
        }
        let p = survivors[1]
            .consistency_proof(size, Some(cp.size))
            .expect("consistency proof");
        let hashes: Vec<andon_ledger::Hash> = p
            .proof
            .iter()
            .map(|h| hex::decode(h).expect("hex").try_into().expect("32 bytes"))
            .collect();
        andon_ledger::verify_consistency(size, cp.size, &hashes, &root, &cp.root)
            .unwrap_or_else(|e| panic!("the checkpoint of size {size} is not a prefix: {e}"));
    }
    for url in &urls[1..] {
        let (ok, report) = verify(&["--log-key", &info.verifier_key], url, &token);
        assert!(ok, "verify failed against {url}: {report}");
    }
    let (ok, report) = verify(&["--database", &db.url], &urls[1], &token);
    assert!(ok, "verify failed on the database: {report}");
    for s in servers.drain(1..) {
        drop(server_guard(s));
    }
}

/// PostgreSQL restarted under load: requests during the outage get a clear 503 with
/// `Retry-After`, never a 500 and never a hang; readiness says so; the server reconnects by
/// itself; nothing acknowledged is lost and the ledger verifies.
#[test]
fn a_postgresql_restart_under_load_loses_nothing_acknowledged() {
    let pg = andon_testkit::PrivatePostgres::start();
    let dir = tempfile_dir();
    let server = start_at(&pg.url, dir.path(), true, &[]);
    let token = server.token.clone().expect("admin token on first start");
    let (admin, issued, key) = pay_pipeline(&server.url, &token, 6);

    let acked = std::sync::Mutex::new(Vec::new());
    let refused = std::sync::Mutex::new(Vec::new());
    let slowest = std::sync::Mutex::new(std::time::Duration::ZERO);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let ready_during_outage = std::thread::scope(|s| {
        for t in 0..3u32 {
            let (acked, refused, slowest, stop, url, tok, key) = (
                &acked,
                &refused,
                &slowest,
                &stop,
                server.url.clone(),
                issued.token.clone(),
                &key,
            );
            s.spawn(move || {
                let ci = Client::new(&url, Some(tok));
                for n in 0..1_000_000u32 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let began = std::time::Instant::now();
                    let r =
                        ci.submit_evidence("pay", None, None, &envelope(key, t * 1_000_000 + n));
                    let took = began.elapsed();
                    {
                        let mut m = slowest.lock().expect("lock");
                        *m = (*m).max(took);
                    }
                    match r {
                        Ok(r) => acked.lock().expect("lock").push(r),
                        Err(e) => {
                            refused.lock().expect("lock").push(e.to_string());
                            std::thread::sleep(std::time::Duration::from_millis(100));
                        }
                    }
                }
            });
        }
        let wait_for = |n: usize| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while acked.lock().expect("lock").len() < n && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        };
        wait_for(50);
        pg.down("fast");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let ready = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("{}/readyz", server.url))
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let during = acked.lock().expect("lock").len();
        pg.up();
        wait_for(during + 50);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        ready
    });
    let (acked, refused) = (
        acked.into_inner().expect("lock"),
        refused.into_inner().expect("lock"),
    );
    assert!(
        !refused.is_empty(),
        "the outage refused nothing: did it happen?"
    );
    for r in &refused {
        assert!(
            r.contains("503") && r.contains("unavailable"),
            "a request during the outage got something else than 503: {r}"
        );
    }
    assert_eq!(ready_during_outage, "503", "readiness during the outage");
    let slowest = slowest.into_inner().expect("lock");
    eprintln!(
        "restart: {} acknowledged, {} refused with 503, slowest request {slowest:?}",
        acked.len(),
        refused.len()
    );
    assert!(
        slowest < std::time::Duration::from_secs(8),
        "a request hung for {slowest:?}"
    );
    let info = admin.ledger_info().expect("info");
    let verifier = NoteVerifier::parse(&info.verifier_key).expect("key");
    let cp = verifier.verify(&info.checkpoint).expect("checkpoint");
    assert!(acked.len() >= 100, "{} acknowledged", acked.len());
    for r in &acked {
        let p = admin
            .inclusion_proof(r.ledger_index, Some(cp.size))
            .expect("proof");
        assert_eq!(p.leaf_hash, r.leaf_hash, "entry {} changed", r.ledger_index);
        andon_client::check_inclusion(&p, &cp).expect("the proof verifies");
    }
    let (ok, report) = verify(&["--log-key", &info.verifier_key], &server.url, &token);
    assert!(ok, "verify failed after the restart: {report}");
    drop(server_guard(server));
}

/// A small tmpfs mounted over a directory for a test (a disk that can fill up, or be made
/// read-only); unmounted when dropped. Mounting needs root, as CI runs.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> Self {
        std::fs::create_dir_all(dir).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "mounting a tmpfs (this test needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(dir.to_owned())
    }

    fn remount(&self, mode: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.0)
            .output()
            .expect("remount");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Fills the disk with a file until `free` bytes or fewer are left.
    fn fill(&self, free: u64) {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.0)
            .output()
            .expect("df");
        let avail: u64 = String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .expect("available bytes");
        let size = avail.saturating_sub(free) as usize;
        std::fs::write(self.0.join("filler"), vec![0u8; size]).expect("filler");
    }

    fn empty(&self) {
        std::fs::remove_file(self.0.join("filler")).expect("remove filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

/// SQLite on a disk that fills up: writes are refused with a clear error (507
/// `storage_full`), never a 500; nothing acknowledged is lost; once there is room again
/// writes resume. A start on a full or read-only disk stops at once with the directory and
/// the reason. (A disk cannot turn read-only under a running server: the kernel refuses to
/// remount it while the database is open for writing.)
#[test]
fn sqlite_on_a_full_or_read_only_disk_says_so() {
    let root = tempfile_dir();
    let data = root.path().join("data");
    let disk = SmallDisk::mount(&data, "16m");
    let url = format!("sqlite://{}", data.join("andon.db").display());
    let server = start_at(&url, &data, true, &[]);
    let token = server.token.clone().expect("admin token on first start");
    let (admin, issued, key) = pay_pipeline(&server.url, &token, 7);
    let ci = Client::new(&server.url, Some(issued.token.clone()));
    // Evidence with a 256 KiB predicate, unique per n.
    let big = |n: u32| {
        Statement::new(
            vec![("svc".into(), Sha256Digest::of(&n.to_be_bytes()))],
            "https://example.com/build/v1".into(),
            serde_json::json!({ "build": n, "log": "x".repeat(256 * 1024) }),
        )
        .sign(&key)
    };
    let mut acked = Vec::new();
    for n in 0..4 {
        acked.push(
            ci.submit_evidence("pay", None, None, &big(n))
                .expect("room enough"),
        );
    }

    disk.fill(512 * 1024);
    let mut refusal = None;
    for n in 4..64 {
        match ci.submit_evidence("pay", None, None, &big(n)) {
            Ok(r) => acked.push(r),
            Err(e) => {
                refusal = Some(e.to_string());
                break;
            }
        }
    }
    let refusal = refusal.expect("a full disk refused nothing");
    assert!(
        refusal.contains("507") && refusal.contains("storage_full"),
        "{refusal}"
    );
    disk.empty();
    acked.push(
        ci.submit_evidence("pay", None, None, &big(100))
            .expect("room again"),
    );

    let info = admin.ledger_info().expect("info");
    let cp = NoteVerifier::parse(&info.verifier_key)
        .expect("key")
        .verify(&info.checkpoint)
        .expect("checkpoint");
    for r in &acked {
        let p = admin
            .inclusion_proof(r.ledger_index, Some(cp.size))
            .expect("proof");
        assert_eq!(p.leaf_hash, r.leaf_hash, "entry {} lost", r.ledger_index);
    }
    assert!(verify(&[], &server.url, &token).0);
    drop(server_guard(server));

    // Starts: read-only, then full. Each stops at once and says where and why.
    let start_fails = || {
        let out = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                &url,
                "--data-dir",
            ])
            .arg(&data)
            .output()
            .expect("andon serve");
        assert!(!out.status.success(), "it started");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    disk.remount("ro");
    let err = start_fails();
    assert!(
        err.contains("cannot be written") && err.contains("Read-only file system"),
        "{err}"
    );
    disk.remount("rw");
    disk.fill(64 * 1024);
    let err = start_fails();
    assert!(
        err.contains("cannot be written") && err.contains("No space left on device"),
        "{err}"
    );
}

fn tempfile_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// The application `pay` and its pipeline identity `ci-pay` with a key made from `seed`:
/// the admin's client, the pipeline's issued token, and its key.
fn pay_pipeline(
    url: &str,
    token: &str,
    seed: u8,
) -> (Client, andon_domain::api::IssuedToken, SigningKey) {
    let admin = Client::new(url, Some(token.to_owned()));
    admin.create_application("pay", "payments").expect("app");
    let issued = admin
        .create_identity("ci-pay", "pipeline", &["pay".into()])
        .expect("identity");
    let key = SigningKey::from_seed([seed; 32]);
    admin
        .register_key("ci-pay", &key.verifying_key().to_base64())
        .expect("key");
    (admin, issued, key)
}

/// What an attacker with database access does: drops the trigger that protects `table`'s
/// rows and flips one byte of `column` in the row `id`.
fn tamper(db: &TestDb, b: Backend, table: &str, column: &str, id: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let store = andon_store::Store::connect(&db.url).await.expect("store");
        let (drop_trigger, flip) = match b {
            Backend::Sqlite => (
                format!("DROP TRIGGER {table}_no_update"),
                format!("UPDATE {table} SET {column} = CAST(replace(CAST({column} AS TEXT), 'payload', 'pAyload') AS BLOB) WHERE id = '{id}'"),
            ),
            Backend::Postgres => (
                format!("DROP TRIGGER {table}_immutable ON {table}"),
                format!("UPDATE {table} SET {column} = set_byte({column}, 3, get_byte({column}, 3) # 1) WHERE id = '{id}'"),
            ),
        };
        store.raw_execute_for_tests(&drop_trigger).await.expect("drop trigger");
        assert_eq!(store.raw_execute_for_tests(&flip).await.expect("tamper"), 1);
    });
}

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

fn the_demo_runs_against_a_live_server(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let out = Command::new(BIN)
        .args([
            "--server",
            &server.url,
            "--token",
            &token,
            "demo",
            "--builds",
            "4",
            "--history-days",
            "42",
        ])
        .env("ANDON_GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sent 16 attestations"), "{text}");
    // The audit package of the demo's application verifies offline.
    assert!(
        text.contains("$ andon export package --app payments-")
            && text.contains("against a checkpoint of size")
            && text.contains("documents, controls.csv and report.html match"),
        "{text}"
    );
    // The matrix as OSCAL, and the auditor's way into the web interface.
    assert!(
        text.contains("OSCAL 1.2.3 assessment results: ") && text.contains("held every time"),
        "{text}"
    );
    assert!(
        text.contains(&format!("The web interface: {}/ui/", server.url))
            && text.contains("Sign in as the auditor auditor-"),
        "{text}"
    );
    let payments = text
        .split("andon export package --app ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the demo's payments application")
        .to_owned();
    let cd = cli(
        &server.url,
        &token,
        &[
            "export",
            "controls",
            "--app",
            &payments,
            "--format",
            "oscal-component-definition",
        ],
    );
    assert!(
        cd.status.success(),
        "{}",
        String::from_utf8_lossy(&cd.stderr)
    );
    let cd: serde_json::Value = serde_json::from_slice(&cd.stdout).expect("json");
    assert_eq!(
        cd["component-definition"]["metadata"]["oscal-version"],
        "1.2.3"
    );
    let csv = cli(
        &server.url,
        &token,
        &["export", "controls", "--app", &payments],
    );
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with("decisions,error,evidence,fail,"), "{csv}");
    // The replayed pull-request history: one change per application approved only by its
    // author, traced from its artifact back to the review.
    assert!(
        text.contains("GitHub webhooks replayed: 8 pull requests; 6 independently approved on the merged head, 0 with commits pushed after the approval, 2 merged without an independent review"),
        "{text}"
    );
    assert!(text.contains("✗ approved only by its author"), "{text}");
    assert!(text.contains("PAY-43 (branch"), "{text}");
    // Gates: the self-approved release is denied with what to do; the vulnerable one is
    // allowed once a second person approves a waiver; a decision replays.
    assert!(text.contains("peer-review               FAIL"), "{text}");
    assert!(text.contains("what to do:"), "{text}");
    assert!(text.contains("(waived: CVE-2018-7489)"), "{text}");
    assert!(text.contains("same verdict on every control"), "{text}");
    // Change management: one change of each class, a DBA's approval, an overdue review, a
    // bypass; the RFC lists exactly what was pushed between the two production deployments
    // (build 1 deployed as a standard change, the normal change built from build 2).
    for wanted in [
        "standard  CHG-",
        "awaits approval: 0 of 1 (from dba)",
        "(dba), gate asked again: ALLOW",
        "emergency CHG-",
        "emergency_review_overdue",
        "gate_bypass",
        "marked failed (INC-309), then restored",
    ] {
        assert!(text.contains(wanted), "{wanted} missing:\n{text}");
    }
    let rfc = text
        .split("$ andon change show")
        .nth(1)
        .and_then(|r| r.split("emergency CHG-").next())
        .expect("the RFC in the demo output");
    let commits: Vec<&str> = rfc
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("- `"))
        .collect();
    assert_eq!(commits.len(), 2, "{rfc}");
    assert!(commits[0].contains("PAY-42 first cut"), "{rfc}");
    assert!(commits[1].contains("Merge pull request #102"), "{rfc}");
    assert!(rfc.contains("- Tickets: #102, PAY-42\n"), "{rfc}");
    assert!(!rfc.contains("PAY-41") && !rfc.contains("PAY-43"), "{rfc}");
    // Six weeks of history for three teams whose delivery differs, and their bands.
    let row = |team: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(team))
            .unwrap_or_else(|| panic!("no metrics row for {team}:\n{text}"))
            .to_owned()
    };
    let checkout = row("team-checkout ");
    assert!(
        checkout.contains("/week elite") && checkout.contains(" h elite"),
        "{checkout}"
    );
    assert!(row("team-finance ").contains("/week high"), "{text}");
    let data = row("team-data ");
    assert!(
        !data.contains("/week elite") && !data.contains("/week high"),
        "{data}"
    );
    // Telemetry: each rule's alert, and the suspect deployment.
    for wanted in [
        "ALERT high login_failures",
        "ALERT high unplanned_config_change: security_group.change by mallory",
        "ALERT medium unscheduled_maintenance",
        "ALERT high error_spike",
        "is now marked suspect",
        // Production access: self-approval refused, the unknown digest alerted with the
        // grant active then, and the debt of the demo period exactly: 2 uses x 10 + 1 write
        // grant x 5 + 1 read grant x 1.
        "approving her own request was refused",
        "ALERT high unauthorized_change",
        "held write access (AR-",
        "Production Access Debt of the demo period: 26 points (2 account uses x 10, 1 write grants x 5, 1 read grants x 1)",
    ] {
        assert!(text.contains(wanted), "{wanted} missing:\n{text}");
    }
    assert!(text.contains("proof of"), "{text}");
    assert!(verify(&[], &server.url, &token).0);
    drop(server_guard(server));
}

/// The paved-road benchmark's pipeline works end to end (its timing is for BENCHMARKS.md,
/// not for a test): six attestations, an allowed gate, a deployment, each a cold process.
#[test]
fn the_paved_road_pipeline_runs() {
    let out = Command::new(BIN)
        .args(["bench", "pipeline", "--embedded", "temp", "--runs", "1"])
        .output()
        .expect("bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(r["gates_allowed"], 1, "{r:#}");
    assert_eq!(
        r["per_step_median_ms"].as_object().map(|o| o.len()),
        Some(8),
        "{r:#}"
    );
    assert!(r["added_wall_time_ms"]["median"].as_f64() > Some(0.0));
}

/// The CI integrations, each checked as a file and run: the GitHub action's step script and
/// the GitLab template's and Jenkinsfile's commands, with their variables set as those CI
/// systems would, against a live server. Each pipeline attests a real SBOM, passes a gate
/// that asks for one, and records a deployment; nothing secret reaches the output.
fn the_ci_integrations_run_the_same_commands(b: Backend) {
    use yaml_rust2::{Yaml, YamlLoader};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let load = |rel: &str| -> Yaml {
        let text = std::fs::read_to_string(root.join(rel)).expect("integration file");
        YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
            .remove(0)
    };
    let action = load("integrations/github/action.yml");
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    for input in ["command", "server", "app", "subject", "token", "key"] {
        assert!(
            !action["inputs"][input].is_badvalue(),
            "action input {input}"
        );
    }
    let step = action["runs"]["steps"]
        .as_vec()
        .expect("steps")
        .iter()
        .find(|s| s["name"].as_str() == Some("Andon"))
        .expect("the Andon step")
        .clone();
    let workflow = load("integrations/github/example-workflow.yml");
    let uses = workflow["jobs"]["release"]["steps"]
        .as_vec()
        .expect("steps")
        .iter()
        .filter(|s| s["uses"].as_str() == Some("./integrations/github"))
        .count();
    assert_eq!(uses, 3, "the example attests, gates and records");
    let gitlab = load("integrations/gitlab/andon.gitlab-ci.yml");
    let script = |job: &str| -> String {
        gitlab[job]["script"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{job} has a script"))
            .to_owned()
    };
    let jenkins = std::fs::read_to_string(root.join("integrations/jenkins/Jenkinsfile"))
        .expect("Jenkinsfile");
    let jenkins_sh: Vec<String> = jenkins
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("sh '")?
                .strip_suffix('\'')
                .map(str::to_owned)
        })
        .filter(|l| l.contains("andon-pipeline.sh"))
        .collect();
    assert_eq!(jenkins_sh.len(), 3, "{jenkins_sh:?}");
    let recipe = root.join("integrations/shell/andon-pipeline.sh");
    assert!(
        Command::new("bash")
            .arg("-n")
            .arg(&recipe)
            .status()
            .expect("bash")
            .success()
    );

    // A server, an application whose staging gate checks the tests, a pipeline identity.
    let db = TestDb::new(b);
    let server = start(&db, true);
    let admin = Client::new(&server.url, server.token.clone());
    admin.create_application("pay", "team").expect("app");
    admin
        .publish_policy(&serde_json::json!({
            "name": "pay-staging", "applications": ["pay"], "environments": ["staging"],
            "builtin": true,
            "disabled": ["peer-review", "pipeline-reviewed", "tests-pass", "coverage", "static-analysis",
                         "vulnerabilities", "provenance", "change-approval", "tested-before-production"],
        }))
        .expect("policy");
    let token = admin
        .create_identity("ci-pay", "pipeline", &["pay".to_owned()])
        .expect("identity")
        .token;
    let dir = db.dir().join("ci");
    std::fs::create_dir_all(&dir).expect("dir");
    let key_file = dir.join("ci.key");
    let admin_env = [
        ("ANDON_SERVER", server.url.clone()),
        ("ANDON_TOKEN", server.token.clone().expect("admin token")),
    ];
    assert!(
        Command::new(BIN)
            .args(["keygen", "--out"])
            .arg(&key_file)
            .status()
            .expect("keygen")
            .success()
    );
    assert!(
        Command::new(BIN)
            .args(["identity", "add-key", "ci-pay", "--key"])
            .arg(&key_file)
            .envs(admin_env.iter().cloned())
            .status()
            .expect("add-key")
            .success()
    );
    let key_pem = std::fs::read_to_string(&key_file).expect("key");
    // The report: cyclonedx-py's SBOM (the staging gate asks for one).
    let report = root.join("crates/andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json");
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // The GitHub pipeline's artifact is a binary a host will run: its digest is the file's.
    let host = dir.join("host");
    std::fs::create_dir_all(host.join("bin")).expect("host dir");
    std::fs::write(host.join("bin/pay"), b"pay binary 1.0").expect("binary");
    let subject = |n: &str| {
        let bytes: &[u8] = if n == "github" {
            b"pay binary 1.0"
        } else {
            n.as_bytes()
        };
        format!("registry.example.com/pay@{}", Sha256Digest::of(bytes))
    };
    let run = |what: &str, script: &str, env: &[(&str, String)]| {
        let out = Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&root)
            .env("PATH", &path)
            .envs(env.iter().cloned())
            .output()
            .expect("bash");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{what}: {text}");
        assert!(!text.contains(&token), "{what} printed the token");
        assert!(!text.contains("PRIVATE KEY"), "{what} printed the key");
        text
    };

    // GitHub Actions: the step's script with its env, inputs substituted.
    let gh_script = step["run"].as_str().expect("run").to_owned();
    let action_dir = root.join("integrations/github");
    for (command, kind, file, environment) in [
        ("attest", "sbom", report.display().to_string(), ""),
        ("gate", "", String::new(), "staging"),
        ("deploy", "", String::new(), "staging"),
    ] {
        let inputs = [
            ("command", command.to_owned()),
            ("kind", kind.to_owned()),
            ("file", file.clone()),
            ("environment", environment.to_owned()),
            ("server", server.url.clone()),
            ("app", "pay".to_owned()),
            ("subject", subject("github")),
            ("token", token.clone()),
            ("key", key_pem.clone()),
        ];
        let mut env: Vec<(&str, String)> =
            vec![("GITHUB_ACTION_PATH", action_dir.display().to_string())];
        for (k, v) in step["env"].as_hash().expect("env") {
            let value = v.as_str().expect("string");
            let value = if value == "${{ github.run_id }}" {
                "4242".to_owned()
            } else {
                let name = value
                    .trim_start_matches("${{ inputs.")
                    .trim_end_matches(" }}");
                inputs
                    .iter()
                    .find(|(i, _)| *i == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| panic!("unknown input in {value}"))
            };
            env.push((k.as_str().expect("key"), value));
        }
        run(&format!("github {command}"), &gh_script, &env);
    }

    // The host runs what the GitHub pipeline deployed: no drift (exit 0). A binary changed
    // by hand is unauthorized, and the deployed one missing (exit 1).
    let env_report = |what: &str| {
        Command::new(BIN)
            .args(["env", "report", "--env", "staging", "--app", "pay", "--dir"])
            .arg(&host)
            .envs(admin_env.iter().cloned())
            .output()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    let clean = env_report("clean");
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    std::fs::write(host.join("bin/pay"), b"pay binary 1.0, patched on the host").expect("patch");
    let drift = env_report("drift");
    let text = String::from_utf8_lossy(&drift.stdout);
    assert_eq!(drift.status.code(), Some(1), "{text}");
    assert!(
        text.contains("UNAUTHORIZED") && text.contains("MISSING"),
        "{text}"
    );
    assert!(text.contains("ALERT high unauthorized_change"), "{text}");

    // GitLab CI: the hidden jobs' scripts with the template's and the job's variables.
    let common = |s: &str| {
        vec![
            (
                "ANDON_RECIPE",
                gitlab["variables"]["ANDON_RECIPE"]
                    .as_str()
                    .expect("recipe")
                    .to_owned(),
            ),
            ("ANDON_SERVER", server.url.clone()),
            ("ANDON_APP", "pay".to_owned()),
            ("ANDON_SUBJECT", subject(s)),
            ("ANDON_TOKEN", token.clone()),
            ("ANDON_KEY", key_pem.clone()),
            ("CI_PIPELINE_ID", "777".to_owned()),
        ]
    };
    let mut env = common("gitlab");
    env.extend([
        ("ANDON_KIND", "sbom".to_owned()),
        ("ANDON_FILE", report.display().to_string()),
    ]);
    run("gitlab attest", &script(".andon-attest"), &env);
    let mut env = common("gitlab");
    env.push(("ANDON_ENVIRONMENT", "staging".to_owned()));
    let gate = run("gitlab gate", &script(".andon-gate"), &env);
    assert!(gate.contains("ALLOW"), "{gate}");
    run("gitlab deploy", &script(".andon-deploy"), &env);

    // Jenkins: its sh steps, the key as a credentials file.
    let env = vec![
        ("ANDON_SERVER", server.url.clone()),
        ("ANDON_APP", "pay".to_owned()),
        ("ANDON_SUBJECT", subject("jenkins")),
        ("ANDON_TOKEN", token.clone()),
        ("ANDON_KEY_FILE", key_file.display().to_string()),
        ("BUILD_TAG", "jenkins-pay-7".to_owned()),
    ];
    for sh in &jenkins_sh {
        let sh = sh
            .replace(
                "attest junit target/nextest/ci/junit.xml",
                &format!("attest sbom {}", report.display()),
            )
            .replace("gate production", "gate staging")
            .replace("deploy production", "deploy staging");
        run(&format!("jenkins {sh}"), &sh, &env);
    }

    let deployed = admin
        .deployments(Some("pay"), Some("staging"))
        .expect("deployments");
    assert_eq!(deployed.len(), 3, "{deployed:?}");
    assert!(
        deployed.iter().all(|d| !d.bypass),
        "every deployment passed its gate"
    );
    let runs: Vec<Option<String>> = deployed.iter().map(|d| d.run.clone()).collect();
    for r in ["4242", "777", "jenkins-pay-7"] {
        assert!(runs.contains(&Some(r.to_owned())), "{runs:?}");
    }
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
    let said = run(&[
        "backup",
        "--database",
        &db.url,
        "--out",
        file.to_str().expect("path"),
    ]);
    assert!(said.starts_with("backed up "), "{said}");
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
    assert_eq!(
        report["entries_checked"],
        admin.ledger_info().expect("info").size,
        "{report:#}"
    );
    drop(server_guard(server));
}

fn a_pipeline_attests_test_and_coverage_reports_with_the_cli(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let andon = |tok: &str, args: &[&str]| {
        let out = Command::new(BIN)
            .args(["--server", &server.url, "--token", tok])
            .args(args)
            .output()
            .expect("run andon");
        assert!(
            out.status.success(),
            "andon {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    andon(&token, &["app", "create", "pay", "--team", "payments"]);
    let created = andon(
        &token,
        &[
            "--output", "json", "identity", "create", "ci-pay", "--role", "pipeline", "--app",
            "pay",
        ],
    );
    let ci_token = serde_json::from_str::<serde_json::Value>(&created).expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let key = db.dir().join("ci.key");
    let key = key.to_str().expect("path");
    andon(&token, &["keygen", "--out", key]);
    andon(&token, &["identity", "add-key", "ci-pay", "--key", key]);
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/junit/cargo-nextest-0.9.143.xml"
    );
    let subject = format!("registry.example.com/pay@{}", Sha256Digest::of(b"image"));
    let receipt = andon(
        &ci_token,
        &[
            "--output",
            "json",
            "attest",
            "junit",
            "--app",
            "pay",
            "--run",
            "77",
            "--subject",
            &subject,
            "--key",
            key,
            "--file",
            report,
        ],
    );
    let id = serde_json::from_str::<serde_json::Value>(&receipt).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let shown: serde_json::Value = serde_json::from_str(&andon(
        &token,
        &["--output", "json", "evidence", "show", &id],
    ))
    .expect("json");
    assert_eq!(shown["summary"]["kind"], "junit");
    assert_eq!(
        (
            shown["summary"]["tests"].as_u64(),
            shown["summary"]["failures"].as_u64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(
        shown["summary"]["failing"][0],
        "nxsample::tests::overflow_is_reported"
    );
    let listed = andon(
        &token,
        &[
            "evidence",
            "list",
            "--app",
            "pay",
            "--predicate-type",
            "https://andon.dev/attestations/junit/v1",
        ],
    );
    assert!(listed.contains(&id), "{listed}");

    // A vulnerability scan and the pipeline definition, then the trace of the commit.
    let trivy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/vulnerabilities/trivy-alpine-310.sarif"
    );
    let common = ["--app", "pay", "--subject", &subject, "--key", key];
    let scanned = andon(
        &ci_token,
        &[
            &[
                "--output",
                "json",
                "attest",
                "vulnerabilities",
                "--file",
                trivy,
            ][..],
            &common[..],
        ]
        .concat(),
    );
    let id = serde_json::from_str::<serde_json::Value>(&scanned).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let shown: serde_json::Value = serde_json::from_str(&andon(
        &token,
        &["--output", "json", "evidence", "show", &id],
    ))
    .expect("json");
    assert_eq!(shown["summary"]["max_severity"], "medium");
    let workflow = db.dir().join("release.yml");
    std::fs::write(&workflow, "on: push\njobs: {}\n").expect("write");
    let commit = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    andon(
        &ci_token,
        &[
            &[
                "attest",
                "pipeline-definition",
                "--file",
                workflow.to_str().expect("path"),
                "--repository",
                "acme/pay",
                "--commit",
                commit,
            ][..],
            &common[..],
        ]
        .concat(),
    );
    let traced = andon(&token, &["trace", &commit[..10]]);
    assert!(traced.contains("pipeline-definition"), "{traced}");
    assert!(traced.contains("release.yml"), "{traced}");
    assert!(traced.contains("no pull request recorded"), "{traced}");
    let traced = andon(
        &token,
        &["trace", &subject[subject.find('@').expect("@") + 1..]],
    );
    assert!(traced.contains("open findings (max medium)"), "{traced}");
    drop(server_guard(server));
}

fn a_release_is_gated_replayed_and_a_tampered_decision_is_caught(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    admin.create_application("pay", "payments").expect("app");
    let issued = admin
        .create_identity("ci-pay", "pipeline", &["pay".into()])
        .expect("identity");
    let run = |tok: &str, args: &[&str]| cli(&server.url, tok, args);
    let key = db.dir().join("ci.key");
    let key = key.to_str().expect("path");
    assert!(run(&token, &["keygen", "--out", key]).status.success());
    assert!(
        run(&token, &["identity", "add-key", "ci-pay", "--key", key])
            .status
            .success()
    );
    let subject = format!("registry.example.com/pay@{}", Sha256Digest::of(b"pay 1.0"));
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures/junit/cargo-nextest-0.9.143.xml"
    );
    let attested = run(
        &issued.token,
        &[
            "attest",
            "junit",
            "--app",
            "pay",
            "--subject",
            &subject,
            "--key",
            key,
            "--file",
            report,
        ],
    );
    assert!(attested.status.success());

    // Production: the failing test and all the missing evidence deny, exit code 1, with
    // what to do on one screen.
    let denied = run(
        &issued.token,
        &[
            "gate",
            "--app",
            "pay",
            "--artifact",
            &subject,
            "--env",
            "production",
        ],
    );
    assert_eq!(denied.status.code(), Some(1));
    let text = String::from_utf8_lossy(&denied.stdout);
    assert!(text.starts_with("DENY"), "{text}");
    assert!(
        text.contains("tests-pass") && text.contains("1 of 3 tests failed"),
        "{text}"
    );
    assert!(
        text.contains("MISSING") && text.contains("what to do:"),
        "{text}"
    );
    assert!(text.lines().count() < 30, "more than a screen: {text}");

    // A staging policy of the team's own: only tests are required there, and one of the
    // three may be a known flake. Published from a directory, tested first.
    let dir = db.dir().join("staging-policy");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("policy.json"),
        r#"{"name": "pay-staging", "applications": ["pay"], "environments": ["staging"], "builtin": false}"#,
    )
    .expect("write");
    std::fs::write(
        dir.join("flaky.rego"),
        r#"package andon.controls.mostly_green

import rego.v1

metadata := {"id": "mostly-green", "title": "At most one failing test in staging", "risk": "r",
	"stage": "test", "evidence": ["junit"], "frameworks": ["team policy"]}

failures := sum([e.summary.failures | some e in input.evidence; e.kind == "junit"])

deny contains sprintf("%d failing tests", [failures]) if failures > 1

test_one_failure_is_tolerated if {
	count(deny) == 0 with input as {"evidence": [{"kind": "junit", "summary": {"failures": 1}}]}
}
"#,
    )
    .expect("write");
    let dir = dir.to_str().expect("path");
    let tested = run(&token, &["policy", "test", dir]);
    assert!(
        tested.status.success(),
        "{}",
        String::from_utf8_lossy(&tested.stdout)
    );
    assert!(String::from_utf8_lossy(&tested.stdout).contains("1 tests, 1 passed"));
    assert!(run(&token, &["policy", "publish", dir]).status.success());
    let allowed = run(
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
            "staging",
        ],
    );
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stdout)
    );
    let decision: serde_json::Value = serde_json::from_slice(&allowed.stdout).expect("json");
    assert_eq!(decision["decision"]["policy"]["name"], "pay-staging");
    let id = decision["id"].as_str().expect("id").to_owned();

    // Replay: same verdict, here, from the recorded input and policy version; locally too.
    let replayed = run(&token, &["decision", "replay", &id]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert!(String::from_utf8_lossy(&replayed.stdout).contains("same verdict"));
    let shown = run(&token, &["--output", "json", "decision", "show", &id]);
    assert!(shown.status.success());
    let input = db.dir().join("decision.json");
    std::fs::write(&input, &shown.stdout).expect("write");
    let eval = run(
        &token,
        &[
            "policy",
            "eval",
            "--dir",
            dir,
            "--input",
            input.to_str().expect("path"),
        ],
    );
    assert_eq!(eval.status.code(), Some(0));

    // Tampering with the stored decision: verify names it, replay refuses it.
    assert!(verify(&[], &server.url, &token).0);
    tamper(&db, b, "decisions", "envelope", &id);
    let (ok, report) = verify(&[], &server.url, &token);
    assert!(!ok, "tampering went unnoticed: {report}");
    assert_eq!(
        report["first_bad_entry"], decision["ledger_index"],
        "{report}"
    );
    assert!(
        report["problem"]
            .as_str()
            .expect("problem")
            .contains("decision"),
        "{report}"
    );
    assert_eq!(
        run(&token, &["decision", "replay", &id]).status.code(),
        Some(2)
    );
    drop(server_guard(server));
}

fn a_server_publishes_its_policy_directories_at_start(b: Backend) {
    let db = TestDb::new(b);
    let root = db.dir().join("policies");
    let team = root.join("payments-prod");
    std::fs::create_dir_all(&team).expect("dir");
    std::fs::write(
        team.join("policy.json"),
        r#"{"applications": ["pay"], "environments": ["production"], "params": {"coverage": {"min_line_coverage": 90}}}"#,
    )
    .expect("write");
    std::fs::write(
        team.join("frozen.rego"),
        "package andon.controls.frozen\n\nimport rego.v1\n\nmetadata := {\"id\": \"frozen\", \"title\": \"No releases during the freeze\", \"risk\": \"r\", \"stage\": \"release\", \"evidence\": [], \"frameworks\": [\"team\"]}\n\ndeny contains \"release freeze\" if input.environment.production\n",
    )
    .expect("write");
    let server = start_with(&db, true, &["--policies", root.to_str().expect("path")]);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token));
    let names: Vec<String> = admin
        .list_policies()
        .expect("policies")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names,
        vec!["builtin".to_owned(), "payments-prod".to_owned()]
    );
    drop(server_guard(server));

    // A bundle that fails its own validation stops the start, naming it.
    std::fs::write(
        team.join("broken.rego"),
        "package andon.controls.broken\nmetadata := {",
    )
    .expect("write");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &db.url,
            "--data-dir",
        ])
        .arg(db.dir())
        .args(["--policies", root.to_str().expect("path")])
        .output()
        .expect("serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("payments-prod") && err.contains("broken.rego"),
        "{err}"
    );
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
        let out = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database",
                &db.url,
                "--data-dir",
            ])
            .arg(db.dir())
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

/// A Kubernetes API server's pod listing over TLS, signed by a cluster CA (the fixtures),
/// answering two pages (`limit` and `continue`) to `token` and a `Status` 401 to anyone
/// else. Returns its URL and the requests it saw.
fn fake_kube_api(
    token: &'static str,
    pages: [String; 2],
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject as _;
    use std::io::{Read as _, Write as _};
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kube");
    let certs: Vec<_> =
        rustls::pki_types::CertificateDer::pem_file_iter(format!("{fixtures}/server.crt"))
            .expect("cert")
            .map(|c| c.expect("cert"))
            .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(format!("{fixtures}/server.key"))
        .expect("key");
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config"),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match tls.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
            log.lock().expect("log").push(target.clone());
            let authorized = head
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("authorization: Bearer {token}")));
            let (status, body) = if !authorized {
                (
                    "401 Unauthorized",
                    r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#.to_owned(),
                )
            } else if target.contains("continue=") {
                ("200 OK", pages[1].clone())
            } else {
                ("200 OK", pages[0].clone())
            };
            let _ = write!(
                tls,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.flush();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (url, seen)
}

/// `andon env report --kubernetes-namespace` reads the pods from the API server with a
/// service account's token, trusting the cluster's CA, across pages: what the pipeline
/// deployed raises nothing, a container nobody deployed is unauthorized. A wrong token or
/// a missing CA is a clear error and reports nothing.
fn the_kubernetes_api_reporter_reads_pods_with_a_service_account(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    admin.create_application("pay", "payments").expect("app");
    // A team policy that allows pay anything in production, so the deployment is allowed.
    let policy = db.dir().join("open-policy");
    std::fs::create_dir_all(&policy).expect("dir");
    std::fs::write(
        policy.join("policy.json"),
        r#"{"name": "pay-open", "applications": ["pay"], "environments": ["production"], "builtin": false}"#,
    )
    .expect("write");
    std::fs::write(
        policy.join("open.rego"),
        "package andon.controls.open\n\nimport rego.v1\n\nmetadata := {\"id\": \"open\", \"title\": \"Nothing required\", \"risk\": \"r\", \"stage\": \"deploy\", \"evidence\": [], \"frameworks\": []}\n\ndeny contains \"never\" if false\n",
    )
    .expect("write");
    let deployed = Sha256Digest::of(b"pay 2.0").hex();
    let artifact = format!("registry.example.com/pay@sha256:{deployed}");
    for args in [
        vec!["policy", "publish", policy.to_str().expect("path")],
        vec![
            "gate",
            "--app",
            "pay",
            "--artifact",
            &artifact,
            "--env",
            "production",
        ],
        vec![
            "deploy",
            "record",
            "--app",
            "pay",
            "--env",
            "production",
            "--artifact",
            &artifact,
        ],
    ] {
        let out = Command::new(BIN)
            .args(["--server", &server.url, "--token", &token])
            .args(&args)
            .output()
            .expect("andon");
        assert!(
            out.status.success(),
            "{args:?}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pod = |name: &str, image: &str, digest: &str| {
        format!(
            r#"{{"metadata":{{"name":"{name}","namespace":"payments","labels":{{"app":"pay"}}}},"spec":{{"containers":[{{"name":"pay","image":"{image}"}}]}},"status":{{"phase":"Running","containerStatuses":[{{"name":"pay","ready":true,"restartCount":0,"image":"{image}","imageID":"{image_repo}@sha256:{digest}","started":true}}]}}}}"#,
            image_repo = image.split(':').next().expect("repo")
        )
    };
    let page = |items: String, cont: &str| {
        format!(
            r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"48213","continue":"{cont}"}},"items":[{items}]}}"#
        )
    };
    let (url, seen) = fake_kube_api(
        "sa-token-123",
        [
            page(
                pod("pay-5d8f7-x2k9q", "registry.example.com/pay:2.0", &deployed),
                "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ",
            ),
            page(
                pod(
                    "debug-shell",
                    "docker.io/library/busybox:1.36",
                    &Sha256Digest::of(b"busybox").hex(),
                ),
                "",
            ),
        ],
    );
    let dir = db.dir();
    std::fs::write(dir.join("sa-token"), "sa-token-123\n").expect("token");
    std::fs::write(dir.join("wrong-token"), "expired").expect("token");
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/kube/ca.crt");
    let report = |token_file: &str, ca: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(["--server", &server.url, "--token", &token])
            .args([
                "env",
                "report",
                "--env",
                "production",
                "--app",
                "pay",
                "--kubernetes-namespace",
                "payments",
                "--kubernetes-server",
                &url,
                "--selector",
                "app=pay",
                "--kubernetes-token-file",
            ])
            .arg(dir.join(token_file));
        if let Some(ca) = ca {
            cmd.args(["--kubernetes-ca-file", ca]);
        }
        cmd.output().expect("env report")
    };
    let before = admin.ledger_info().expect("info").size;
    let refused = report("wrong-token", Some(ca));
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("refused the token") && err.contains("401"),
        "{err}"
    );
    let untrusted = report("sa-token", None);
    assert_eq!(untrusted.status.code(), Some(2));
    let err = String::from_utf8_lossy(&untrusted.stderr);
    assert!(err.contains("reaching the Kubernetes API"), "{err}");
    assert_eq!(
        admin.ledger_info().expect("info").size,
        before,
        "a failed report wrote"
    );

    let drift = report("sa-token", Some(ca));
    let text = String::from_utf8_lossy(&drift.stdout);
    assert_eq!(
        drift.status.code(),
        Some(1),
        "{text} {}",
        String::from_utf8_lossy(&drift.stderr)
    );
    assert!(text.starts_with("2 workloads in production"), "{text}");
    assert!(
        text.contains("UNAUTHORIZED sha256:") && !text.contains("MISSING"),
        "{text}"
    );
    assert!(text.contains(&Sha256Digest::of(b"busybox").hex()), "{text}");
    let requests = seen.lock().expect("seen").clone();
    let listed: Vec<_> = requests
        .iter()
        .filter(|r| r.contains("limit=500"))
        .collect();
    assert!(
        listed.len() >= 2
            && listed
                .iter()
                .all(|r| r.starts_with("/api/v1/namespaces/payments/pods?")
                    && r.contains("labelSelector=app%3Dpay")),
        "{requests:?}"
    );
    assert!(
        listed.iter().any(|r| r.contains("continue=eyJ2")),
        "{requests:?}"
    );
    drop(server_guard(server));
}

/// `andon bench load` drives every kind of call against the servers it starts (two on
/// PostgreSQL, sharing one ledger) and reports them without errors, with each server's
/// memory; the ledger it leaves behind verifies.
fn the_load_command_drives_every_kind_of_call(b: Backend) {
    let db = TestDb::new(b);
    let (database, servers) = match b {
        Backend::Sqlite => ("temp".to_owned(), "1"),
        Backend::Postgres => (db.url.clone(), "2"),
    };
    let out = Command::new(BIN)
        .args(["--output", "json", "bench", "load", "--database", &database])
        .args(["--servers", servers, "--clients", "4", "--seconds", "3"])
        .output()
        .expect("andon bench load");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    let kinds: Vec<&str> = report["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .filter(|k| k["calls"].as_u64() > Some(0))
        .filter_map(|k| k["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "attest",
            "gate",
            "webhook",
            "deploy",
            "search_evidence",
            "search_subject",
            "ledger_head",
            "trace",
            "list_deployments"
        ],
        "{report}"
    );
    assert_eq!(
        report["memory"].as_array().map(Vec::len),
        Some(servers.parse().expect("n")),
        "{report}"
    );
    assert!(
        report["memory"][0]["rss_peak_mib"].as_f64() > Some(1.0),
        "{report}"
    );
    if b == Backend::Postgres {
        let (ok, r) = verify(&["--database", &db.url], "http://127.0.0.1:1", "unused");
        assert!(ok, "{r}");
    }
}

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
    wrong.pop();
    wrong.push('0');
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
            .register_key(&format!("ci-{app}"), &key.verifying_key().to_base64())
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

/// docs/quickstart.md's commands, exactly as written, against a live server.
fn the_quickstart_runs_as_written(b: Backend) {
    let db = TestDb::new(b);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let doc = include_str!("../../../../docs/quickstart.md");
    let blocks = doc_blocks(doc, "sh");
    assert_eq!(blocks.len(), 2, "the quickstart's shape changed");
    let dir = db.dir().join("quickstart");
    std::fs::create_dir_all(&dir).expect("dir");
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../andon-evidence/tests/fixtures"
    );
    std::fs::copy(
        format!("{fixtures}/junit/cargo-nextest-0.9.143.xml"),
        dir.join("junit.xml"),
    )
    .expect("junit");
    std::fs::copy(
        format!("{fixtures}/coverage/coveragepy-7.17.3.lcov"),
        dir.join("lcov.info"),
    )
    .expect("lcov");
    std::fs::write(dir.join("payments.tar"), b"payments 1.0 build output").expect("artifact");
    std::fs::write(dir.join("payments-1.1.tar"), b"payments 1.1 build output").expect("artifact");
    let out = run_block(
        &blocks[1],
        &dir,
        &[("ANDON_SERVER", &server.url), ("ANDON_TOKEN", &token)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What the reader was told they would see.
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
    let doc = include_str!("../../../../docs/rego.md");
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

struct Guard(Server);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}
fn server_guard(s: Server) -> Guard {
    Guard(s)
}

both_backends!(
    backup_restore_and_verify_through_the_cli,
    the_log_key_is_rotated_and_verify_follows_the_hand_over,
    the_kubernetes_api_reporter_reads_pods_with_a_service_account,
    the_quickstart_runs_as_written,
    the_load_command_drives_every_kind_of_call,
    no_secret_is_ever_logged,
    an_audit_package_verifies_offline_and_any_change_fails,
    the_rego_guide_runs_as_written,
    the_ci_integrations_run_the_same_commands,
    a_server_publishes_its_policy_directories_at_start,
    a_release_is_gated_replayed_and_a_tampered_decision_is_caught,
    a_pipeline_attests_test_and_coverage_reports_with_the_cli,
    acknowledged_submissions_survive_sigkill_and_the_ledger_verifies,
    one_changed_byte_in_the_database_is_named_by_verify,
    the_demo_runs_against_a_live_server,
);
