//! Keys `andon keygen` writes are read by OpenSSL 3.0 and pyca/cryptography, and envelopes
//! signed with them verify with the in-toto/securesystemslib reference implementation of
//! DSSE; envelopes that implementation signs are sent as they are with `andon attest
//! envelope`. (The other direction, envelopes securesystemslib signed accepted by the server, is
//! in andon-server's `signatures` tests.) Needs what `.ci/python.sh` installs; the test runs
//! it, so the README's test command works on a fresh machine too.

use std::process::Command;

use andon_domain::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey, Sha256Digest};
use andon_testkit::{Backend, TestDb};

use crate::common::{BIN, cli, start};

/// The reference implementation's verifier: reads the private key file with
/// pyca/cryptography, takes its public half as securesystemslib's key under Andon's keyid,
/// and verifies the envelope, then the envelope with its payload changed.
const VERIFY: &str = r#"
import copy, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from securesystemslib.exceptions import VerificationError

key_file, keyid, envelope_file = sys.argv[1:4]
private = load_pem_private_key(open(key_file, "rb").read(), password=None)
key = SSlibKey.from_crypto(private.public_key(), keyid=keyid)
doc = json.load(open(envelope_file))
verified = Envelope.from_dict(copy.deepcopy(doc)).verify([key], 1)
assert keyid in verified, verified
doc["payload"] = doc["payload"][:-4] + "e30="
try:
    Envelope.from_dict(doc).verify([key], 1)
    sys.exit("a changed payload verified")
except VerificationError:
    pass
print("verified", key.scheme)
"#;

fn python() -> String {
    crate::common::install_prerequisites("python.sh");
    let venv = std::env::var("ANDON_PY_VENV").unwrap_or_else(|_| "/var/tmp/andon-py".into());
    format!("{venv}/bin/python")
}

#[test]
fn keygen_keys_work_with_openssl_pyca_and_securesystemslib() {
    let python = python();
    let dir = tempfile::tempdir().expect("dir");
    for (algorithm, scheme) in [
        ("ed25519", "ed25519"),
        ("ecdsa-p256", "ecdsa-sha2-nistp256"),
    ] {
        let key = dir.path().join(format!("{algorithm}.key"));
        let out = Command::new(BIN)
            .args([
                "keygen",
                "--output",
                "json",
                "--algorithm",
                algorithm,
                "--out",
            ])
            .arg(&key)
            .output()
            .expect("keygen");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let made: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(made["algorithm"], algorithm);
        let keyid = made["keyid"].as_str().expect("keyid").to_owned();

        // OpenSSL 3.0 reads the private key, and its public half has Andon's key id.
        let public = Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .output()
            .expect("openssl");
        assert!(
            public.status.success(),
            "OpenSSL cannot read the {algorithm} key: {}",
            String::from_utf8_lossy(&public.stderr)
        );
        let public = andon_domain::PublicKey::parse(&String::from_utf8_lossy(&public.stdout))
            .expect("OpenSSL's public key");
        assert_eq!(public.key_id().to_string(), keyid, "{algorithm}");

        // An envelope signed with the key file as `andon attest` reads it.
        let signer =
            PrivateKey::from_pem(&std::fs::read_to_string(&key).expect("key")).expect("read");
        let envelope = Envelope::sign(
            IN_TOTO_PAYLOAD_TYPE,
            br#"{"_type":"https://in-toto.io/Statement/v1"}"#,
            &signer,
        );
        let envelope_file = dir.path().join(format!("{algorithm}.json"));
        std::fs::write(&envelope_file, serde_json::to_vec(&envelope).expect("json"))
            .expect("write");
        let verified = Command::new(&python)
            .args(["-c", VERIFY])
            .arg(&key)
            .arg(&keyid)
            .arg(&envelope_file)
            .output()
            .expect("python");
        assert!(
            verified.status.success(),
            "securesystemslib refused the {algorithm} envelope: {}",
            String::from_utf8_lossy(&verified.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&verified.stdout).trim(),
            format!("verified {scheme}")
        );
    }
}

/// The reference implementation signs statements with an ECDSA P-256 key, cosign's kind, as
/// a pipeline that signs outside Andon would: its own keyid form, JSON lines of envelopes.
const SIGN: &str = r#"
import json, sys
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import serialization
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner

out_pub, out_envs, digest = sys.argv[1:4]
private = ec.generate_private_key(ec.SECP256R1())
open(out_pub, "wb").write(private.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
signer = CryptoSigner(private)
with open(out_envs, "w") as f:
    for n in range(2):
        statement = {"_type": "https://in-toto.io/Statement/v1",
                     "subject": [{"name": f"app-{n}.tar", "digest": {"sha256": digest}}],
                     "predicateType": "https://example.com/check/v1",
                     "predicate": {"n": n}}
        env = Envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", {})
        env.sign(signer)
        f.write(json.dumps(env.to_dict()) + "\n")
print(signer.public_key.keyid)
"#;

/// Envelopes signed elsewhere are sent as they are with `andon attest envelope`, JSON lines
/// and all, and verify with the registered public key whatever keyid form their tool
/// wrote; a file with a changed envelope stops at it, naming which, and writes nothing for
/// it.
#[test]
fn envelopes_signed_elsewhere_are_sent_as_they_are() {
    let python = python();
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (admin, issued) = crate::binary::helpers::pay_app(&server.url, &token);
    let dir = db.dir();
    let (public, lines) = (dir.join("p256.pub"), dir.join("envelopes.intoto.jsonl"));
    let signed = Command::new(&python)
        .args(["-c", SIGN])
        .arg(&public)
        .arg(&lines)
        .arg(Sha256Digest::of(b"pay").hex())
        .output()
        .expect("python");
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let their_keyid = String::from_utf8_lossy(&signed.stdout).trim().to_owned();
    let added = cli(
        &server.url,
        &token,
        &[
            "identity",
            "add-key",
            "ci-pay",
            "--key",
            public.to_str().expect("path"),
        ],
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let send = |file: &std::path::Path| {
        cli(
            &server.url,
            &issued.token,
            &[
                "--output",
                "json",
                "attest",
                "envelope",
                "--app",
                "pay",
                "--file",
                file.to_str().expect("path"),
            ],
        )
    };

    let sent = send(&lines);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let receipts: Vec<serde_json::Value> = serde_json::from_slice(&sent.stdout).expect("json");
    assert_eq!(receipts.len(), 2);
    assert!(
        receipts.iter().all(|r| r["existing"] == false),
        "{receipts:?}"
    );
    let shown = admin
        .show_evidence(receipts[0]["id"].as_str().expect("id"))
        .expect("show");
    let ours = andon_domain::PublicKey::parse(&std::fs::read_to_string(&public).expect("read"))
        .expect("parse")
        .key_id()
        .to_string();
    assert_eq!(shown.keyid, ours);
    assert_ne!(their_keyid, ours, "the tool's keyid form is not Andon's");

    // The first envelope as it was, then the second with the first one's signature: the
    // first is already recorded, the second refused by its number, and nothing more is
    // recorded.
    let original = std::fs::read_to_string(&lines).expect("read");
    let original: Vec<&str> = original.lines().collect();
    let first: serde_json::Value = serde_json::from_str(original[0]).expect("json");
    let mut second: serde_json::Value = serde_json::from_str(original[1]).expect("json");
    second["signatures"] = first["signatures"].clone();
    let changed_file = dir.join("changed.intoto.jsonl");
    std::fs::write(&changed_file, format!("{}\n{second}\n", original[0])).expect("write");
    let evidence = || crate::binary::helpers::evidence_count(&admin, "pay");
    assert_eq!(evidence(), 2);
    let refused = send(&changed_file);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "a changed envelope was accepted");
    assert!(stderr.contains("envelope 2 of 2"), "{stderr}");
    assert_eq!(evidence(), 2, "the changed envelope was recorded");

    // Not an envelope at all.
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "{}\nnot json\n").expect("write");
    let out = send(&junk);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 2"), "{stderr}");
}
