//! The server at the edge of a network: HTTPS with a certificate renewed by SIGHUP (and the
//! admission webhook answering a review over it, as a Kubernetes API server calls it), and
//! clients told apart behind a trusted proxy (the failed-authentication limit, the probes,
//! the access log).

use std::process::Command;

use andon_testkit::{Backend, TestDb};

use crate::common::*;

/// A private CA and a server certificate for 127.0.0.1 it issued: (CA certificate,
/// certificate, key), written to `dir/<name>.*`.
fn certificate(dir: &std::path::Path, name: &str) -> (String, String, String) {
    let p = |ext: &str| {
        dir.join(format!("{name}.{ext}"))
            .to_str()
            .expect("path")
            .to_owned()
    };
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl (Debian's, .ci/python.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let ca_subject = format!("/CN={name} CA");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend(["-days", "2", "-subj", &ca_subject]);
    args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    let (ca, ca_key) = (p("ca.crt"), p("ca.key"));
    args.extend(["-keyout", &ca_key, "-out", &ca]);
    openssl(&args);
    let (csr, key, crt, ext) = (p("csr"), p("key"), p("crt"), p("ext"));
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-subj", "/CN=127.0.0.1", "-keyout", &key, "-out", &csr]);
    openssl(&args);
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write");
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &crt,
    ]);
    (ca, crt, key)
}

/// `curl` of `url` trusting `ca`: the status, or 0 when no TLS connection was made.
fn status(url: &str, ca: &str, headers: &[&str]) -> u16 {
    let mut c = Command::new("curl");
    c.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--cacert",
        ca,
    ]);
    for h in headers {
        c.args(["-H", h]);
    }
    let out = c.arg(url).output().expect("curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn https_serves_a_certificate_renewed_on_sighup() {
    let db = TestDb::new(Backend::Sqlite);
    let dir = db.dir();
    let (first, first_crt, first_key) = certificate(&dir, "first");
    let (crt, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    std::fs::copy(&first_crt, &crt).expect("copy");
    std::fs::copy(&first_key, &key).expect("copy");
    let (crt, key) = (crt.to_str().expect("path"), key.to_str().expect("path"));

    // A key that is not the certificate's stops the start, naming the files.
    let (_, _, other_key) = certificate(&dir, "other");
    let out = serve_command(&db.url, &dir)
        .args(["--tls-cert", crt, "--tls-key", &other_key])
        .output()
        .expect("serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TLS certificate") && err.contains("tls.crt"),
        "{err}"
    );

    let server = start_with(&db, true, &["--tls-cert", crt, "--tls-key", key]);
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let token = server.token.clone().expect("admin token");
    assert_eq!(status(&format!("{}/livez", server.url), &first, &[]), 200);
    // Plain HTTP on the TLS port gets no answer.
    let plain = server.url.replacen("https://", "http://", 1);
    assert_ne!(status(&format!("{plain}/livez"), &first, &[]), 200);
    // The CLI trusts a private CA through ANDON_CA_FILE.
    let whoami = |ca: &str| {
        Command::new(BIN)
            .args(["--server", &server.url, "--token", &token, "app", "list"])
            .env("ANDON_CA_FILE", ca)
            .output()
            .expect("andon app list")
    };
    let out = whoami(&first);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The admission webhook over TLS, as a Kubernetes API server calls it: the caBundle
    // is the private CA, the cluster's token a bearer token.
    let out = Command::new(BIN)
        .args(["--server", &server.url, "--token", &token])
        .args([
            "admission",
            "cluster",
            "prod",
            "--env",
            "production",
            "--mode",
            "enforce",
        ])
        .env("ANDON_CA_FILE", &first)
        .output()
        .expect("andon admission cluster");
    let text = String::from_utf8_lossy(&out.stdout);
    let cluster_token = text
        .lines()
        .find_map(|l| l.split("bearer token): ").nth(1))
        .unwrap_or_else(|| panic!("no token in {text}"))
        .to_owned();
    let review = dir.join("review.json");
    std::fs::write(
        &review,
        r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"tls-1","kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"shop","name":"web","userInfo":{"username":"dev"},"object":{"spec":{"containers":[{"name":"web","image":"shop:1.0"}]}}}}"#,
    )
    .expect("write");
    let answer = Command::new("curl")
        .args([
            "-s",
            "--cacert",
            &first,
            "-H",
            "Content-Type: application/json",
        ])
        .args(["-H", &format!("Authorization: Bearer {cluster_token}")])
        .args(["--data-binary", &format!("@{}", review.display())])
        .arg(format!("{}/k8s/admission/v1/prod", server.url))
        .output()
        .expect("curl");
    let answer: serde_json::Value = serde_json::from_slice(&answer.stdout).expect("a review");
    assert_eq!(answer["kind"], "AdmissionReview", "{answer}");
    assert_eq!(answer["response"]["uid"], "tls-1", "{answer}");
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    assert!(
        answer["response"]["status"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("is not pinned by digest")),
        "{answer}"
    );

    // Renewed: new files, SIGHUP, the new certificate is served without a restart.
    let (second, second_crt, second_key) = certificate(&dir, "second");
    std::fs::copy(&second_crt, crt).expect("copy");
    std::fs::copy(&second_key, key).expect("copy");
    let hup = |pid: u32| {
        assert!(
            Command::new("kill")
                .args(["-HUP", &pid.to_string()])
                .status()
                .expect("kill")
                .success()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    hup(server.child.id());
    assert_eq!(status(&format!("{}/livez", server.url), &second, &[]), 200);
    assert_eq!(status(&format!("{}/livez", server.url), &first, &[]), 0);
    assert!(!whoami(&first).status.success());
    // A broken renewal keeps the certificate in use.
    std::fs::write(crt, "not a certificate").expect("write");
    hup(server.child.id());
    assert_eq!(status(&format!("{}/livez", server.url), &second, &[]), 200);
    assert!(whoami(&second).status.success());
}

/// `GET url+path` with `token`, as a proxy forwarding for `client` sends it: the status.
fn forwarded(url: &str, path: &str, token: &str, client: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", &format!("X-Forwarded-For: {client}")])
        .arg(format!("{url}{path}"))
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Behind a trusted proxy, a client guessing tokens is refused on its own: another client
/// behind the same proxy goes on, the probes answer it too, and the access log names each
/// client and identity. Without the proxy trusted, the header is ignored: everyone behind
/// it shares one address, as before.
#[test]
fn clients_behind_a_trusted_proxy_are_told_apart() {
    let db = TestDb::new(Backend::Sqlite);
    let log = db.dir().join("server.log");
    let server = spawn_server(
        &db.url,
        &db.dir(),
        true,
        &[
            "--trusted-proxy",
            "127.0.0.0/8",
            "--auth-failure-limit",
            "3",
        ],
        Some(&log),
    );
    let token = server.token.clone().expect("admin token");
    let get = |path: &str, token: &str, client: &str| forwarded(&server.url, path, token, client);
    for _ in 0..3 {
        assert_eq!(get("/v1/whoami", "andon_wrong", "203.0.113.9"), "401");
    }
    assert_eq!(get("/v1/whoami", "andon_wrong", "203.0.113.9"), "429");
    assert_eq!(get("/v1/whoami", &token, "203.0.113.9"), "429");
    assert_eq!(get("/readyz", "", "203.0.113.9"), "200");
    assert_eq!(get("/v1/whoami", &token, "203.0.113.10"), "200");
    let lines = std::fs::read_to_string(&log).expect("log");
    let done: Vec<serde_json::Value> = lines
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "request done")
        .collect();
    assert!(
        done.iter().any(|v| v["fields"]["client"] == "203.0.113.10"
            && v["fields"]["identity"] == "admin"
            && v["fields"]["status"] == 200),
        "{done:?}"
    );
    assert!(
        done.iter().any(|v| v["fields"]["client"] == "203.0.113.9"
            && v["fields"]["identity"] == "-"
            && v["fields"]["status"] == 401),
        "{done:?}"
    );

    // Not trusted: the same headers change nothing; the guesser locks everyone out.
    drop(server);
    let db = TestDb::new(Backend::Sqlite);
    let server = start_with(&db, true, &["--auth-failure-limit", "3"]);
    let token = server.token.clone().expect("admin token");
    let get = |path: &str, token: &str, client: &str| forwarded(&server.url, path, token, client);
    for _ in 0..3 {
        assert_eq!(get("/v1/whoami", "andon_wrong", "203.0.113.9"), "401");
    }
    assert_eq!(get("/v1/whoami", &token, "203.0.113.10"), "429");
}
