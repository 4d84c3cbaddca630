//! Nothing acknowledged is lost: a server killed with SIGKILL mid-stream, three servers on
//! one PostgreSQL with one of them killed, PostgreSQL restarted under load, SQLite on a disk
//! that fills up or is read-only.

use std::process::Command;

use andon_client::Client;
use andon_domain::{Sha256Digest, Statement};
use andon_ledger::NoteVerifier;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

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
        // The server may write meanwhile: a filler that meets a full disk has done its job.
        if let Err(e) = std::fs::write(self.0.join("filler"), vec![0u8; size])
            && e.kind() != std::io::ErrorKind::StorageFull
        {
            panic!("filler: {e}");
        }
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
        let out = serve_command(&url, &data).output().expect("andon serve");
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

both_backends!(acknowledged_submissions_survive_sigkill_and_the_ledger_verifies,);

/// SIGTERM (systemd, Kubernetes, `docker stop`) stops the server cleanly: exit status 0,
/// the SQLite write-ahead log folded back into the database and emptied, and every
/// acknowledged write there when it starts again.
#[test]
fn sigterm_stops_the_server_and_folds_the_sqlite_log_back() {
    let db = TestDb::new(Backend::Sqlite);
    let mut server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    for i in 0..20 {
        admin
            .create_application(&format!("app-{i}"), "team")
            .expect("app");
    }
    let size = admin.ledger_info().expect("info").size;
    let wal = db.dir().join("andon.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()) > 0,
        "writes went through the log"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = server.child.wait().expect("the server ends");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(
        std::fs::metadata(&wal).map_or(0, |m| m.len()),
        0,
        "the log is folded back at stop"
    );
    let again = start(&db, false);
    let admin = Client::new(&again.url, Some(token));
    assert_eq!(admin.ledger_info().expect("info").size, size);
}
