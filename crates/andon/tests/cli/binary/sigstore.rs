//! Sigstore bundles cross-checked against the reference verifier: every real bundle that
//! sigstore-python (PyPI, run offline with the same trusted root and identity policy)
//! accepts, Andon accepts through `andon attest bundle` (attestations and a message
//! signature); every bundle changed in one place (signature, certificate, inclusion proof,
//! promise, log time, statement, SCT, RFC 3161 timestamp, identity),
//! both refuse, Andon naming the check, and nothing is written for it. Fixtures:
//! `andon-domain/tests/fixtures/sigstore/README.md`. Needs what `.ci/python.sh` installs.

use std::path::{Path, PathBuf};
use std::process::Command;

use andon_testkit::{Backend, TestDb, flip_base64, flip_base64_at};

use crate::common::{cli, start};

/// The reference verifier: a manifest of (bundle, trusted root) pairs and the accepted
/// (issuer, identity) rules in; one verdict per bundle out, as JSON.
const REFERENCE: &str = r#"
import base64, json, sys
from sigstore.hashes import Hashed
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy
from sigstore_models.common.v1 import HashAlgorithm

cases, rules = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
accepted = policy.AnyOf([policy.Identity(identity=i, issuer=iss) for iss, i in rules])
verdicts = []
for case in cases:
    try:
        verifier = Verifier(trusted_root=TrustedRoot.from_file(case["root"]))
        raw = open(case["bundle"], "rb").read()
        bundle = Bundle.from_json(raw)
        signed = json.loads(raw).get("messageSignature")
        if signed:
            digest = base64.b64decode(signed["messageDigest"]["digest"])
            verifier.verify_artifact(Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest), bundle, accepted)
        else:
            verifier.verify_dsse(bundle, accepted)
        verdicts.append({"accepted": True})
    except Exception as e:
        verdicts.append({"accepted": False, "why": f"{type(e).__name__}: {e}"})
print(json.dumps(verdicts))
"#;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../andon-domain/tests/fixtures/sigstore")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(name)).expect("fixture")
}

/// The bundle logged a day later than it was: its promise no longer covers it.
fn relogged(bundle: &[u8]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bundle).expect("json");
    let t = &mut v["verificationMaterial"]["tlogEntries"][0]["integratedTime"];
    let later = t.as_str().expect("time").parse::<i64>().expect("number") + 86_400;
    *t = later.to_string().into();
    serde_json::to_vec(&v).expect("json")
}

const GITHUB: &str = "https://token.actions.githubusercontent.com";

struct Case {
    name: &'static str,
    bundle: Vec<u8>,
    /// Verified under the trusted root with its CT logs swapped for its Rekor logs.
    swapped_root: bool,
    /// Made on Sigstore's staging instance: the reference gets the staging root.
    staging: bool,
    /// The check Andon must name when it refuses.
    check: Option<&'static str>,
}

fn case(name: &'static str, bundle: Vec<u8>, check: Option<&'static str>) -> Case {
    Case {
        name,
        bundle,
        swapped_root: false,
        staging: false,
        check,
    }
}

#[test]
fn bundles_andon_and_the_reference_verifier_agree_on() {
    crate::common::install_prerequisites("python.sh");
    let venv = std::env::var("ANDON_PY_VENV").unwrap_or_else(|_| "/var/tmp/andon-py".into());
    let python = format!("{venv}/bin/python");
    let slsa = read("pypi-github-slsa.sigstore.json");
    let rules = [
        (
            GITHUB,
            "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
        ),
        (
            GITHUB,
            "https://github.com/trailofbits/pypi-attestation-models/.github/workflows/release.yml@refs/tags/v0.0.4a2",
        ),
        (
            GITHUB,
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
        ),
        (
            GITHUB,
            "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main",
        ),
        (
            "https://oidc.circleci.com",
            "https://circleci.com/api/v2/projects/fdd9283f-e619-46af-8f9c-851f7d3e8b2b/pipeline-definitions/8e4f8ab2-8d7c-4827-9f15-de076d6d647f",
        ),
    ];
    let mut sct = case(
        "real bundle, CT log unknown to the root",
        slsa.clone(),
        Some("sct"),
    );
    sct.swapped_root = true;
    let timestamped = read("staging-timestamped.sigstore.json");
    let mut staging = case(
        "staging, with an RFC 3161 timestamp",
        timestamped.clone(),
        None,
    );
    staging.staging = true;
    let mut bad_timestamp = case(
        "staging, its RFC 3161 timestamp's signed content changed",
        flip_base64_at(
            &timestamped,
            &[
                "verificationMaterial",
                "timestampVerificationData",
                "rfc3161Timestamps",
                "0",
                "signedTimestamp",
            ],
            Some(200),
        ),
        Some("timestamp"),
    );
    bad_timestamp.staging = true;
    // Made on staging by a person (a GitHub login), whom no rule admits.
    let mut person = case(
        "pypi-rfc8785-publish (staging, signed by a person)",
        read("pypi-rfc8785-publish.sigstore.json"),
        None,
    );
    person.staging = true;
    let cases = vec![
        case("pypi-github-slsa", slsa.clone(), None),
        case(
            "pypi-github-publish",
            read("pypi-github-publish.sigstore.json"),
            None,
        ),
        case(
            "pypi-github-models-publish",
            read("pypi-github-models-publish.sigstore.json"),
            None,
        ),
        case(
            "pypi-circleci-publish",
            read("pypi-circleci-publish.sigstore.json"),
            None,
        ),
        // Signed on GitLab, which no rule names.
        case(
            "pypi-gitlab-publish (identity not admitted)",
            read("pypi-gitlab-publish.sigstore.json"),
            None,
        ),
        case(
            "rfc8785 wheel, signed directly (a message signature)",
            read("message-signature.sigstore.json"),
            None,
        ),
        case(
            "message signature changed",
            flip_base64(
                &read("message-signature.sigstore.json"),
                &["messageSignature", "signature"],
            ),
            Some("signature"),
        ),
        case(
            "signature changed",
            flip_base64(&slsa, &["dsseEnvelope", "signatures", "0", "sig"]),
            Some("signature"),
        ),
        case(
            "certificate changed",
            flip_base64(&slsa, &["verificationMaterial", "certificate", "rawBytes"]),
            Some("certificate"),
        ),
        case(
            "inclusion proof changed",
            flip_base64(
                &slsa,
                &[
                    "verificationMaterial",
                    "tlogEntries",
                    "0",
                    "inclusionProof",
                    "hashes",
                    "0",
                ],
            ),
            Some("transparency_log"),
        ),
        case(
            "signed entry timestamp changed",
            flip_base64(
                &slsa,
                &[
                    "verificationMaterial",
                    "tlogEntries",
                    "0",
                    "inclusionPromise",
                    "signedEntryTimestamp",
                ],
            ),
            Some("transparency_log"),
        ),
        case(
            "logged outside the certificate's validity",
            relogged(&slsa),
            Some("transparency_log"),
        ),
        case(
            "statement changed",
            flip_base64(&slsa, &["dsseEnvelope", "payload"]),
            None,
        ),
        staging,
        bad_timestamp,
        person,
        sct,
    ];

    // The reference verifier's verdicts.
    let db = TestDb::new(Backend::Sqlite);
    let dir = db.dir();
    let root = fixtures().join("public-good.trusted_root.json");
    let staging_root = fixtures().join("staging.trusted_root.json");
    let mut swapped: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&root).expect("root")).expect("json");
    swapped["ctlogs"] = swapped["tlogs"].clone();
    let swapped_root = dir.join("ct-swapped.trusted_root.json");
    std::fs::write(&swapped_root, serde_json::to_vec(&swapped).expect("json")).expect("write");
    let mut manifest = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let path = dir.join(format!("case-{i}.sigstore.json"));
        std::fs::write(&path, &c.bundle).expect("write");
        let root = if c.swapped_root {
            &swapped_root
        } else if c.staging {
            &staging_root
        } else {
            &root
        };
        manifest.push(serde_json::json!({"bundle": path, "root": root}));
    }
    let (manifest_file, rules_file) = (dir.join("cases.json"), dir.join("rules.json"));
    std::fs::write(&manifest_file, serde_json::to_vec(&manifest).expect("json")).expect("write");
    std::fs::write(&rules_file, serde_json::to_vec(&rules).expect("json")).expect("write");
    let out = Command::new(&python)
        .args(["-c", REFERENCE])
        .arg(&manifest_file)
        .arg(&rules_file)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reference: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");

    // Andon's, through the CLI and the server: the same trusted root and rules.
    let server = start(&db, true);
    let token = server.token.clone().expect("admin token");
    let (admin, issued) = crate::binary::helpers::pay_app(&server.url, &token);
    let run = |tok: &str, args: &[&str]| {
        let out = cli(&server.url, tok, args);
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let add_root = |file: &Path| {
        let (ok, text) = run(
            &token,
            &[
                "sigstore",
                "trusted-root",
                "add",
                "public-good",
                "--file",
                file.to_str().expect("path"),
            ],
        );
        assert!(ok, "{text}");
    };
    add_root(&root);
    // A second instance's root beside it, as a company running its own Sigstore would.
    let (ok, text) = run(
        &token,
        &[
            "sigstore",
            "trusted-root",
            "add",
            "staging",
            "--file",
            staging_root.to_str().expect("path"),
        ],
    );
    assert!(ok, "{text}");
    let policy = serde_json::json!({"identities": rules.iter().map(|(issuer, identity)|
        serde_json::json!({"issuer": issuer, "identity": identity})).collect::<Vec<_>>()});
    let policy_file = dir.join("policy.json");
    std::fs::write(&policy_file, serde_json::to_vec(&policy).expect("json")).expect("write");
    let (ok, text) = run(
        &token,
        &[
            "app",
            "keyless-policy",
            "pay",
            "--file",
            policy_file.to_str().expect("path"),
        ],
    );
    assert!(ok, "{text}");

    let evidence = || crate::binary::helpers::evidence_count(&admin, "pay");
    let mut agreed = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        if c.swapped_root {
            add_root(&swapped_root);
        }
        let before = evidence();
        let file = dir.join(format!("case-{i}.sigstore.json"));
        let (accepted, text) = run(
            &issued.token,
            &[
                "attest",
                "bundle",
                "--app",
                "pay",
                "--file",
                file.to_str().expect("path"),
            ],
        );
        let theirs = reference[i]["accepted"].as_bool().expect("verdict");
        assert_eq!(
            accepted,
            theirs,
            "{}: Andon {} ({text}); the reference verifier {} ({})",
            c.name,
            if accepted { "accepts" } else { "refuses" },
            if theirs { "accepts" } else { "refuses" },
            reference[i]["why"]
        );
        if !accepted {
            assert_eq!(
                evidence(),
                before,
                "{}: a refused bundle wrote nothing",
                c.name
            );
            if let Some(check) = c.check {
                assert!(
                    text.contains(&format!("fails its {check} check")),
                    "{}: should name the {check} check: {text}",
                    c.name
                );
            }
        }
        agreed.push((c.name, accepted));
    }
    // JSON lines of bundles, as `gh attestation download` writes them, go in as they are,
    // under the real root again (the SCT case replaced it).
    add_root(&root);
    let accepted: Vec<usize> = (0..cases.len())
        .filter(|i| reference[*i]["accepted"] == true)
        .collect();
    let lines = dir.join("attestations.jsonl");
    let mut jsonl = Vec::new();
    for i in &accepted {
        let compact: serde_json::Value = serde_json::from_slice(&cases[*i].bundle).expect("json");
        jsonl.extend(serde_json::to_vec(&compact).expect("json"));
        jsonl.push(b'\n');
    }
    std::fs::write(&lines, &jsonl).expect("write");
    let before = evidence();
    let (ok, text) = run(
        &issued.token,
        &[
            "--output",
            "json",
            "attest",
            "bundle",
            "--app",
            "pay",
            "--file",
            lines.to_str().expect("path"),
        ],
    );
    assert!(ok, "{text}");
    let receipts: Vec<serde_json::Value> =
        serde_json::from_str(text.trim()).expect("one JSON array of receipts");
    assert_eq!(receipts.len(), accepted.len());
    // Compacted, each line is a new document (the id is the hash of the bytes sent), and
    // verifies as the original did.
    assert_eq!(evidence(), before + accepted.len());

    // The real bundles the reference verifier accepts are the ones its rules admit.
    assert_eq!(agreed.iter().filter(|(_, a)| *a).count(), 6, "{agreed:?}");
}
