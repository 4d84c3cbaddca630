//! What the topics share: a signed envelope, `andon verify` as an auditor runs it, the
//! application `pay` with its pipeline, an attacker with database access, a server guard.

use std::process::Command;

use andon_client::Client;
use andon_domain::{Sha256Digest, SigningKey, Statement};
use andon_testkit::{Backend, TestDb};

use crate::common::*;

pub fn envelope(key: &SigningKey, n: u32) -> Vec<u8> {
    let st = Statement::new(
        vec![("svc".into(), Sha256Digest::of(&n.to_be_bytes()))],
        "https://example.com/build/v1".into(),
        serde_json::json!({ "build": n }),
    );
    st.sign(key)
}

pub fn verify(args: &[&str], url: &str, token: &str) -> (bool, serde_json::Value) {
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

/// The application `pay` and its pipeline identity `ci-pay`, no key yet: the admin's
/// client and the pipeline's issued token.
pub fn pay_app(url: &str, token: &str) -> (Client, andon_domain::api::IssuedToken) {
    let admin = Client::new(url, Some(token.to_owned()));
    admin.create_application("pay", "payments").expect("app");
    let issued = admin
        .create_identity("ci-pay", "pipeline", &["pay".into()])
        .expect("identity");
    (admin, issued)
}

/// How many evidence records application `app` holds (up to a page of 50).
pub fn evidence_count(admin: &Client, app: &str) -> usize {
    admin
        .list_evidence(&andon_client::EvidenceQuery {
            app: Some(app.into()),
            ..Default::default()
        })
        .expect("list")
        .evidence
        .len()
}

/// The application `pay` and its pipeline identity `ci-pay` with a key made from `seed`:
/// the admin's client, the pipeline's issued token, and its key.
pub fn pay_pipeline(
    url: &str,
    token: &str,
    seed: u8,
) -> (Client, andon_domain::api::IssuedToken, SigningKey) {
    let (admin, issued) = pay_app(url, token);
    let key = SigningKey::from_seed([seed; 32]);
    admin
        .register_key("ci-pay", &key.public_key().to_ledger_text())
        .expect("key");
    (admin, issued, key)
}

/// What an attacker with database access does: drops the trigger that protects `table`'s
/// rows and flips one byte of `column` in the row `id`.
pub fn tamper(db: &TestDb, b: Backend, table: &str, column: &str, id: &str) {
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

pub struct Guard(Server);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

pub fn server_guard(s: Server) -> Guard {
    Guard(s)
}

/// An application of `team` with its pipeline identity `ci-<app>`, whose key `andon keygen`
/// wrote and `andon identity add-key` registered, as an operator sets them up: the
/// pipeline's token and the key file's path.
pub fn cli_pipeline(
    db: &TestDb,
    url: &str,
    token: &str,
    app: &str,
    team: &str,
) -> (String, String) {
    let admin = Client::new(url, Some(token.to_owned()));
    admin.create_application(app, team).expect("app");
    let issued = admin
        .create_identity(&format!("ci-{app}"), "pipeline", &[app.to_owned()])
        .expect("identity");
    let key = db.dir().join(format!("ci-{app}.key"));
    let key = key.to_str().expect("path").to_owned();
    assert!(cli(url, token, &["keygen", "--out", &key]).status.success());
    let added = cli(
        url,
        token,
        &["identity", "add-key", &format!("ci-{app}"), "--key", &key],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    (issued.token, key)
}
