//! Sigstore bundles published by real systems (PyPI attestations from GitHub Actions, GitLab
//! CI and CircleCI; npm provenance), verified offline against the public-good trusted root
//! of their time. Provenance of each file: `tests/fixtures/sigstore/README.md`.

use andon_domain::sigstore::{TrustedRoot, is_bundle, signed_digest, verify_bundle};
use andon_domain::{DomainError, Envelope};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/sigstore/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn public_good() -> TrustedRoot {
    TrustedRoot::parse("public-good", &fixture("public-good.trusted_root.json"))
        .expect("the public-good trusted root parses")
}

/// The bundle's first subject digest, from the envelope Andon reads out of the bundle (npm
/// names its subjects by sha512 only, which the statement check still refuses).
fn subject(bundle: &[u8]) -> (String, String) {
    let env = Envelope::parse(bundle).expect("the bundle's envelope");
    let st: serde_json::Value = serde_json::from_slice(&env.payload).expect("its statement");
    let digest = st["subject"][0]["digest"].as_object().expect("a digest");
    let (alg, hex) = digest.iter().next().expect("one");
    (alg.clone(), hex.as_str().expect("hex").to_owned())
}

fn verify(name: &str) -> Result<andon_domain::sigstore::KeylessSignature, DomainError> {
    let bundle = fixture(name);
    let (alg, hex) = subject(&bundle);
    verify_bundle(&bundle, (&alg, &hex), &[public_good()]).map(|v| v.signature)
}

#[test]
fn published_bundles_verify_and_name_their_signer() {
    let cases = [
        (
            "pypi-github-slsa.sigstore.json",
            "https://token.actions.githubusercontent.com",
            "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
        ),
        (
            "pypi-github-publish.sigstore.json",
            "https://token.actions.githubusercontent.com",
            "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19",
        ),
        (
            "pypi-gitlab-publish.sigstore.json",
            "https://gitlab.com",
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main",
        ),
        (
            "npm-provenance.sigstore.json",
            "https://token.actions.githubusercontent.com",
            "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
        ),
    ];
    for (name, issuer, identity) in cases {
        let s = verify(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.issuer, issuer, "{name}");
        assert_eq!(s.identity, identity, "{name}");
        assert_eq!(s.trusted_root, "public-good");
        assert!(s.log_index.is_some(), "{name} records its Rekor index");
        assert!(
            s.integrated_time.is_some(),
            "{name} records when it was logged"
        );
    }
    let github = verify("pypi-github-slsa.sigstore.json").expect("verifies");
    assert_eq!(
        github
            .claims
            .get("source_repository_uri")
            .map(String::as_str),
        Some("https://github.com/trailofbits/pypi-attestations")
    );
    assert_eq!(
        github.claims.get("runner_environment").map(String::as_str),
        Some("github-hosted")
    );
}

#[test]
fn a_message_signature_bundle_verifies_against_the_digest_it_signs() {
    // rfc8785 0.1.2's wheel, signed directly (no statement) by its release workflow.
    let bundle = fixture("message-signature.sigstore.json");
    assert!(is_bundle(&bundle));
    let e = Envelope::parse(&bundle).expect_err("no statement inside");
    assert!(e.to_string().contains("message signature"), "{e}");
    let digest = signed_digest(&bundle)
        .expect("well formed")
        .expect("a message signature");
    assert_eq!(
        digest.to_string(),
        "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
    );
    let signed = verify_bundle(&bundle, ("sha256", digest.hex()), &[public_good()])
        .expect("verifies")
        .signature;
    assert_eq!(
        signed.identity,
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
    );
    // Bound to what it signs: another digest does not verify.
    let other = "0".repeat(64);
    assert!(matches!(
        verify_bundle(&bundle, ("sha256", &other), &[public_good()]),
        Err(DomainError::BundleRefused { .. })
    ));
    // A bundle of an attestation has no signed digest of its own.
    assert_eq!(
        signed_digest(&fixture("pypi-github-slsa.sigstore.json")),
        Ok(None)
    );
}

#[test]
fn a_bundle_under_a_root_that_does_not_hold_its_authorities_is_refused() {
    // The same document with its certificate authorities and logs swapped for another
    // instance's: nothing chains, and the error names the check.
    let mut root: serde_json::Value =
        serde_json::from_slice(&fixture("public-good.trusted_root.json")).expect("json");
    let tlogs = root["tlogs"].clone();
    root["ctlogs"] = tlogs;
    let odd = TrustedRoot::parse("ct-swapped", &serde_json::to_vec(&root).expect("json"))
        .expect("still a well-formed root");
    let bundle = fixture("pypi-github-slsa.sigstore.json");
    let (alg, hex) = subject(&bundle);
    match verify_bundle(&bundle, (&alg, &hex), &[odd]) {
        Err(DomainError::BundleRefused { check, .. }) => assert_eq!(check, "sct"),
        other => panic!("expected an SCT refusal, got {other:?}"),
    }
}

#[test]
fn without_a_trusted_root_nothing_verifies() {
    let bundle = fixture("pypi-github-slsa.sigstore.json");
    let (alg, hex) = subject(&bundle);
    match verify_bundle(&bundle, (&alg, &hex), &[]) {
        Err(DomainError::BundleRefused { check, .. }) => assert_eq!(check, "trusted_root"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_trusted_roots_are_refused() {
    for bad in [&b"{}"[..], b"not json", b"{\"mediaType\": 1}"] {
        assert!(matches!(
            TrustedRoot::parse("x", bad),
            Err(DomainError::MalformedTrustedRoot(_))
        ));
    }
}

#[test]
fn a_bundle_logged_by_another_instance_is_refused() {
    // rfc8785 0.1.2's publish attestation was logged by a Rekor whose key the public-good
    // root does not hold (Sigstore's staging instance); sigstore-python refuses it too.
    match verify("pypi-rfc8785-publish.sigstore.json") {
        Err(DomainError::BundleRefused { check, why }) => {
            assert_eq!(check, "transparency_log", "{why}");
            assert!(why.contains("log key"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_rfc3161_timestamp_is_verified_by_the_roots_timestamp_authority() {
    // Signed on Sigstore's staging instance, with a timestamp from its timestamp authority.
    let staging = TrustedRoot::parse("staging", &fixture("staging.trusted_root.json"))
        .expect("the staging root parses");
    let bundle = fixture("staging-timestamped.sigstore.json");
    let digest = signed_digest(&bundle)
        .expect("well formed")
        .expect("a message signature");
    let roots = [public_good(), staging];
    let signed = verify_bundle(&bundle, ("sha256", digest.hex()), &roots)
        .expect("verifies under the staging root")
        .signature;
    assert_eq!(signed.trusted_root, "staging");
    assert!(
        signed.identity.contains("extremely-dangerous-oidc-beacon"),
        "{}",
        signed.identity
    );
    // The timestamp's signed content (its TSTInfo, 150 bytes in) changed in one place:
    // refused, naming the timestamp check. (The copy of the authority's certificate the token
    // embeds is not what it is checked with: the root's is.)
    let changed = andon_testkit::flip_base64_at(
        &bundle,
        &[
            "verificationMaterial",
            "timestampVerificationData",
            "rfc3161Timestamps",
            "0",
            "signedTimestamp",
        ],
        Some(200),
    );
    match verify_bundle(&changed, ("sha256", digest.hex()), &roots) {
        Err(DomainError::BundleRefused { check, why }) => {
            assert_eq!(check, "timestamp", "{why}")
        }
        other => panic!("{other:?}"),
    }
}
