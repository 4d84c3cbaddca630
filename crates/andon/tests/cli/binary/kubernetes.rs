//! `andon env report` against a Kubernetes API server over TLS, with a service account's
//! token.

use std::process::Command;

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

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

both_backends!(the_kubernetes_api_reporter_reads_pods_with_a_service_account,);
