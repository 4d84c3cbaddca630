//! Several servers on one PostgreSQL as a platform team runs them: a log key rotated while
//! all of them take load.

use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_ledger::{Checkpoint, LogSigner, NoteVerifier};
use andon_testkit::{Backend, TestDb};

use crate::binary::helpers::*;
use crate::common::*;

/// What a client of one server saw: (server, receipt) or (server, refusal).
type Seen = (usize, Result<andon_domain::api::Receipt, String>);

/// Clients sending evidence until told to stop, each to one server.
struct Load<'a> {
    seen: &'a Mutex<Vec<Seen>>,
    stop: &'a AtomicBool,
    token: String,
    key: &'a andon_domain::SigningKey,
}

impl<'a> Load<'a> {
    fn run<'s>(&self, s: &'s std::thread::Scope<'s, 'a>, server: usize, url: String, t: u32) {
        let (seen, stop, tok, key) = (self.seen, self.stop, self.token.clone(), self.key);
        s.spawn(move || {
            let ci = Client::new(&url, Some(tok));
            for n in 0..1_000_000u32 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let r = ci
                    .submit_evidence("pay", None, None, &envelope(key, t * 1_000_000 + n))
                    .map_err(|e| e.to_string());
                let refused = r.is_err();
                seen.lock().expect("lock").push((server, r));
                if refused {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
    }
}

/// Tells the clients to stop when dropped, also by a panic.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn seed_of(path: &str) -> [u8; 32] {
    andon_domain::SigningKey::from_pem(&std::fs::read_to_string(path).expect("read key"))
        .expect("pem")
        .seed()
}

fn http(url: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
    (code.to_owned(), body.to_owned())
}

/// Three servers under load; one of them starts with the new key and hands the log over.
/// The server that staged the new key (`--next-log-key`) follows at once and goes on; the
/// one that holds only the old key stops signing (its writes and readiness answer 503 and
/// say why) instead of signing with a retired key. Every checkpoint anyone was given or
/// the database holds is signed by the key in force at its size, `andon verify` passes
/// pinned to the old key, and a checkpoint the old key signs after the hand-over is
/// refused.
#[test]
fn a_key_rotation_reaches_every_server_of_a_cluster_under_load() {
    let db = TestDb::new(Backend::Postgres);
    let first = start(&db, true);
    let token = first.token.clone().expect("admin token on first start");
    let (admin, issued, key) = pay_pipeline(&first.url, &token, 5);
    let path = |name: &str| db.dir().join(name).to_str().expect("path").to_owned();
    let (old_key, new_key) = (path("log.key"), path("new.key"));
    assert!(
        cli(&first.url, &token, &["keygen", "--out", &new_key])
            .status
            .success()
    );
    let old = admin.ledger_info().expect("info");
    let origin = old.origin.clone();
    let new_verifier = LogSigner::new(origin.clone(), seed_of(&new_key))
        .verifier()
        .to_string();
    let staged = start_with(&db, false, &["--next-log-key", &new_key]);
    // 0: the old key only; 1: the new key staged; 2: the rotating server, once started.
    let mut urls = vec![first.url.clone(), staged.url.clone()];

    let seen: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let acked = |seen: &[Seen], i: usize| seen.iter().filter(|(s, r)| *s == i && r.is_ok()).count();
    let load = Load {
        seen: &seen,
        stop: &stop,
        token: issued.token.clone(),
        key: &key,
    };
    let wait_for = |enough: &dyn Fn(&[Seen]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !enough(&seen.lock().expect("lock")) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let rotator = std::thread::scope(|s| {
        for (i, url) in urls.iter().enumerate() {
            for t in 0..2 {
                load.run(s, i, url.clone(), (i * 2 + t) as u32);
            }
        }
        wait_for(&|a| (0..2).all(|i| acked(a, i) >= 30));
        // Should the start fail, the clients stop instead of sending forever.
        let _stop = StopOnDrop(&stop);
        let rotator = start_with(
            &db,
            false,
            &["--log-key", &new_key, "--previous-log-key", &old_key],
        );
        load.run(s, 2, rotator.url.clone(), 10);
        let at_rotation = seen.lock().expect("lock").len();
        wait_for(&|a| a.len() >= at_rotation + 200 && (1..3).all(|i| acked(a, i) >= 60));
        stop.store(true, Ordering::Relaxed);
        rotator
    });
    urls.push(rotator.url.clone());
    drop(load);
    let seen = seen.into_inner().expect("lock");

    // Where the hand-over is, from the log itself.
    std::thread::sleep(Duration::from_millis(1500));
    let (ok, report) = verify(
        &["--database", &db.url, "--log-key", &old.verifier_key],
        &urls[1],
        &token,
    );
    assert!(ok, "the stored log does not verify: {report}");
    assert_eq!(report["key_rotations"][0]["next"], new_verifier, "{report}");
    let handed = report["key_rotations"][0]["index"]
        .as_u64()
        .expect("rotation index");
    let (old_v, new_v) = (
        NoteVerifier::parse(&old.verifier_key).expect("old key"),
        NoteVerifier::parse(&new_verifier).expect("new key"),
    );
    // Every receipt's checkpoint, from any server, is signed by the key in force at its size.
    for (server, r) in &seen {
        let Ok(r) = r else { continue };
        let by_old = old_v.verify(&r.checkpoint).ok();
        let by_new = new_v.verify(&r.checkpoint).ok();
        match (by_old, by_new) {
            (Some(c), None) => assert!(
                c.size <= handed,
                "server {server} signed a checkpoint of size {} with the retired key after the hand-over at {handed}",
                c.size
            ),
            (None, Some(c)) => assert!(c.size > handed, "new key before the hand-over"),
            _ => panic!("a receipt's checkpoint is signed by neither key"),
        }
    }
    // The server without the new key stopped: writes and readiness say why; it still
    // serves reads, and reports the log's current key.
    let refusals: Vec<&String> = seen
        .iter()
        .filter_map(|(s, r)| (*s == 0).then_some(r.as_ref().err()).flatten())
        .collect();
    assert!(
        refusals.iter().any(|e| e.contains("does not hold")),
        "{refusals:?}"
    );
    let (code, body) = http(&format!("{}/readyz", urls[0]));
    assert_eq!(code, "503", "{body}");
    assert!(
        body.contains(&new_verifier) && body.contains("--log-key"),
        "{body}"
    );
    let stale = Client::new(&urls[0], Some(token.clone()));
    assert_eq!(
        stale.ledger_info().expect("info").verifier_key,
        new_verifier
    );
    for url in &urls[1..] {
        assert_eq!(http(&format!("{url}/readyz")).0, "200");
        let info = Client::new(url, Some(token.clone()))
            .ledger_info()
            .expect("info");
        assert_eq!(info.verifier_key, new_verifier);
        assert_eq!(info.previous_verifier_keys, vec![old.verifier_key.clone()]);
        let (ok, report) = verify(&["--log-key", &old.verifier_key], url, &token);
        assert!(ok, "verify against {url}: {report}");
    }
    // Restarted with the new key, the stopped server signs again.
    drop(server_guard(first));
    let first = start_with(&db, false, &["--log-key", &new_key]);
    Client::new(&first.url, Some(issued.token.clone()))
        .submit_evidence("pay", None, None, &envelope(&key, 99_000_000))
        .expect("the restarted server appends");

    // A checkpoint the retired key signs after its hand-over (a server that kept it, or
    // someone who has it) is not the log's, whatever it says.
    let info = Client::new(&first.url, Some(token.clone()))
        .ledger_info()
        .expect("info");
    let head = new_v.verify(&info.checkpoint).expect("head");
    let forged = LogSigner::new(origin, seed_of(&old_key)).sign(&Checkpoint {
        origin: head.origin.clone(),
        size: head.size,
        root: head.root,
    });
    let saved = path("late-old-key.checkpoint");
    std::fs::write(&saved, &forged.note).expect("write");
    let (ok, report) = verify(
        &["--log-key", &old.verifier_key, "--checkpoint", &saved],
        &first.url,
        &token,
    );
    assert!(!ok, "{report}");
    let said = report.to_string();
    assert!(said.contains("in force at size"), "{said}");
    for s in [first, staged, rotator] {
        drop(server_guard(s));
    }
}

/// Three servers started at once on an empty PostgreSQL (a Deployment's first rollout), each
/// with its own data directory, one log key and one policy directory: all three come up;
/// one of them creates the first admin and prints its token; the ledger holds one admin,
/// one built-in policy and one team policy.
#[test]
fn servers_started_together_on_an_empty_database_all_come_up() {
    let db = TestDb::new(Backend::Postgres);
    let key = db.dir().join("log.key");
    let made = Command::new(BIN)
        .args(["keygen", "--out"])
        .arg(&key)
        .output()
        .expect("keygen");
    assert!(made.status.success());
    let policies = db.dir().join("policies").join("team");
    std::fs::create_dir_all(&policies).expect("dir");
    std::fs::write(
        policies.join("freeze.rego"),
        "package andon.controls.freeze\n\nimport rego.v1\n\nmetadata := {\"id\": \"freeze\", \"title\": \"No releases during the freeze\", \"risk\": \"r\", \"stage\": \"release\", \"evidence\": [], \"frameworks\": [\"team\"]}\n\ndeny contains \"freeze\" if input.environment.production\n",
    )
    .expect("write");
    let root = db.dir().join("policies");
    let mut children: Vec<std::process::Child> = (0..3)
        .map(|i| {
            let dir = db.dir().join(format!("server-{i}"));
            serve_command(&db.url, &dir)
                .arg("--log-key")
                .arg(&key)
                .arg("--policies")
                .arg(&root)
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn andon serve")
        })
        .collect();
    // Each prints its address once it serves (and the token, if it made the admin).
    let starts: Vec<(Option<String>, Vec<String>)> = children
        .iter_mut()
        .map(|c| {
            use std::io::BufRead as _;
            let mut lines = std::io::BufReader::new(c.stdout.take().expect("stdout")).lines();
            let mut url = None;
            let mut seen = Vec::new();
            for l in lines.by_ref() {
                let Ok(l) = l else { break };
                seen.push(l.clone());
                if l.starts_with("web interface") {
                    break;
                }
                if let Some(u) = l.strip_prefix("andon listening on ") {
                    url = Some(u.to_owned());
                }
            }
            std::thread::spawn(move || for _ in lines {});
            (url, seen)
        })
        .collect();
    let mut exited = Vec::new();
    for c in &mut children {
        if let Ok(Some(status)) = c.try_wait() {
            let mut err = String::new();
            use std::io::Read as _;
            let _ = c.stderr.take().expect("stderr").read_to_string(&mut err);
            exited.push(format!("{status}: {err}"));
        }
    }
    assert!(exited.is_empty(), "servers exited: {exited:?}");
    let urls: Vec<String> = starts
        .iter()
        .map(|(u, seen)| u.clone().unwrap_or_else(|| panic!("no address: {seen:?}")))
        .collect();
    let tokens: Vec<String> = starts
        .iter()
        .flat_map(|(_, seen)| seen.iter())
        .filter_map(|l| l.strip_prefix("ANDON_TOKEN=").map(str::to_owned))
        .collect();
    assert_eq!(tokens.len(), 1, "one start makes the admin: {starts:?}");
    for url in &urls {
        let c = Client::new(url, Some(tokens[0].clone()));
        let identities = c.list_identities().expect("identities");
        assert_eq!(
            identities.iter().filter(|i| i.name == "admin").count(),
            1,
            "{identities:?}"
        );
        let mut names: Vec<String> = c
            .list_policies()
            .expect("policies")
            .iter()
            .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec!["builtin".to_owned(), "team".to_owned()]);
    }
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}
