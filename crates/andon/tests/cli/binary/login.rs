//! `andon login`: a person signs in through a real OpenID provider with the device
//! authorization grant, enters the code at the provider, and the CLI keeps the session in
//! the profile (mode 0600); the next command runs as them, and signing in again after the
//! identity is disabled is refused.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use andon_client::Client;
use andon_domain::oidc::PersonRule;
use andon_testkit::oidc::{OidcProvider, ProviderConfig};
use andon_testkit::{Backend, TestDb};

use crate::binary::helpers::server_guard;
use crate::common::*;

#[test]
fn a_person_logs_in_with_a_device_code() {
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let admin_token = server.token.clone().expect("admin token");
    let idp = OidcProvider::start(&ProviderConfig {
        clients: vec![serde_json::json!({"client_id": "andon-cli"})],
        users: vec![serde_json::json!({
            "sub": "alice",
            "claims": {"email": "alice@example.com", "name": "Alice", "groups": ["release-approvers"]},
        })],
        ci_audiences: vec![],
    });
    let added = cli(
        &server.url,
        &admin_token,
        &[
            "oidc",
            "issuer",
            "add",
            "corp",
            "--issuer",
            &idp.issuer,
            "--audience",
            "andon-cli",
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    Client::new(&server.url, Some(admin_token.clone()))
        .set_person_rule(
            "approvers",
            &PersonRule {
                issuer: "corp".into(),
                claims: [("groups".to_owned(), "release-approvers".to_owned())].into(),
                role: "approver".into(),
                groups: vec!["cab".into()],
            },
        )
        .expect("rule");

    let config = db.dir().join("andon-config.toml");
    let mut login = Command::new(BIN)
        .args(["login", "--issuer", &idp.issuer, "--client-id", "andon-cli"])
        .env("ANDON_SERVER", &server.url)
        .env("ANDON_CONFIG", &config)
        .env_remove("ANDON_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("andon login");
    // The CLI says where to go and which code to enter; the person does so at the provider.
    let mut said = String::new();
    BufReader::new(login.stderr.take().expect("stderr"))
        .read_line(&mut said)
        .expect("the code");
    let (uri, code) = said
        .trim()
        .strip_prefix("To sign in, open ")
        .and_then(|r| r.split_once(" and enter the code "))
        .unwrap_or_else(|| panic!("unexpected prompt: {said}"));
    let base = uri.split('?').next().expect("uri");
    idp.approve_device(base, code, "alice");
    let done = login.wait_with_output().expect("login ends");
    let printed = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{printed}");
    assert!(printed.contains("signed in as alice"), "{printed}");

    // The session sits in the profile, readable by its owner only, and the next command
    // runs as alice without any token given.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&config)
            .expect("profile")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let text = std::fs::read_to_string(&config).expect("profile");
    assert!(
        text.contains("[default]") && text.contains("session_expires_at"),
        "{text}"
    );
    let me = Command::new(BIN)
        .args(["identity", "whoami"])
        .env("ANDON_CONFIG", &config)
        .env_remove("ANDON_SERVER")
        .env_remove("ANDON_TOKEN")
        .output()
        .expect("whoami");
    let me_said = String::from_utf8_lossy(&me.stdout);
    assert!(
        me.status.success(),
        "{}",
        String::from_utf8_lossy(&me.stderr)
    );
    assert!(me_said.starts_with("alice (approver)"), "{me_said}");
    let tokens = Client::new(&server.url, Some(admin_token))
        .list_tokens(Some("alice"))
        .expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].issued_by, "alice", "her own session");
    drop(server_guard(server));
}
