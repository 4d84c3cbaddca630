//! Keyless signing through the HTTP path on both backends: Sigstore bundles published by
//! real systems (PyPI attestations made on GitHub Actions and GitLab CI) verified offline
//! against the public-good trusted root registered in the ledger, their signers admitted by
//! the application's keyless policy. What is refused writes nothing. Fixtures and their
//! provenance: `andon-domain/tests/fixtures/sigstore/README.md`.

use crate::common::{Harness, code, keyless_app, refusal, sigstore_fixture as fixture};
use andon_domain::sigstore::{IdentityRule, KeylessPolicy};
use andon_testkit::{Backend, both_backends, flip_base64};
use std::collections::BTreeMap;

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const RELEASE: &str = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";

fn rule(issuer: &str, identity: Option<&str>, regex: Option<&str>) -> IdentityRule {
    IdentityRule {
        issuer: issuer.into(),
        identity: identity.map(Into::into),
        identity_regex: regex.map(Into::into),
        claims: BTreeMap::new(),
    }
}

fn policy(rules: Vec<IdentityRule>) -> KeylessPolicy {
    KeylessPolicy { identities: rules }
}

fn published_bundles_are_accepted_under_a_trusted_root_and_a_keyless_policy(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, _key) = h.pipeline("pypi");
    let slsa = fixture("pypi-github-slsa.sigstore.json");

    // No trusted root yet: nothing can verify the bundle.
    let before = h.counts();
    let (status, c, message) = refusal(ci.submit_evidence("pypi", None, None, &slsa));
    assert_eq!((status, c.as_str()), (400, "bundle_refused"), "{message}");
    assert!(message.contains("trusted_root"), "{message}");
    assert_eq!(h.counts(), before, "a refused bundle writes nothing");

    let root = h
        .admin
        .set_trusted_root("public-good", &fixture("public-good.trusted_root.json"))
        .expect("registered");
    assert_eq!((root.certificate_authorities, root.tlogs), (2, 2));
    let listed = ci.trusted_roots().expect("any identity may list them");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sha256, root.sha256);

    // Verified, but the application admits no keyless signer.
    let before = h.counts();
    assert_eq!(
        code(ci.submit_evidence("pypi", None, None, &slsa)),
        (403, "identity_not_allowed".into())
    );
    // A policy for another repository's workflow does not admit it either, nor one that
    // asks for a claim the certificate does not make.
    h.admin
        .set_keyless_policy(
            "pypi",
            &policy(vec![rule(
                GITHUB,
                None,
                Some(r"https://github\.com/acme/[^/]+/\.github/workflows/release\.yml@refs/heads/main"),
            )]),
        )
        .expect("policy");
    assert_eq!(
        code(ci.submit_evidence("pypi", None, None, &slsa)),
        (403, "identity_not_allowed".into())
    );
    let mut on_main = rule(GITHUB, Some(RELEASE), None);
    on_main
        .claims
        .insert("source_repository_ref".into(), "refs/heads/main".into());
    h.admin
        .set_keyless_policy("pypi", &policy(vec![on_main]))
        .expect("policy");
    assert_eq!(
        code(ci.submit_evidence("pypi", None, None, &slsa)),
        (403, "identity_not_allowed".into()),
        "the release ran on a tag, not on main"
    );
    let evidence_before = h.counts();
    assert_eq!(evidence_before.evidence, before.evidence);

    // The release workflow on a GitHub-hosted runner: accepted, and the entry says who.
    let mut release = rule(GITHUB, Some(RELEASE), None);
    release
        .claims
        .insert("runner_environment".into(), "github-hosted".into());
    let set = h
        .admin
        .set_keyless_policy("pypi", &policy(vec![release.clone()]))
        .expect("policy");
    let receipt = ci
        .submit_evidence("pypi", None, Some("provenance"), &slsa)
        .expect("accepted");
    assert!(receipt.ledger_index > set.receipt.ledger_index);
    let id = receipt.id.clone().expect("an evidence id");
    let shown = ci.show_evidence(&id).expect("show");
    let k = shown.keyless.expect("a keyless signer");
    assert_eq!((k.issuer.as_str(), k.identity.as_str()), (GITHUB, RELEASE));
    assert_eq!(shown.signer, RELEASE);
    assert_eq!(k.trusted_root, "public-good");
    assert_eq!(k.trusted_root_sha256.hex(), root.sha256);
    assert!(k.log_index.is_some() && k.integrated_time.is_some());
    assert_eq!(
        k.claims.get("source_repository_uri").map(String::as_str),
        Some("https://github.com/trailofbits/pypi-attestations")
    );
    assert_eq!(
        shown.statement.expect("statement")["predicateType"],
        "https://slsa.dev/provenance/v1"
    );
    // The exact bundle is the stored document; sending it again answers the first receipt.
    let (status, doc) = h.admin_get(&format!("/v1/evidence/{id}/document"));
    assert_eq!((status, doc.as_bytes()), (200, slsa.as_slice()));
    assert!(
        ci.submit_evidence("pypi", None, None, &slsa)
            .expect("again")
            .existing
    );

    // A GitLab-signed bundle needs its own rule.
    let gitlab = fixture("pypi-gitlab-publish.sigstore.json");
    assert_eq!(
        code(ci.submit_evidence("pypi", None, None, &gitlab)),
        (403, "identity_not_allowed".into())
    );
    h.admin
        .set_keyless_policy(
            "pypi",
            &policy(vec![
                release,
                rule(
                    "https://gitlab.com",
                    None,
                    Some(r"https://gitlab\.com/facutuesca/gitlab-oidc-project//\.gitlab-ci\.yml@refs/heads/.+"),
                ),
            ]),
        )
        .expect("policy");
    let r = ci
        .submit_evidence("pypi", None, None, &gitlab)
        .expect("accepted under the GitLab rule");
    assert_eq!(
        ci.show_evidence(r.id.as_deref().expect("id"))
            .expect("show")
            .keyless
            .expect("keyless")
            .issuer,
        "https://gitlab.com"
    );

    // Keyless turned off: the next bundle is refused.
    h.admin
        .set_keyless_policy("pypi", &policy(vec![]))
        .expect("policy");
    let publish = fixture("pypi-github-publish.sigstore.json");
    assert_eq!(
        code(ci.submit_evidence("pypi", None, None, &publish)),
        (403, "identity_not_allowed".into())
    );
    let apps = ci.list_applications().expect("list");
    assert_eq!(
        apps[0]["keyless_policy"]["identities"],
        serde_json::json!([])
    );

    // The audit replays it all: each bundle verified again against the trusted roots of its
    // index, each signer admitted by the policy in force at its index (not today's).
    let verified = h.admin.verify_ledger().expect("verify");
    assert_eq!(verified["verified"], true, "{verified}");
}

fn a_bundle_changed_in_one_place_is_refused_naming_the_check(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, _key) = h.pipeline("pypi");
    keyless_app(
        &h,
        "pypi",
        &[(GITHUB, "https://github\\.com/trailofbits/.*")],
    );
    let slsa = fixture("pypi-github-slsa.sigstore.json");
    let before = h.counts();
    for (path, check) in [
        (&["dsseEnvelope", "signatures", "0", "sig"][..], "signature"),
        (
            &["verificationMaterial", "certificate", "rawBytes"][..],
            "certificate",
        ),
        (
            &[
                "verificationMaterial",
                "tlogEntries",
                "0",
                "inclusionProof",
                "hashes",
                "0",
            ][..],
            "transparency_log",
        ),
        (
            &[
                "verificationMaterial",
                "tlogEntries",
                "0",
                "inclusionPromise",
                "signedEntryTimestamp",
            ][..],
            "transparency_log",
        ),
    ] {
        let (status, c, message) =
            refusal(ci.submit_evidence("pypi", None, None, &flip_base64(&slsa, path)));
        assert_eq!(
            (status, c.as_str()),
            (400, "bundle_refused"),
            "{path:?}: {message}"
        );
        assert!(
            message.contains(&format!("fails its {check} check")),
            "{path:?} should fail the {check} check: {message}"
        );
    }
    // The statement changed under its signature.
    let payload = flip_base64(&slsa, &["dsseEnvelope", "payload"]);
    assert_eq!(
        refusal(ci.submit_evidence("pypi", None, None, &payload)).0,
        400
    );
    assert_eq!(
        h.counts(),
        before,
        "nothing was written for a refused bundle"
    );
    // The untouched bundle still goes in.
    ci.submit_evidence("pypi", None, None, &slsa)
        .expect("accepted");
}

fn each_registered_trusted_root_is_tried_and_the_entry_names_the_one_that_verified(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, _key) = h.pipeline("pypi");
    h.admin
        .set_keyless_policy("pypi", &policy(vec![rule(GITHUB, Some(RELEASE), None)]))
        .expect("policy");
    // A private instance's root (here: the public-good document with its CT logs swapped
    // for its Rekor logs, so that nothing public verifies under it), registered first.
    let mut private: serde_json::Value =
        serde_json::from_slice(&fixture("public-good.trusted_root.json")).expect("json");
    private["ctlogs"] = private["tlogs"].clone();
    let private = serde_json::to_vec(&private).expect("json");
    h.admin
        .set_trusted_root("acme-private", &private)
        .expect("registered");
    let slsa = fixture("pypi-github-slsa.sigstore.json");
    let (status, c, message) = refusal(ci.submit_evidence("pypi", None, None, &slsa));
    assert_eq!((status, c.as_str()), (400, "bundle_refused"));
    assert!(
        message.contains("sct check") && message.contains("under acme-private"),
        "{message}"
    );
    h.admin
        .set_trusted_root("public-good", &fixture("public-good.trusted_root.json"))
        .expect("registered");
    let listed: Vec<String> = h
        .admin
        .trusted_roots()
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(listed, vec!["acme-private", "public-good"]);
    let r = ci
        .submit_evidence("pypi", None, None, &slsa)
        .expect("accepted");
    let k = ci
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show")
        .keyless
        .expect("keyless");
    assert_eq!(k.trusted_root, "public-good");
    // Replacing the root that verified it: the next bundle is checked against the new
    // document, and the audit still judges the recorded one by the root of its index.
    h.admin
        .set_trusted_root("public-good", &private)
        .expect("replaced");
    assert_eq!(
        refusal(ci.submit_evidence(
            "pypi",
            None,
            None,
            &fixture("pypi-github-publish.sigstore.json")
        ))
        .1,
        "bundle_refused"
    );
    let verified = h.admin.verify_ledger().expect("verify");
    assert_eq!(verified["verified"], true, "{verified}");
}

fn trusted_roots_and_keyless_policies_are_checked_before_they_are_recorded(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let _ = h.pipeline("pypi");
    let before = h.counts();
    let (status, c, _) = refusal(h.admin.set_trusted_root("public-good", b"{\"tlogs\": []}"));
    assert_eq!((status, c.as_str()), (400, "malformed_trusted_root"));
    let (status, c, _) = refusal(
        h.admin
            .set_trusted_root("Public-Good", &fixture("public-good.trusted_root.json")),
    );
    assert_eq!((status, c.as_str()), (400, "invalid_name"));
    let (status, c, message) = refusal(
        h.admin
            .set_keyless_policy("pypi", &policy(vec![rule(GITHUB, None, Some("(unclosed"))])),
    );
    assert_eq!((status, c.as_str()), (400, "malformed_policy"), "{message}");
    let (status, c, _) = refusal(h.admin.set_keyless_policy(
        "pypi",
        &policy(vec![rule("http://insecure.example", Some("x"), None)]),
    ));
    assert_eq!((status, c.as_str()), (400, "malformed_policy"));
    let (status, _, _) = refusal(
        h.admin
            .set_keyless_policy("nope", &policy(vec![rule(GITHUB, Some(RELEASE), None)])),
    );
    assert_eq!(status, 404);
    assert_eq!(
        h.counts(),
        before,
        "nothing was written for a refused change"
    );
    assert!(h.admin.trusted_roots().expect("list").is_empty());
}

/// The subject the GitHub-built SLSA bundle names.
fn slsa_subject() -> String {
    let env = andon_domain::Envelope::parse(&fixture("pypi-github-slsa.sigstore.json"))
        .expect("envelope");
    let st = andon_domain::Statement::parse(&env.payload_type, &env.payload).expect("statement");
    let (name, digest) = st.subject_digests().remove(0);
    format!("{name}@sha256:{}", digest.hex())
}

fn a_control_requires_the_release_workflow_on_a_hosted_runner(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, _key) = h.pipeline("pypi");
    keyless_app(
        &h,
        "pypi",
        &[(
            GITHUB,
            r"https://github\.com/trailofbits/pypi-attestations/\.github/workflows/release\.yml@refs/tags/v0\.0\.19",
        )],
    );
    // Written as a platform team would: the keyless signer's certificate claims decide.
    let module = r#"package andon.controls.built_by_release

import rego.v1

metadata := {
	"id": "built-by-release",
	"title": "Built by the release workflow on a GitHub-hosted runner",
	"risk": "An artifact built on a developer machine or a self-hosted runner reaches users.",
	"stage": "release",
	"evidence": ["keyless provenance"],
	"frameworks": ["SLSA Build L2"],
}

deny contains "no provenance signed by the release workflow on a GitHub-hosted runner" if {
	not built
}

built if {
	some e in input.evidence
	e.keyless.issuer == "https://token.actions.githubusercontent.com"
	endswith(e.keyless.claims.build_config_uri, "/.github/workflows/release.yml@refs/tags/v0.0.19")
	e.keyless.claims.runner_environment == "github-hosted"
}
"#;
    h.admin
        .publish_policy(&serde_json::json!({
            "name": "pypi-release",
            "applications": ["pypi"],
            "environments": ["staging"],
            "modules": {"built_by_release.rego": module},
        }))
        .expect("published");
    let gate = || {
        ci.gate(&andon_domain::api::GateRequest {
            application: "pypi".into(),
            artifact: slsa_subject(),
            environment: "staging".into(),
            production: Some(false),
            ..Default::default()
        })
        .expect("decided")
    };
    let verdict = |d: &andon_domain::api::DecisionView| {
        d.decision
            .controls
            .iter()
            .find(|c| c.id == "built-by-release")
            .map(|c| c.verdict)
            .expect("the control ran")
    };
    assert_eq!(verdict(&gate()), andon_domain::gate::Verdict::Fail);
    ci.submit_evidence(
        "pypi",
        None,
        Some("provenance"),
        &fixture("pypi-github-slsa.sigstore.json"),
    )
    .expect("accepted");
    assert_eq!(verdict(&gate()), andon_domain::gate::Verdict::Pass);
}

fn a_message_signature_bundle_is_evidence_about_the_digest_it_signs(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, _key) = h.pipeline("rfc8785");
    keyless_app(
        &h,
        "rfc8785",
        &[(
            GITHUB,
            r"https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/tags/v0\.1\.2",
        )],
    );
    let wheel = fixture("message-signature.sigstore.json");
    let before = h.counts();
    assert_eq!(
        code(ci.submit_evidence("rfc8785", None, Some("sbom"), &wheel)),
        (422, "unknown_predicate_type".into()),
        "a signature over a wheel is not an SBOM"
    );
    let changed = flip_base64(&wheel, &["messageSignature", "signature"]);
    let (status, c, message) = refusal(ci.submit_evidence("rfc8785", None, None, &changed));
    assert_eq!((status, c.as_str()), (400, "bundle_refused"), "{message}");
    assert!(message.contains("fails its signature check"), "{message}");
    assert_eq!(h.counts(), before, "nothing was written");

    let r = ci
        .submit_evidence("rfc8785", None, None, &wheel)
        .expect("accepted");
    let shown = ci
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show");
    let digest = "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201";
    assert_eq!(shown.subjects, vec![format!("artifact@{digest}")]);
    assert_eq!(
        shown.predicate_type,
        andon_domain::sigstore::MESSAGE_SIGNATURE_PREDICATE
    );
    assert!(shown.statement.is_none());
    assert_eq!(
        shown.keyless.expect("keyless").identity,
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
    );
    let verified = h.admin.verify_ledger().expect("verify");
    assert_eq!(verified["verified"], true, "{verified}");
}

both_backends!(
    each_registered_trusted_root_is_tried_and_the_entry_names_the_one_that_verified,
    a_message_signature_bundle_is_evidence_about_the_digest_it_signs,
    a_control_requires_the_release_workflow_on_a_hosted_runner,
    published_bundles_are_accepted_under_a_trusted_root_and_a_keyless_policy,
    a_bundle_changed_in_one_place_is_refused_naming_the_check,
    trusted_roots_and_keyless_policies_are_checked_before_they_are_recorded,
);
