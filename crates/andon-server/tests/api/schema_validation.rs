//! SBOMs are validated against their format's official schema at intake, through the real
//! HTTP path on both backends: by default a document that breaks its schema is refused
//! naming where, with nothing written; an application an admin makes lenient records it with
//! its errors in the summary, for controls to read; and the policy is a ledger entry.

use crate::common::{Harness, code};
use andon_client::ClientError;
use andon_domain::api::SchemaValidation;
use andon_domain::{ReportPredicate, SBOM_PREDICATE_V1, Sha256Digest, Statement};
use andon_testkit::{Backend, both_backends};

/// CycloneDX's own invalid test document: a SHA-256 hash whose content is "foo".
const INVALID: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/cyclonedx-spec/1.6/invalid-hash-sha256-1.6.json"
);
const VALID: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/sbom/npm-11.19.1-cyclonedx.json");
/// The same suite's XML document with the same fault.
const INVALID_XML: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/cyclonedx-spec/1.6/invalid-hash-sha256-1.6.xml"
);
/// What cyclonedx-py wrote as CycloneDX 1.4 XML.
const VALID_XML: &[u8] =
    include_bytes!("../../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.4.xml");

fn embedded(doc: &[u8]) -> Statement {
    embedded_as(doc, "application/json")
}

fn embedded_as(doc: &[u8], media_type: &str) -> Statement {
    Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(doc))],
        SBOM_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::new(media_type, None, doc)).expect("json"),
    )
}

/// cosign's way: the BOM itself as the predicate.
fn as_predicate(doc: &[u8]) -> Statement {
    Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(doc))],
        "https://cyclonedx.org/bom".into(),
        serde_json::from_slice(doc).expect("json"),
    )
}

/// A 422 `schema_invalid` whose message names each of `named`.
fn assert_schema_refused<T: std::fmt::Debug>(r: Result<T, ClientError>, named: &[&str]) {
    match r {
        Err(ClientError::Api {
            status: 422,
            code,
            message,
        }) => {
            assert_eq!(code, "schema_invalid");
            assert!(named.iter().all(|n| message.contains(n)), "{message}");
        }
        other => panic!("expected 422 schema_invalid, got {other:?}"),
    }
}

fn sboms_breaking_their_schema_are_refused_unless_the_application_is_lenient(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");

    // A valid BOM is accepted and says so.
    let s = h.typed_summary(&ci, &key, "sbom", &embedded(VALID));
    assert_eq!(s["schema"]["schema"], "CycloneDX 1.5");
    assert_eq!(s["schema"]["valid"], true, "{s}");

    // Strict by default: refused, naming the path, and nothing written, in both forms.
    let before = h.counts();
    for st in [embedded(INVALID), as_predicate(INVALID)] {
        assert_schema_refused(
            ci.submit_evidence("pay", None, Some("sbom"), &st.sign(&key)),
            &["CycloneDX 1.6", "/components/0/hashes/2/content"],
        );
    }
    assert_eq!(h.counts(), before, "a refused SBOM wrote something");

    // Only an admin sets the policy; a pipeline is refused and nothing is written.
    match ci.set_evidence_policy("pay", SchemaValidation::Lenient) {
        Err(ClientError::Api { status: 403, .. }) => {}
        other => panic!("a pipeline set the evidence policy: {other:?}"),
    }
    assert_eq!(h.counts(), before);

    // Lenient: recorded, with its errors in the summary.
    let set = h
        .admin
        .set_evidence_policy("pay", SchemaValidation::Lenient)
        .expect("admin sets it");
    assert_eq!(set.schema_validation, SchemaValidation::Lenient);
    let apps = h.admin.list_applications().expect("list");
    let pay = apps.iter().find(|a| a["name"] == "pay").expect("pay");
    assert_eq!(pay["schema_validation"], "lenient");
    let s = h.typed_summary(&ci, &key, "sbom", &embedded(INVALID));
    assert_eq!(s["schema"]["valid"], false);
    assert!(
        s["schema"]["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["path"] == "/components/0/hashes/2/content"),
        "{s}"
    );
    assert_eq!(s["components"], 1, "the document is still read");

    // Back to strict: refused again.
    h.admin
        .set_evidence_policy("pay", SchemaValidation::Strict)
        .expect("strict");
    let before = h.counts();
    assert_eq!(
        code(ci.submit_evidence("pay", None, Some("sbom"), &as_predicate(INVALID).sign(&key))),
        (422, "schema_invalid".into())
    );
    assert_eq!(h.counts(), before);

    // An unknown application's policy cannot be set.
    match h
        .admin
        .set_evidence_policy("nope", SchemaValidation::Lenient)
    {
        Err(ClientError::Api { status: 404, .. }) => {}
        other => panic!("expected 404, got {other:?}"),
    }
    // The ledger replays clean, the policy entries included.
    let report = h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

/// CycloneDX XML is validated against its XSD the same way: refused naming the element's
/// path, nothing written; recorded with its errors when the application is lenient.
fn xml_sboms_are_validated_against_their_xsd(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");

    let s = h.typed_summary(
        &ci,
        &key,
        "sbom",
        &embedded_as(VALID_XML, "application/xml"),
    );
    assert_eq!(s["schema"]["schema"], "CycloneDX 1.4 XML", "{s}");
    assert_eq!(s["schema"]["valid"], true, "{s}");

    let before = h.counts();
    let st = embedded_as(INVALID_XML, "application/xml");
    assert_schema_refused(
        ci.submit_evidence("pay", None, Some("sbom"), &st.sign(&key)),
        &[
            "CycloneDX 1.6 XML",
            "/bom/components[1]/component[1]/hashes[1]/hash[3]",
        ],
    );
    assert_eq!(h.counts(), before, "a refused SBOM wrote something");

    h.admin
        .set_evidence_policy("pay", SchemaValidation::Lenient)
        .expect("admin sets it");
    let s = h.typed_summary(&ci, &key, "sbom", &st);
    assert_eq!(s["schema"]["valid"], false, "{s}");
    assert_eq!(s["schema"]["error_count"], 1, "{s}");
    assert_eq!(
        s["schema"]["errors"][0]["path"],
        "/bom/components[1]/component[1]/hashes[1]/hash[3]"
    );
    assert_eq!(s["components"], 1, "the document is still read");
    let report = h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

both_backends!(
    sboms_breaking_their_schema_are_refused_unless_the_application_is_lenient,
    xml_sboms_are_validated_against_their_xsd
);
