//! Monitoring that stays up when the database does not answer (a frozen host, a dropped
//! network: connections open, nothing answers): `/metrics` on its own listener answers
//! from memory, without a token, and says the database is down; `/readyz` answers 503
//! within half a second; a write is answered 503 within the write deadline instead of
//! hanging; all of it recovers when the database answers again.

use std::process::Command;
use std::time::{Duration, Instant};

use andon_client::Client;

use crate::common::*;

/// `curl` of `url`: (status, body, seconds taken).
fn fetch(url: &str) -> (u16, String, f64) {
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code} %{time_total}",
        ])
        .arg(url)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, tail) = text.rsplit_once('\n').unwrap_or(("", ""));
    let mut tail = tail.split_whitespace();
    let status = tail.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let took = tail.next().and_then(|s| s.parse().ok()).unwrap_or(f64::MAX);
    (status, body.to_owned(), took)
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn monitoring_answers_while_the_database_does_not() {
    let pg = andon_testkit::PrivatePostgres::start();
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let metrics = format!("http://127.0.0.1:{port}/metrics");
    let server = start_at(
        &pg.url,
        dir.path(),
        true,
        &["--metrics-listen", &format!("127.0.0.1:{port}")],
    );
    let token = server.token.clone().expect("admin token");
    let admin = Client::new(&server.url, Some(token.clone()));
    admin.create_application("pay", "team").expect("app");
    // No token on the metrics listener, and nothing but the metrics and the probes there.
    until("the database read as up", || {
        fetch(&metrics).1.contains("andon_database_up 1")
    });
    assert_eq!(
        fetch(&format!("http://127.0.0.1:{port}/v1/applications")).0,
        404
    );

    pg.freeze();
    let (status, why, took) = fetch(&format!("{}/readyz", server.url));
    assert_eq!(status, 503, "{why}");
    assert!(took < 1.0, "/readyz took {took} s during the outage");
    let began = Instant::now();
    let refused = admin.create_application("shop", "team");
    let waited = began.elapsed();
    match refused {
        Err(andon_client::ClientError::Api {
            status, message, ..
        }) => {
            assert_eq!(status, 503, "{message}");
            assert!(message.contains("retry"), "{message}");
        }
        other => panic!("a write during the outage answered {other:?}"),
    }
    assert!(
        waited < Duration::from_secs(8),
        "the write waited {waited:?} for a database that does not answer"
    );
    until("the database read as down", || {
        let (status, text, _) = fetch(&metrics);
        status == 200 && text.contains("andon_database_up 0")
    });
    // The figures kept from the last read are still served.
    assert!(fetch(&metrics).1.contains("andon_ledger_entries"));

    pg.thaw();
    until("the database read as up again", || {
        fetch(&metrics).1.contains("andon_database_up 1")
    });
    assert_eq!(fetch(&format!("{}/readyz", server.url)).0, 200);
    until("writes accepted again", || {
        admin.create_application("web", "team").is_ok()
    });
    drop(server);
}
