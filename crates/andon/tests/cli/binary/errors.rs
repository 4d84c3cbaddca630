//! Errors a person can act on: what was tried, and where.

use std::process::Command;

use andon_testkit::{Backend, TestDb};

use crate::common::*;

/// A second server on the same SQLite database refuses to start, naming the first
/// process; the first keeps serving.
#[test]
fn a_second_server_on_one_sqlite_file_refuses_naming_the_first() {
    let db = TestDb::new(Backend::Sqlite);
    let first = start(&db, true);
    let second = serve_command(&db.url, &db.dir())
        .output()
        .expect("andon serve");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another andon serve (process {}) is using",
            first.child.id()
        )),
        "{stderr}"
    );
    let health = Command::new(BIN)
        .args([
            "--server",
            &first.url,
            "--token",
            first.token.as_deref().expect("token"),
        ])
        .args(["app", "list"])
        .output()
        .expect("andon app list");
    assert!(health.status.success(), "the first server stopped serving");
}

/// A server that does not answer is named, with the flag that chose it; a key file that
/// is not there is named too. Both are errors (2), not verdicts.
#[test]
fn an_unreachable_server_and_a_missing_key_are_named() {
    // Port 1 on loopback: nothing listens there.
    let out = Command::new(BIN)
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--token",
            "t",
            "evidence",
            "list",
        ])
        .output()
        .expect("andon");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the server at http://127.0.0.1:1 (--server, ANDON_SERVER)")
            && stderr.contains("Connection refused"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("absent.key");
    let report = dir.path().join("junit.xml");
    std::fs::write(&report, "<testsuites/>").expect("report");
    let out = Command::new(BIN)
        .args([
            "--server",
            "http://127.0.0.1:1",
            "--token",
            "t",
            "attest",
            "junit",
        ])
        .args(["--app", "pay", "--subject"])
        .arg(format!("pay@sha256:{}", "a".repeat(64)))
        .arg("--key")
        .arg(&key)
        .arg("--file")
        .arg(&report)
        .output()
        .expect("andon");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&key.display().to_string()),
        "the missing key file is not named: {stderr}"
    );
}

/// Keys of the kinds people hold (made by OpenSSL and OpenSSH, tests/fixtures/keys) are
/// registered as they are, a private key by its public half; the private keys whose public
/// half Andon cannot derive are named for what they are, with what to register instead, and
/// nothing is registered for them.
#[test]
fn keys_people_hold_are_registered_and_the_others_named() {
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let add = |file: &str| {
        cli(
            &server.url,
            &token,
            &[
                "--output",
                "json",
                "identity",
                "add-key",
                "admin",
                "--key",
                fixtures.join(file).to_str().expect("path"),
            ],
        )
    };
    for (file, public) in [
        ("rsa.pub", "rsa.pub"),
        ("ec-p256.key", "ec-p256.pub"),
        ("openssh-ed25519.pub", "openssh-ed25519.pub"),
    ] {
        let out = add(file);
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let view: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let expected = andon_domain::PublicKey::parse(
            &std::fs::read_to_string(fixtures.join(public)).expect("read"),
        )
        .expect("parse");
        assert_eq!(view["keyid"], expected.key_id().to_string(), "{file}");
    }
    let before = cli(&server.url, &token, &["identity", "show", "admin"]);
    for (file, says) in [
        ("rsa.key", "register its public half"),
        ("openssh-ed25519", "the `.pub` file"),
    ] {
        let out = add(file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file} was accepted");
        assert!(stderr.contains(says), "{file}: {stderr}");
    }
    let after = cli(&server.url, &token, &["identity", "show", "admin"]);
    assert_eq!(before.stdout, after.stdout, "a refused key was registered");
}

/// The server's log reads as text for a person (`--log-format text`, or a terminal) and as
/// JSON for a log pipeline (the default when standard error is not a terminal); the first
/// start's migrations are one line, not one per migration.
#[test]
fn server_logs_are_text_for_people_and_json_for_pipelines() {
    use std::io::{BufRead as _, BufReader};
    for (format, json) in [(Some("text"), false), (None, true)] {
        let db = TestDb::new(Backend::Sqlite);
        let mut c = serve_command(&db.url, &db.dir());
        if let Some(f) = format {
            c.args(["--log-format", f]);
        }
        let mut child = c
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("serve");
        let stderr = child.stderr.take().expect("stderr");
        // Read until the migrations' line; a server that never logs it is killed after
        // a while, which ends the reading.
        let pid = child.id();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if done_rx
                .recv_timeout(std::time::Duration::from_secs(30))
                .is_err()
            {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        });
        let mut lines = Vec::new();
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = l.contains("database migrated");
            lines.push(l);
            if done || lines.len() > 40 {
                break;
            }
        }
        let _ = done_tx.send(());
        let _ = watchdog.join();
        let _ = child.kill();
        let _ = child.wait();
        let migrated: Vec<&String> = lines.iter().filter(|l| l.contains("migrat")).collect();
        assert_eq!(migrated.len(), 1, "{format:?}: {lines:#?}");
        assert_eq!(
            migrated[0].starts_with('{'),
            json,
            "{format:?}: {}",
            migrated[0]
        );
        if !json {
            assert!(
                migrated[0].contains("INFO") && migrated[0].contains("database migrated"),
                "{}",
                migrated[0]
            );
        }
    }
}

/// Completion scripts for the three shells people use, from the command definition itself:
/// each names the verbs and their flags.
#[test]
fn completions_are_printed_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "_andon()"),
        ("zsh", "#compdef andon"),
        ("fish", "complete -c andon"),
    ] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .expect("andon completions");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(300)]
        );
        for word in ["serve", "gate", "emergency", "whole-environment"] {
            assert!(script.contains(word), "{shell} does not complete {word}");
        }
    }
    let bad = Command::new(BIN)
        .args(["completions", "powershell-7"])
        .output()
        .expect("andon completions");
    assert_eq!(bad.status.code(), Some(2));
}

/// A profile file gives the server, token and output a person uses most: named with
/// --profile (or `default`), overridden by a flag, and a missing one said so.
#[test]
fn a_profile_gives_the_server_and_token() {
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let config = db.dir().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[default]\nserver = \"http://127.0.0.1:1\"\n\n[here]\nserver = \"{}\"\ntoken = \"{token}\"\noutput = \"json\"\n",
            server.url
        ),
    )
    .expect("config");
    let andon = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("ANDON_CONFIG", &config)
            .env_remove("ANDON_SERVER")
            .env_remove("ANDON_TOKEN")
            .env_remove("ANDON_PROFILE")
            .output()
            .expect("andon")
    };
    let listed = andon(&["--profile", "here", "app", "list"]);
    let out = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(
        out.trim_start().starts_with('['),
        "the profile's output is json: {out}"
    );
    // The default profile points nowhere; a flag wins over the profile.
    let refused = andon(&["app", "list"]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("http://127.0.0.1:1"));
    let flagged = andon(&[
        "--profile",
        "here",
        "--server",
        "http://127.0.0.1:1",
        "app",
        "list",
    ]);
    assert!(String::from_utf8_lossy(&flagged.stderr).contains("http://127.0.0.1:1"));
    let missing = andon(&["--profile", "prod", "app", "list"]);
    let said = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{said}");
    assert!(
        said.contains("no profile [prod]") && said.contains("default, here"),
        "{said}"
    );
}

/// Each verb's help lists the flags that apply to it: the server's own for `serve`, the
/// client flags for a client verb. The client flags work before the verb and after it, the
/// one after it winning.
#[test]
fn help_lists_only_the_flags_a_verb_takes() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().expect("andon --help");
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let serve = help(&["serve", "--help"]);
    assert!(serve.contains("--data-dir"), "{serve}");
    // No flag shows an empty default, and the database has one name everywhere.
    assert!(!serve.contains("[default: ]"), "{serve}");
    for verb in [
        &["serve", "--help"][..],
        &["backup", "--help"],
        &["restore", "--help"],
    ] {
        let text = help(verb);
        assert!(text.contains("ANDON_DATABASE_URL"), "{verb:?}: {text}");
    }
    for flag in ["--server", "--token", "--profile", "--output"] {
        assert!(!serve.contains(flag), "serve --help lists {flag}:\n{serve}");
    }
    let keygen = help(&["keygen", "--help"]);
    assert!(
        keygen.contains("--output") && !keygen.contains("--server"),
        "{keygen}"
    );
    let list = help(&["app", "list", "--help"]);
    for flag in ["--server", "--token", "--profile", "--output"] {
        assert!(list.contains(flag), "app list --help lacks {flag}:\n{list}");
    }
    assert!(list.contains("Usage: andon app list [OPTIONS]"), "{list}");
    let tried = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env_remove("ANDON_SERVER")
            .env_remove("ANDON_PROFILE")
            .env("ANDON_CONFIG", "/nonexistent/andon.toml")
            .output()
            .expect("andon");
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let before = tried(&["--server", "http://127.0.0.1:1", "app", "list"]);
    assert!(before.contains("http://127.0.0.1:1 "), "{before}");
    let after = tried(&["app", "list", "--server", "http://127.0.0.1:2"]);
    assert!(after.contains("http://127.0.0.1:2 "), "{after}");
    let both = tried(&[
        "--server",
        "http://127.0.0.1:1",
        "app",
        "list",
        "--server",
        "http://127.0.0.1:3",
    ]);
    assert!(both.contains("http://127.0.0.1:3 "), "{both}");
}

/// A report over the JSON body limit is uploaded once and named by digest, so it is
/// recorded; one over the server's report limit gets the server's own answer (413, the
/// limit and how to raise it), not a broken pipe, and nothing is recorded.
#[test]
fn a_large_report_is_uploaded_and_one_over_the_servers_limit_gets_its_answer() {
    let db = TestDb::new(Backend::Sqlite);
    let server = start_with(&db, true, &["--max-report-bytes", "8000000"]);
    let token = server.token.clone().expect("admin token");
    let admin = andon_client::Client::new(&server.url, Some(token.clone()));
    admin.create_application("pay", "payments").expect("app");
    let issued = admin
        .create_identity("ci-pay", "pipeline", &["pay".into()])
        .expect("identity");
    let dir = db.dir();
    let key = dir.join("ci.key");
    let made = Command::new(BIN)
        .args([
            "keygen",
            "--out",
            key.to_str().expect("path"),
            "--output",
            "json",
        ])
        .output()
        .expect("keygen");
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).expect("keygen json");
    admin
        .register_key("ci-pay", made["public_key"].as_str().expect("public key"))
        .expect("key");
    let bom = |n: usize| {
        let components: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({"type": "library", "name": format!("component-{i}"),
                    "version": "1.0.0", "purl": format!("pkg:npm/component-{i}@1.0.0")})
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components}))
            .expect("json")
    };
    let subject = format!("app@sha256:{}", "ab".repeat(32));
    let attest = |file: &std::path::Path| {
        cli(
            &server.url,
            &issued.token,
            &[
                "--output",
                "json",
                "attest",
                "sbom",
                "--app",
                "pay",
                "--subject",
                &subject,
                "--key",
                key.to_str().expect("path"),
                "--file",
                file.to_str().expect("path"),
            ],
        )
    };
    // Over 4 MiB: base64-encoded twice it would be about three times the body limit.
    let file = dir.join("big.cdx.json");
    let big = bom(60_000);
    std::fs::write(&file, &big).expect("write");
    assert!(big.len() > 4 << 20 && big.len() < 8_000_000);
    let out = attest(&file);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let receipt: serde_json::Value = serde_json::from_slice(&out.stdout).expect("receipt");
    let view = admin
        .show_evidence(receipt["id"].as_str().expect("id"))
        .expect("show");
    assert_eq!(view.summary.expect("summary")["components"], 60_000);
    let digest: andon_domain::Sha256Digest =
        format!("sha256:{}", andon_domain::Sha256Digest::of(&big).hex())
            .parse()
            .expect("digest");
    assert_eq!(admin.report(&digest).expect("uploaded"), big);

    // Over the report limit.
    let file = dir.join("bigger.cdx.json");
    std::fs::write(&file, bom(100_000)).expect("write");
    let before = admin.ledger_info().expect("info").size;
    let out = attest(&file);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(!said.contains("Broken pipe"), "{said}");
    assert!(
        said.contains("413") && said.contains("--max-report-bytes"),
        "{said}"
    );
    assert_eq!(
        admin.ledger_info().expect("info").size,
        before,
        "nothing recorded"
    );
}
