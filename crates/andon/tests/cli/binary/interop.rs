//! Keys `andon keygen` writes are read by OpenSSL 3.0 and pyca/cryptography, and envelopes
//! signed with them verify with the in-toto/securesystemslib reference implementation of
//! DSSE. (The other direction, envelopes securesystemslib signed accepted by the server, is
//! in andon-server's `signatures` tests.) Needs what `.ci/python.sh` installs; the test runs
//! it, so the README's test command works on a fresh machine too.

use std::process::Command;

use andon_domain::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey};

use crate::common::BIN;

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
    let install = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/python.sh"))
        .output()
        .expect("bash");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
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
