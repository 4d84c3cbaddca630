//! The log's checkpoints reach an external witness by C2SP tlog-witness, on both backends:
//! a witness written here from the protocol's rules checks each submission's signature and
//! its consistency proof from the size it cosigned before, and cosigns.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

use crate::common;
use andon_ledger::{Hash, NoteVerifier, verify_consistency};
use andon_testkit::{Backend, both_backends};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// What the witness saw: (old size, proof length, new size, accepted).
type Seen = Arc<Mutex<Vec<(u64, usize, u64, bool)>>>;

/// A tlog-witness on loopback for one log; returns its submission prefix.
fn witness(verifier_key: Arc<Mutex<Option<String>>>, seen: Seen) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let prefix = format!("http://{}/witness", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        // The latest cosigned (size, root).
        let mut held: Option<(u64, Hash)> = None;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            assert!(line.starts_with("POST /witness/add-checkpoint "), "{line}");
            let mut len = 0;
            loop {
                line.clear();
                reader.read_line(&mut line).expect("header");
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().expect("length");
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).expect("body");
            let body = String::from_utf8(body).expect("utf-8");
            let (head, note) = body
                .split_once("\n\n")
                .expect("a blank line before the checkpoint");
            let mut lines = head.lines();
            let old: u64 = lines
                .next()
                .and_then(|l| l.strip_prefix("old "))
                .expect("old line")
                .parse()
                .expect("old size");
            let proof: Vec<Hash> = lines
                .map(|l| {
                    STANDARD
                        .decode(l)
                        .expect("base64")
                        .try_into()
                        .expect("32 bytes")
                })
                .collect();
            // Until the test has configured the log's key, the origin is unknown (404).
            let Some(key) = verifier_key.lock().expect("lock").clone() else {
                let _ = write!(
                    stream,
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                continue;
            };
            let cp = NoteVerifier::parse(&key)
                .expect("key")
                .verify(note)
                .expect("a checkpoint signed by the log");
            let (status, reply) = match held {
                Some((size, _)) if size != old => ("409 Conflict", format!("{size}\n")),
                None if old != 0 => ("409 Conflict", "0\n".to_owned()),
                Some((size, root)) => {
                    if verify_consistency(size, cp.size, &proof, &root, &cp.root).is_ok() {
                        ("200 OK", "— witness.example/w1 AAAA\n".to_owned())
                    } else {
                        ("422 Unprocessable Entity", String::new())
                    }
                }
                None => ("200 OK", "— witness.example/w1 AAAA\n".to_owned()),
            };
            let ok = status.starts_with("200");
            if ok {
                held = Some((cp.size, cp.root));
            }
            seen.lock()
                .expect("lock")
                .push((old, proof.len(), cp.size, ok));
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: text/x.tlog.size\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    prefix
}

fn the_witness_cosigns_each_checkpoint_consistent_with_the_last(b: Backend) {
    let key = Arc::new(Mutex::new(None));
    let seen: Seen = Default::default();
    let prefix = witness(key.clone(), seen.clone());
    let h = common::Harness::start_configured(b, |c| {
        c.witness_url = Some(prefix.clone());
        c.witness_interval = std::time::Duration::from_millis(100);
    });
    *key.lock().expect("lock") = Some(h.admin.ledger_info().expect("info").verifier_key);
    let wait_for = |size: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let done = seen
                .lock()
                .expect("lock")
                .iter()
                .any(|&(_, _, s, ok)| ok && s == size);
            if done {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{:?}", seen.lock());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    h.admin.create_application("pay", "team").expect("app");
    wait_for(h.admin.ledger_info().expect("info").size);
    for app in ["shop", "ledger", "reports"] {
        h.admin.create_application(app, "team").expect("app");
    }
    let size = h.admin.ledger_info().expect("info").size;
    wait_for(size);
    let seen = seen.lock().expect("lock").clone();
    // Every accepted submission after the first proved consistency from the size before.
    let accepted: Vec<_> = seen.iter().filter(|s| s.3).collect();
    assert!(accepted.len() >= 2, "{seen:?}");
    assert_eq!(
        (accepted[0].0, accepted[0].1),
        (0, 0),
        "the first starts from nothing"
    );
    for pair in accepted.windows(2) {
        assert_eq!(
            pair[1].0, pair[0].2,
            "proved from the size last cosigned: {seen:?}"
        );
        assert!(pair[1].1 > 0, "with a proof: {seen:?}");
    }
    assert!(seen.iter().all(|s| s.3), "nothing refused: {seen:?}");
}

both_backends!(the_witness_cosigns_each_checkpoint_consistent_with_the_last);
