//! Keys and signatures written by real tools (OpenSSL 3.0, OpenSSH's ssh-keygen, the
//! in-toto/securesystemslib reference implementation): see `fixtures/keys/README.md`.

use andon_domain::{
    Algorithm, DomainError, Envelope, KeyAlgorithm, PrivateKey, PublicKey, Signer as _, SigningKey,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("utf-8")
}

fn key(name: &str) -> PublicKey {
    PublicKey::parse(&text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn refusal(name: &str) -> String {
    match PublicKey::parse(&text(name)) {
        Ok(k) => panic!("{name} should be refused, read as {k:?}"),
        Err(DomainError::MalformedKey(m)) => m,
        Err(e) => panic!("{name}: unexpected {e:?}"),
    }
}

#[test]
fn openssl_keys_of_every_supported_algorithm_verify_their_own_signatures() {
    let message = fixture("message.bin");
    let mut changed = message.clone();
    changed[0] ^= 1;
    for (public, signature, algorithm, bits) in [
        ("ed25519.pub", "ed25519.sig", Algorithm::Ed25519, 256),
        ("p256.pub", "p256.sig", Algorithm::EcdsaP256, 256),
        ("p384.pub", "p384.sig", Algorithm::EcdsaP384, 384),
        (
            "rsa2048.pub",
            "rsa2048-pkcs1-sha256.sig",
            Algorithm::Rsa,
            2048,
        ),
        (
            "rsa2048.pub",
            "rsa2048-pss-sha512.sig",
            Algorithm::Rsa,
            2048,
        ),
        (
            "rsa2048.pkcs1.pub",
            "rsa2048-pkcs1-sha256.sig",
            Algorithm::Rsa,
            2048,
        ),
        (
            "rsapss2048.pub",
            "rsapss2048-sha256.sig",
            Algorithm::RsaPss,
            2048,
        ),
    ] {
        let k = key(public);
        let sig = fixture(signature);
        assert_eq!((k.algorithm(), k.bits()), (algorithm, bits), "{public}");
        assert!(k.verify(&message, &sig), "{public} verifies {signature}");
        assert!(
            !k.verify(&changed, &sig),
            "{public}: a changed message fails"
        );
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(
            !k.verify(&message, &bad),
            "{public}: a changed signature fails"
        );
    }
    // A signature verifies only with its own key.
    assert!(!key("p384.pub").verify(&message, &fixture("p256.sig")));
    assert!(!key("p256.pub").verify(&message, &fixture("ed25519.sig")));
}

#[test]
fn a_key_has_one_id_whatever_form_it_was_registered_in() {
    assert_eq!(
        key("rsa2048.pub").key_id(),
        key("rsa2048.pkcs1.pub").key_id()
    );
    assert_eq!(
        key("ssh-ecdsa256.pub").key_id(),
        key("ssh-ecdsa256.pem.pub").key_id()
    );
    assert_eq!(
        key("ssh-rsa3072.pub").key_id(),
        key("ssh-rsa3072.pem.pub").key_id()
    );
    assert_eq!(key("ssh-rsa3072.pub").bits(), 3072);
    assert_eq!(key("ssh-ed25519.pub").algorithm(), Algorithm::Ed25519);
    // The ledger's form reads back as the same key.
    for name in [
        "ed25519.pub",
        "p256.pub",
        "p384.pub",
        "rsa2048.pub",
        "rsapss2048.pub",
    ] {
        let k = key(name);
        assert_eq!(
            PublicKey::parse(&k.to_ledger_text()).expect("again"),
            k,
            "{name}"
        );
        assert_eq!(PublicKey::parse(&k.to_pem()).expect("pem"), k, "{name}");
    }
    // An Ed25519 key keeps the id Andon always gave it: the SHA-256 of its 32 raw bytes.
    let ed = key("ed25519.pub");
    let raw = ed.ed25519_bytes().expect("raw");
    assert_eq!(
        ed.key_id().to_string(),
        andon_domain::Sha256Digest::of(&raw).hex()
    );
}

#[test]
fn unsupported_keys_are_refused_saying_what_they_are() {
    assert!(refusal("rsa1024.pub").contains("1024 bits"));
    assert!(refusal("p521.pub").contains("unsupported elliptic curve 1.3.132.0.35"));
    assert!(refusal("secp256k1.pub").contains("unsupported elliptic curve"));
    assert!(refusal("p256-compressed.pub").contains("uncompressed point"));
    assert!(refusal("p256.key").contains("this is a private key"));
    assert!(PublicKey::parse("not a key").is_err());
}

#[test]
fn openssl_private_keys_sign_envelopes_andon_verifies() {
    for (name, algorithm) in [
        ("ed25519.key", Algorithm::Ed25519),
        ("p256.key", Algorithm::EcdsaP256),
        ("p384.key", Algorithm::EcdsaP384),
    ] {
        let private = PrivateKey::from_pem(&text(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(private.algorithm(), algorithm);
        let public = key(&name.replace(".key", ".pub"));
        assert_eq!(private.public_key(), public, "{name}");
        let env = Envelope::sign("application/vnd.in-toto+json", b"{}", &private);
        let parsed = Envelope::parse(&serde_json::to_vec(&env).expect("json")).expect("parse");
        assert_eq!(parsed.verify(&public), Ok(()), "{name}");
    }
    for (name, says) in [
        ("p256-sec1.key", "SEC1"),
        ("rsa2048.key", "does not sign with RSA"),
        ("p256.pub", "not a PKCS#8 private key"),
    ] {
        match PrivateKey::from_pem(&text(name)) {
            Err(DomainError::MalformedKey(m)) => assert!(m.contains(says), "{name}: {m}"),
            Err(e) => panic!("{name}: {e:?}"),
            Ok(_) => panic!("{name} should be refused"),
        }
    }
}

#[test]
fn envelopes_signed_by_securesystemslib_verify_whatever_keyid_they_name() {
    for scheme in ["ecdsa", "ed25519", "rsa"] {
        let public = key(&format!("sslib-{scheme}.pub"));
        let parsed = Envelope::parse(&fixture(&format!("sslib-{scheme}.json"))).expect("parse");
        // securesystemslib's keyid is the SHA-256 of its own key serialisation, not Andon's.
        let hint = parsed.key_ids().next().expect("keyid").to_owned();
        assert_ne!(hint, public.key_id().to_string());
        let other = SigningKey::from_seed([5; 32]).public_key();
        let check =
            parsed.check_signatures(&[(other.key_id(), other), (public.key_id(), public.clone())]);
        assert_eq!(check.verified, vec![public.key_id()], "{scheme}");
        assert!(check.unverified.is_empty());

        // Without any keyid, the key is still found.
        let mut json: serde_json::Value =
            serde_json::from_slice(&fixture(&format!("sslib-{scheme}.json"))).expect("json");
        json["signatures"][0]
            .as_object_mut()
            .expect("signature")
            .remove("keyid");
        let bare = Envelope::parse(&serde_json::to_vec(&json).expect("json")).expect("parse");
        assert_eq!(bare.verify(&public), Ok(()), "{scheme} without keyid");
    }
}

#[test]
fn several_signatures_count_each_key_once_and_name_the_unverified() {
    let a = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let b = PrivateKey::generate(KeyAlgorithm::Ed25519).expect("key");
    let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let mut env = Envelope::sign("t", b"payload", &a);
    for k in [&b, &stranger, &a] {
        let more = Envelope::sign("t", b"payload", k);
        env.signatures.extend(more.signatures);
    }
    let parsed = Envelope::parse(&serde_json::to_vec(&env).expect("json")).expect("parse");
    let keys = [&a, &b].map(|k| (k.key_id(), k.public_key()));
    let check = parsed.check_signatures(&keys);
    assert_eq!(check.verified, vec![a.key_id(), b.key_id()]);
    assert_eq!(check.unverified, vec![stranger.key_id().to_string()]);

    // Tried again against a wider set, only the unverified signature is checked, and what
    // was verified stays.
    let again = parsed.recheck(check, &[(stranger.key_id(), stranger.public_key())]);
    assert_eq!(
        again.verified,
        vec![a.key_id(), b.key_id(), stranger.key_id()]
    );
    assert!(again.unverified.is_empty());
}

#[test]
fn a_repeated_signature_adds_nothing_and_keyids_are_bounded() {
    let a = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
    let mut env = Envelope::sign("t", b"payload", &a);
    let copy = env.signatures[0].clone();
    env.signatures.push(copy);
    let parsed = Envelope::parse(&serde_json::to_vec(&env).expect("json")).expect("parse");
    let check = parsed.check_signatures(&[(a.key_id(), a.public_key())]);
    assert_eq!(check.verified, vec![a.key_id()]);
    assert!(check.unverified.is_empty(), "{check:?}");
    // Against no key at all, the copy is not listed twice.
    assert_eq!(parsed.check_signatures(&[]).unverified.len(), 1);

    env.signatures[1].keyid = "k".repeat(257);
    assert!(matches!(
        Envelope::parse(&serde_json::to_vec(&env).expect("json")),
        Err(DomainError::MalformedEnvelope(_))
    ));
}

#[test]
fn generated_keys_round_trip_through_pkcs8_version_1() {
    for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
        let k = PrivateKey::generate(algorithm).expect("key");
        let pem = k.to_pem();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
        let again = PrivateKey::from_pem(&pem).expect("reads back");
        assert_eq!(again.public_key(), k.public_key());
        // Version 1 (RFC 5208): the INTEGER after the outer SEQUENCE is 0.
        let der = der_of(&pem);
        let version_at = if der[1] & 0x80 == 0 {
            2
        } else {
            2 + (der[1] & 0x7f) as usize
        };
        assert_eq!(
            &der[version_at..version_at + 3],
            &[2, 1, 0],
            "{algorithm:?}"
        );
    }
}

fn der_of(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64")
}
