//! Single sign-on in a real browser: `andon serve --sso-issuer` with a real OpenID provider
//! (oidc-provider, `andon_testkit::oidc`) and Debian's headless Chromium driven by
//! playwright-core (`tests/browser/sso.mjs`). Alice signs in at the provider and lands on the
//! overview as herself; her session cookie reads but changes nothing; signing out revokes the
//! session in the ledger; bob, whom no person rule admits, is told so on the sign-in page. The
//! ledger then holds exactly that: alice created an approver in group cab, one session she
//! issued herself, revoked by her sign-out; no bob.
//!
//! The provider and Andon are on different sites, as an organisation's identity provider and
//! its Andon are: the provider at `127.0.0.1`, Andon at `localhost` (`--public-url`), so the
//! browser applies its cross-site cookie rules (`SameSite`) on the way back from the provider.
//!
//! SQLite only: the storage paths of sign-in are covered on both backends by andon-server's
//! `sso` tests. Needs what `.ci/browser.sh` and `.ci/oidc.sh` install, and fails (never skips)
//! without it.

use crate::common::*;

use andon_testkit::oidc::{OidcProvider, ProviderConfig};
use andon_testkit::{Backend, TestDb};
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

/// Andon's client at the provider.
const CLIENT_ID: &str = "andon-web";
const CLIENT_SECRET: &str = "s3cret";
/// The issuer's registered name (`--sso-issuer`).
const ISSUER: &str = "corp";
/// The host the browser (and the provider's redirect) reaches Andon at: another site than the
/// provider's `127.0.0.1`.
const PUBLIC_HOST: &str = "localhost";

/// `andon serve` with single sign-on, on a port chosen first: the public URL (and so the
/// callback registered at the provider) must be known when it starts. Its log goes to
/// `log`.
fn start_with_sso(db: &TestDb, log: &std::path::Path) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let public = format!("http://{PUBLIC_HOST}:{port}");
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database", &db.url, "--data-dir"])
        .arg(db.dir())
        .args(["--sso-issuer", ISSUER, "--sso-client-id", CLIENT_ID])
        .args(["--public-url", &public])
        .env("ANDON_SSO_CLIENT_SECRET", CLIENT_SECRET)
        .env("ANDON_GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log).expect("log file")))
        .spawn()
        .expect("spawn andon serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next().expect("a line").expect("utf-8");
    let url = line
        .strip_prefix("andon listening on ")
        .unwrap_or_else(|| {
            panic!(
                "not the listening line: {line:?}; the log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
        .to_owned();
    assert_eq!(url, format!("http://127.0.0.1:{port}"));
    let mut token = None;
    if let Some(Ok(l)) = lines.next()
        && l.starts_with("first start")
    {
        token = lines
            .next()
            .and_then(|l| l.ok())
            .and_then(|l| l.strip_prefix("ANDON_TOKEN=").map(str::to_owned));
    }
    std::thread::spawn(move || for _ in lines {});
    (Server { child, url, token }, public)
}

/// A JSON call to the API with the admin's token: its status and body.
fn api(method: &str, url: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = format!("Bearer {token}");
    let mut reply = match (method, body) {
        ("GET", None) => agent.get(url).header("Authorization", &auth).call(),
        ("PUT", Some(b)) => agent.put(url).header("Authorization", &auth).send_json(&b),
        ("POST", Some(b)) => agent.post(url).header("Authorization", &auth).send_json(&b),
        other => panic!("no such call here: {other:?}"),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = reply.status().as_u16();
    let text = reply.body_mut().read_to_string().expect("a body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

#[test]
fn a_person_signs_in_through_the_identity_provider_in_chromium() {
    crate::common::install_prerequisites("browser.sh");
    crate::common::install_prerequisites("oidc.sh");
    let deps =
        std::env::var("ANDON_BROWSER_DEPS").unwrap_or_else(|_| "/var/tmp/andon-browser".into());
    assert!(
        std::path::Path::new(&deps)
            .join("node_modules/playwright-core")
            .exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser tests need Chromium and playwright-core: run .ci/browser.sh"
    );
    let db = TestDb::new(Backend::Sqlite);
    let log = db.dir().join("serve.log");
    let (server, public) = start_with_sso(&db, &log);
    let admin = server.token.clone().expect("admin token");

    // The provider knows Andon's callback at its public URL, and two people: alice in the
    // release approvers, bob in none of the groups a rule names.
    let idp = OidcProvider::start(&ProviderConfig {
        clients: vec![json!({
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{public}/ui/sso/callback")],
            "post_logout_redirect_uris": [format!("{public}/ui/sign-in")],
        })],
        users: vec![
            json!({"sub": "alice", "claims": {
                "email": "alice@example.com", "name": "Alice", "groups": ["release-approvers"],
            }}),
            json!({"sub": "bob", "claims": {
                "email": "bob@example.com", "name": "Bob", "groups": ["contractors"],
            }}),
        ],
        ci_audiences: vec![],
    });

    // The admin registers the provider as the issuer --sso-issuer names, for Andon's client,
    // and a person rule: release approvers are approvers in group cab.
    let added = cli(
        &server.url,
        &admin,
        &[
            "oidc",
            "issuer",
            "add",
            ISSUER,
            "--issuer",
            &idp.issuer,
            "--audience",
            CLIENT_ID,
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let (status, rule) = api(
        "PUT",
        &format!("{}/v1/oidc/person-rules/approvers", server.url),
        &admin,
        Some(json!({
            "issuer": ISSUER,
            "claims": {"groups": "release-approvers"},
            "role": "approver",
            "groups": ["cab"],
        })),
    );
    assert_eq!(status, 200, "the person rule: {rule}");
    // The application the browser's script tries to request access to with the cookie alone.
    let (status, app) = api(
        "POST",
        &format!("{}/v1/applications", server.url),
        &admin,
        Some(json!({"name": "pay", "team": "payments"})),
    );
    assert!(status == 200 || status == 201, "the application: {app}");

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sso-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/sso.mjs");
    let run = Command::new("node")
        .arg(script)
        .env("ANDON_URL", &public)
        .env("ANDON_PROVIDER_URL", &idp.issuer)
        .env("SCREENSHOTS", &shots)
        .env("BROWSER_DEPS", &deps)
        .env("CHROMIUM", "/usr/bin/chromium")
        .output()
        .expect("node");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}\n{}\nAndon's log:\n{}\nthe provider's stderr:\n{}",
        String::from_utf8_lossy(&run.stderr),
        std::fs::read_to_string(&log).unwrap_or_default(),
        idp.stderr()
    );
    println!("{out}");
    let seen: Value = serde_json::from_str(out.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("sso.mjs's last line is not JSON ({e}): {out}"));
    assert_eq!(seen["ok"], true, "{seen}");
    for name in ["sso-01-signed-in", "sso-02-signed-out", "sso-03-refused"] {
        let png = shots.join(format!("{name}.png"));
        let size = std::fs::metadata(&png)
            .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
            .len();
        assert!(size > 5_000, "{} is only {size} bytes", png.display());
    }

    // What the ledger says: alice, created by her first sign-in, an approver in group cab.
    let (status, alice) = api(
        "GET",
        &format!("{}/v1/identities/alice", server.url),
        &admin,
        None,
    );
    assert_eq!(status, 200, "alice's identity: {alice}");
    assert_eq!(alice["identity"]["role"], "approver", "{alice}");
    assert_eq!(alice["identity"]["groups"], json!(["cab"]), "{alice}");
    // One session, hers, ended by her sign-out.
    let (status, tokens) = api(
        "GET",
        &format!("{}/v1/tokens?identity=alice", server.url),
        &admin,
        None,
    );
    assert_eq!(status, 200, "{tokens}");
    let tokens = tokens.as_array().expect("a list of tokens");
    assert_eq!(tokens.len(), 1, "exactly one session: {tokens:?}");
    let session = &tokens[0];
    assert_eq!(session["identity"], "alice", "{session}");
    assert_eq!(
        session["issued_by"], "alice",
        "she issued it herself: {session}"
    );
    assert_eq!(session["self_issued"], true, "{session}");
    assert_eq!(
        session["revoked"]["reason"], "signed out",
        "revoked by her sign-out: {session}"
    );
    assert_eq!(session["revoked"]["by"], "alice", "{session}");
    // Nobody let bob in.
    let (status, bob) = api(
        "GET",
        &format!("{}/v1/identities/bob", server.url),
        &admin,
        None,
    );
    assert_eq!(status, 404, "no identity bob: {bob}");
}
