//! Two keys sign through the CLI: an admin asks for two of an application's keys with
//! `andon app signing-policy`, and a pipeline meets it with `andon attest --key A --key B`.

use andon_domain::Sha256Digest;
use andon_testkit::{Backend, TestDb};

use crate::common::*;

#[test]
fn a_threshold_of_two_keys_is_set_and_met_with_the_cli() {
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (admin, issued) = crate::binary::helpers::pay_app(&server.url, &token);
    let run = |tok: &str, args: &[&str]| cli(&server.url, tok, args);
    let ed = db.dir().join("ed.key");
    let ec = db.dir().join("ec.key");
    let (ed, ec) = (ed.to_str().expect("path"), ec.to_str().expect("path"));
    for (key, algorithm) in [(ed, "ed25519"), (ec, "ecdsa-p256")] {
        let made = run(&token, &["keygen", "--algorithm", algorithm, "--out", key]);
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let added = run(&token, &["identity", "add-key", "ci-pay", "--key", key]);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }
    let set = run(
        &token,
        &[
            "--output",
            "json",
            "app",
            "signing-policy",
            "pay",
            "--threshold",
            "2",
        ],
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let set: serde_json::Value = serde_json::from_slice(&set.stdout).expect("json");
    assert_eq!(set["threshold"], 2);

    let predicate = db.dir().join("predicate.json");
    std::fs::write(&predicate, br#"{"checked": true}"#).expect("write");
    let predicate = predicate.to_str().expect("path");
    let attest = |n: u8, keys: &[&str]| {
        let subject = format!("registry.example.com/pay@{}", Sha256Digest::of(&[n]));
        let mut args = vec!["attest", "generic", "--app", "pay", "--subject", &subject];
        for k in keys {
            args.extend(["--key", k]);
        }
        args.extend([
            "--predicate-type",
            "https://example.com/check/v1",
            "--predicate",
            predicate,
        ]);
        run(&issued.token, &args)
    };
    let one = attest(1, &[ec]);
    let stderr = String::from_utf8_lossy(&one.stderr);
    assert!(!one.status.success(), "one key met a threshold of two");
    assert!(
        stderr.contains("below_threshold") || stderr.contains("needs 2"),
        "{stderr}"
    );
    let two = attest(2, &[ec, ed]);
    assert!(
        two.status.success(),
        "{}",
        String::from_utf8_lossy(&two.stderr)
    );
    let listed = admin
        .list_evidence(&andon_client::EvidenceQuery {
            app: Some("pay".into()),
            ..Default::default()
        })
        .expect("list");
    assert_eq!(
        listed.evidence.len(),
        1,
        "the refused envelope was recorded"
    );
    let shown = admin.show_evidence(&listed.evidence[0].id).expect("show");
    let mut signers = vec![shown.keyid];
    signers.extend(shown.cosigners);
    assert_eq!(signers.len(), 2, "{signers:?}");
}
