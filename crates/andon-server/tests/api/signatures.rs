//! Signatures as pipelines make them, through the HTTP path on both backends: keys of every
//! supported algorithm and form registered and verified, DSSE envelopes written by the
//! in-toto/securesystemslib reference implementation (their own keyid form) and by OpenSSL
//! keys (cosign's form: ECDSA P-256, no keyid), several signatures per envelope and an
//! application's threshold of them. What is
//! refused writes nothing. The key and envelope fixtures were made by the real tools, see
//! `andon-domain/tests/fixtures/keys/README.md`.

use crate::common::{Harness, code, envelope};
use andon_client::ClientError;
use andon_domain::{
    Envelope, IN_TOTO_PAYLOAD_TYPE, KeyAlgorithm, PrivateKey, PublicKey, Sha256Digest, Signer,
    Statement,
};
use andon_testkit::{Backend, both_backends};

fn key_fixture(name: &str) -> String {
    let path = format!(
        "{}/../andon-domain/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn statement(n: u32) -> Statement {
    Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(&n.to_be_bytes()))],
        "https://example.com/test/v1".into(),
        serde_json::json!({ "n": n }),
    )
}

/// An envelope signed by each of `keys` in turn, with the keyid each names (`None`: no
/// keyid at all).
fn signed_by(n: u32, keys: &[(&dyn Signer, Option<&str>)]) -> Vec<u8> {
    let payload = serde_json::to_vec(&statement(n)).expect("json");
    let mut env = serde_json::json!({
        "payload": base64_of(&payload),
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "signatures": [],
    });
    for (key, keyid) in keys {
        let sig = key.sign_message(&andon_domain::pae(IN_TOTO_PAYLOAD_TYPE, &payload));
        let mut s = serde_json::json!({ "sig": base64_of(&sig) });
        if let Some(id) = keyid {
            s["keyid"] = (*id).into();
        }
        env["signatures"].as_array_mut().expect("array").push(s);
    }
    serde_json::to_vec(&env).expect("json")
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn register(h: &Harness, text: &str) -> andon_domain::api::KeyView {
    h.admin.register_key("ci-pay", text).expect("registered")
}

fn keys_of_every_supported_form_are_registered_with_their_algorithm(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let _ = h.pipeline("pay");
    for (file, algorithm) in [
        ("p256.pub", "ecdsa-p256"),
        ("p384.pub", "ecdsa-p384"),
        ("rsa2048.pub", "rsa"),
        ("rsapss2048.pub", "rsa-pss"),
        ("ssh-ecdsa256.pub", "ecdsa-p256"),
        ("ssh-rsa3072.pub", "rsa"),
        ("ssh-ed25519.pub", "ed25519"),
    ] {
        let text = key_fixture(file);
        let view = register(&h, &text);
        let expected = PublicKey::parse(&text).expect("parse");
        assert_eq!(
            (view.keyid.as_str(), view.algorithm.as_str()),
            (expected.key_id().to_string().as_str(), algorithm),
            "{file}"
        );
    }
    let listed = h.admin.show_identity("ci-pay").expect("identity");
    assert!(listed.keys.iter().any(|k| k.algorithm == "rsa-pss"));

    // Keys Andon does not accept are refused saying why, and nothing is written.
    let before = h.counts();
    for (file, says) in [
        ("rsa1024.pub", "1024 bits"),
        ("p521.pub", "unsupported elliptic curve"),
        ("p256.key", "private key"),
    ] {
        match h.admin.register_key("ci-pay", &key_fixture(file)) {
            Err(ClientError::Api {
                status,
                code,
                message,
                ..
            }) => {
                assert_eq!((status, code.as_str()), (400, "malformed_key"), "{file}");
                assert!(message.contains(says), "{file}: {message}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
    // The registered RSA-PSS key again as a plain RSA key: one key, one id, or it would
    // count twice toward a threshold.
    let twin = PublicKey::parse(&key_fixture("rsapss2048.pkcs1.pub")).expect("parse");
    assert_ne!(
        twin.key_id(),
        PublicKey::parse(&key_fixture("rsapss2048.pub"))
            .expect("parse")
            .key_id()
    );
    match h
        .admin
        .register_key("ci-pay", &key_fixture("rsapss2048.pkcs1.pub"))
    {
        Err(ClientError::Api {
            status, message, ..
        }) => {
            assert_eq!(status, 409);
            assert!(message.contains("already registered"), "{message}");
        }
        other => panic!("a twin key was registered: {other:?}"),
    }
    assert_eq!(h.counts(), before, "a refused key wrote something");
}

fn envelopes_from_the_reference_implementation_and_openssl_keys_are_accepted(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, _) = h.pipeline("pay");
    // securesystemslib's envelopes name their keys by securesystemslib's own keyid.
    for scheme in ["ecdsa", "ed25519", "rsa"] {
        let key = register(&h, &key_fixture(&format!("sslib-{scheme}.pub")));
        let env = key_fixture(&format!("sslib-{scheme}.json"));
        let r = ci
            .submit_evidence("pay", Some("sslib"), None, env.as_bytes())
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
        let shown = h
            .admin
            .show_evidence(r.id.as_deref().expect("id"))
            .expect("show");
        assert_eq!(
            (shown.keyid, shown.signer.as_str()),
            (key.keyid, "ci-pay"),
            "{scheme}"
        );
    }
    // An OpenSSL P-256 key signs the way cosign does: DER ECDSA signature, no keyid.
    let p256 = PrivateKey::from_pem(&key_fixture("p256.key")).expect("key");
    let registered = register(&h, &key_fixture("p256.pub"));
    let r = ci
        .submit_evidence("pay", None, None, &signed_by(1, &[(&p256, None)]))
        .expect("accepted without keyid");
    let shown = h
        .admin
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show");
    assert_eq!(shown.keyid, registered.keyid);
}

fn several_signatures_record_the_cosigners_and_the_unverified(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, ed) = h.pipeline("pay");
    let p256 = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    register(&h, &p256.public_key().to_pem());
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let env = signed_by(
        2,
        &[
            (&stranger, Some("someone-else")),
            (&ed, Some(ed.key_id().as_str())),
            (&p256, None),
        ],
    );
    let r = ci
        .submit_evidence("pay", None, None, &env)
        .expect("accepted");
    let shown = h
        .admin
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show");
    assert_eq!(shown.keyid, ed.key_id().to_string());
    assert_eq!(shown.cosigners, vec![p256.key_id().to_string()]);
    assert_eq!(shown.unverified_signatures, vec!["someone-else".to_owned()]);
    // The ledger entry records the same, for an auditor who trusts no view.
    let page = h.admin.entries(r.ledger_index, 1).expect("entry");
    let entry: andon_domain::LedgerEntry =
        serde_json::from_slice(&base64_decode(&page.entries[0].entry)).expect("entry");
    assert_eq!(entry.body["cosigners"][0], p256.key_id().to_string());
    assert_eq!(entry.body["unverified_signatures"][0], "someone-else");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

fn envelopes_no_registered_key_verifies_are_refused_and_write_nothing(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, ed) = h.pipeline("pay");
    let (_, web_key) = h.pipeline("web");
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let registered_elsewhere = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    h.admin
        .register_key("ci-web", &registered_elsewhere.public_key().to_pem())
        .expect("key");
    let many: Vec<(&dyn Signer, Option<&str>)> =
        (0..17).map(|_| (&ed as &dyn Signer, None)).collect();
    let mut ed_by_stranger_id: serde_json::Value =
        serde_json::from_slice(&envelope(&ed, 3)).expect("json");
    ed_by_stranger_id["signatures"][0]["sig"] =
        base64_of(&stranger.sign_message(b"something else")).into();
    let before = h.counts();
    for (what, body, status, expected) in [
        (
            "an unregistered key, no keyid",
            signed_by(4, &[(&stranger, None)]),
            403,
            "unknown_key",
        ),
        (
            "a key of another application's pipeline, no keyid",
            signed_by(5, &[(&registered_elsewhere, None)]),
            403,
            "unknown_key",
        ),
        (
            "a key of another application's pipeline, named",
            signed_by(6, &[(&web_key, Some(web_key.key_id().as_str()))]),
            403,
            "key_not_allowed",
        ),
        (
            "a registered keyid over a signature it did not make",
            serde_json::to_vec(&ed_by_stranger_id).expect("json"),
            400,
            "bad_signature",
        ),
        (
            "17 signatures",
            signed_by(7, &many),
            400,
            "malformed_envelope",
        ),
    ] {
        assert_eq!(
            code(ci.submit_evidence("pay", None, None, &body)),
            (status, expected.to_owned()),
            "{what}"
        );
    }
    assert_eq!(h.counts(), before, "a refused envelope wrote something");
    let _ = Envelope::parse(&envelope(&ed, 1)).expect("the helper's envelope parses");
}

/// The API error of any call.
fn error_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn an_applications_threshold_of_keys_must_sign_and_a_key_counts_once(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, ed) = h.pipeline("pay");
    let p256 = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    register(&h, &p256.public_key().to_pem());

    // Requests that set nothing.
    let before = h.counts();
    for (who, app, threshold, expected) in [
        (&h.admin, "pay", 0, (400, "invalid_threshold")),
        (&h.admin, "pay", 17, (400, "invalid_threshold")),
        (&h.admin, "nope", 2, (404, "not_found")),
        (&ci, "pay", 2, (403, "forbidden")),
    ] {
        assert_eq!(
            error_of(who.set_signing_policy(app, threshold)),
            (expected.0, expected.1.to_owned()),
            "{app} {threshold}"
        );
    }
    assert_eq!(h.counts(), before, "a refused policy wrote something");

    // One signature was enough until the policy says two.
    ci.submit_evidence("pay", None, None, &signed_by(1, &[(&ed, None)]))
        .expect("one signature, default threshold");
    let set = h.admin.set_signing_policy("pay", 2).expect("policy");
    assert_eq!(set.threshold, 2);
    let page = h.admin.entries(set.receipt.ledger_index, 1).expect("entry");
    let entry: andon_domain::LedgerEntry =
        serde_json::from_slice(&base64_decode(&page.entries[0].entry)).expect("entry");
    assert_eq!(entry.kind.as_str(), "application.signing_policy");
    assert_eq!(entry.body["threshold"], 2);

    let before = h.counts();
    for (what, body) in [
        ("one key", signed_by(2, &[(&ed, None)])),
        (
            "one key signing twice",
            signed_by(3, &[(&ed, None), (&ed, Some(ed.key_id().as_str()))]),
        ),
        (
            "one registered key and a stranger",
            signed_by(
                4,
                &[
                    (&ed, None),
                    (
                        &PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key"),
                        None,
                    ),
                ],
            ),
        ),
    ] {
        assert_eq!(
            code(ci.submit_evidence("pay", None, None, &body)),
            (403, "below_threshold".to_owned()),
            "{what}"
        );
    }
    assert_eq!(
        h.counts(),
        before,
        "an envelope below the threshold wrote something"
    );

    let r = ci
        .submit_evidence(
            "pay",
            None,
            None,
            &signed_by(5, &[(&p256, None), (&ed, None)]),
        )
        .expect("two keys");
    let shown = h
        .admin
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show");
    let mut signers = vec![shown.keyid.clone()];
    signers.extend(shown.cosigners);
    signers.sort();
    let mut expected = vec![ed.key_id().to_string(), p256.key_id().to_string()];
    expected.sort();
    assert_eq!(signers, expected);

    // Other applications keep the default, and the list says which is which.
    let (web, web_key) = h.pipeline("web");
    web.submit_evidence("web", None, None, &signed_by(6, &[(&web_key, None)]))
        .expect("web's threshold is one");
    let listed: Vec<(String, u64, Option<u64>)> = ci
        .list_applications()
        .expect("list")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap_or_default().to_owned(),
                a["signing_threshold"].as_u64().unwrap_or_default(),
                a["signing_policy_index"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("pay".to_owned(), 2, Some(set.receipt.ledger_index)),
            ("web".to_owned(), 1, None)
        ]
    );
}

both_backends!(
    an_applications_threshold_of_keys_must_sign_and_a_key_counts_once,
    keys_of_every_supported_form_are_registered_with_their_algorithm,
    envelopes_from_the_reference_implementation_and_openssl_keys_are_accepted,
    several_signatures_record_the_cosigners_and_the_unverified,
    envelopes_no_registered_key_verifies_are_refused_and_write_nothing,
);
