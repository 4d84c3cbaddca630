//! Reports too large to carry inline travel once, on their own: uploaded under their digest
//! (`PUT /v1/reports/sha256:<hex>`, outside the JSON body limit), then named by digest and
//! size in the signed statement. Through the real HTTP path on both backends: the summary is
//! the report's, the ledger entry records the report, and every refusal (a body that does
//! not hash to its digest, a caller that is no pipeline, a report over the limit, a
//! statement naming a report never uploaded or with the wrong size) writes nothing.

use crate::common::{Harness, refusal};
use andon_client::ClientError;
use andon_domain::{
    ReportPredicate, SBOM_PREDICATE_V1, Sha256Digest, SigningKey, Statement, StoredReport,
};
use andon_testkit::{Backend, both_backends};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// SPDX's own 2.3 example (21 KB): with a 16 KiB body limit it cannot travel inline.
pub(crate) const REPORT: &[u8] = include_bytes!(
    "../../../andon-evidence/tests/fixtures/sbom/spdx-tv-spec-2.3-example.spdx.json"
);

pub(crate) fn stored(bytes: &[u8]) -> StoredReport {
    StoredReport {
        digest: Sha256Digest::of(bytes),
        size: bytes.len() as u64,
    }
}

/// A statement naming an uploaded report.
pub(crate) fn naming(r: StoredReport) -> Statement {
    Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"app.tar"))],
        SBOM_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::reference(
            "application/json",
            Some("sbom.spdx.json".into()),
            r,
        ))
        .expect("json"),
    )
}

/// Uploads `REPORT` and submits a statement naming it: the evidence id.
pub(crate) fn attest_uploaded(ci: &andon_client::Client, key: &SigningKey) -> String {
    let r = stored(REPORT);
    ci.upload_report(&r.digest, r.size, &mut &REPORT[..])
        .expect("uploaded");
    ci.submit_evidence("pay", None, Some("sbom"), &naming(r).sign(key))
        .expect("accepted")
        .id
        .expect("id")
}

fn upload(
    ci: &andon_client::Client,
    digest: &Sha256Digest,
    bytes: &[u8],
) -> Result<andon_domain::api::ReportReceipt, ClientError> {
    ci.upload_report(digest, bytes.len() as u64, &mut &bytes[..])
}

fn a_large_report_travels_once_and_is_summarised(b: Backend) {
    let h = Harness::start_configured(b, |c| {
        c.max_body_bytes = 16 << 10;
    });
    let (ci, key) = h.pipeline("pay");
    let r = stored(REPORT);

    // Inline, base64 in base64, it is over the body limit.
    let inline = Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"app.tar"))],
        SBOM_PREDICATE_V1.into(),
        serde_json::to_value(ReportPredicate::new("application/json", None, REPORT)).expect("json"),
    );
    let (status, code, _) =
        refusal(ci.submit_evidence("pay", None, Some("sbom"), &inline.sign(&key)));
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));

    // Uploaded once; again is idempotent.
    let first = upload(&ci, &r.digest, REPORT).expect("uploaded");
    assert_eq!((first.size, first.existing), (REPORT.len() as u64, false));
    assert_eq!(first.digest, r.digest.to_string());
    assert!(upload(&ci, &r.digest, REPORT).expect("again").existing);
    assert_eq!(h.counts().reports, 1);
    assert_eq!(h.admin.report(&r.digest).expect("read back"), REPORT);

    // The statement names it; the summary is the report's own.
    let id = ci
        .submit_evidence("pay", None, Some("sbom"), &naming(r).sign(&key))
        .expect("accepted")
        .id
        .expect("id");
    let view = h.admin.show_evidence(&id).expect("show");
    let summary = view.summary.expect("summary");
    let expected = andon_evidence::summarize("sbom", REPORT)
        .expect("a report kind")
        .expect("parses");
    assert_eq!(summary, expected);
    assert_eq!(summary["spec_version"], "SPDX-2.3", "{summary}");
    assert_eq!(summary["schema"]["valid"], true, "{summary}");

    // The ledger entry records the report it was derived from.
    let entries = h.admin.entries(0, 1000).expect("entries").entries;
    let body: serde_json::Value = entries
        .iter()
        .filter(|e| e.kind == "evidence")
        .map(|e| serde_json::from_slice(&STANDARD.decode(&e.entry).expect("b64")).expect("json"))
        .find(|e: &serde_json::Value| e["body"]["document"] == format!("sha256:{id}"))
        .expect("the evidence entry");
    assert_eq!(body["body"]["report"]["digest"], r.digest.to_string());
    assert_eq!(body["body"]["report"]["size"], REPORT.len());
    assert_eq!(h.admin.verify_ledger().expect("verify")["verified"], true);
}

fn refused_uploads_and_statements_write_nothing(b: Backend) {
    let h = Harness::start_configured(b, |c| {
        c.max_report_bytes = 64 << 10;
    });
    let (ci, key) = h.pipeline("pay");
    let token = h
        .admin
        .create_identity("ci-raw", "pipeline", &["pay".to_owned()])
        .expect("identity")
        .token;
    let r = stored(REPORT);
    let before = h.counts();

    // A body that does not hash to the digest it is sent under.
    let other = Sha256Digest::of(b"something else");
    let (status, code, message) = refusal(upload(&ci, &other, REPORT));
    assert_eq!(
        (status, code.as_str()),
        (422, "digest_mismatch"),
        "{message}"
    );
    assert!(message.contains(&r.digest.to_string()), "{message}");
    // Only pipelines upload.
    let (status, ..) = refusal(upload(&h.admin, &r.digest, REPORT));
    assert_eq!(status, 403);
    // Over the report limit: answered from the headers (the client asked first).
    let big = vec![b' '; (64 << 10) + 1];
    let (status, code, message) = refusal(upload(&ci, &Sha256Digest::of(&big), &big));
    assert_eq!(
        (status, code.as_str()),
        (413, "payload_too_large"),
        "{message}"
    );
    assert!(message.contains("--max-report-bytes"), "{message}");
    // Not a digest.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .put(&format!("{}/v1/reports/sha256:abc", h.url))
        .header("Authorization", &format!("Bearer {token}"))
        .send(REPORT)
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 400);
    let body = resp.body_mut().read_to_string().expect("body");
    assert!(body.contains("malformed_digest"), "{body}");
    assert_eq!(h.counts(), before, "a refused upload wrote something");

    // A statement naming a report that was never uploaded.
    let (status, code, message) =
        refusal(ci.submit_evidence("pay", None, Some("sbom"), &naming(r).sign(&key)));
    assert_eq!(
        (status, code.as_str()),
        (422, "report_not_uploaded"),
        "{message}"
    );
    assert!(message.contains("/v1/reports/"), "{message}");
    assert_eq!(h.counts(), before);

    // Uploaded, then named with the wrong size, or with content and digest both.
    upload(&ci, &r.digest, REPORT).expect("uploaded");
    let uploaded = h.counts();
    let wrong = StoredReport {
        size: r.size + 1,
        ..r
    };
    let (status, code, _) =
        refusal(ci.submit_evidence("pay", None, Some("sbom"), &naming(wrong).sign(&key)));
    assert_eq!((status, code.as_str()), (422, "report_size_mismatch"));
    let mut both = naming(r);
    both.predicate["report"]["content"] = STANDARD.encode(REPORT).into();
    let (status, _, message) =
        refusal(ci.submit_evidence("pay", None, Some("sbom"), &both.sign(&key)));
    assert!((400..500).contains(&status), "{status} {message}");
    assert!(message.contains("both content and digest"), "{message}");
    assert_eq!(h.counts(), uploaded, "a refused statement wrote something");
}

/// A statement of `kind` carrying `doc` inline.
fn inline(predicate_type: &str, doc: &[u8]) -> Statement {
    Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"app.tar"))],
        predicate_type.into(),
        serde_json::to_value(ReportPredicate::new("application/json", None, doc)).expect("json"),
    )
}

/// A kind's own limit bounds its reports, inline or uploaded, below the server's; other
/// kinds keep the server's. A refusal names the kind and its limit, and writes nothing.
fn each_kind_has_its_own_limit(b: Backend) {
    let limit = REPORT.len() as u64 - 1;
    let h = Harness::start_configured(b, |c| {
        c.report_limits.insert("sbom".into(), limit);
        c.report_limits.insert("junit".into(), 1 << 30);
    });
    let (ci, key) = h.pipeline("pay");
    let r = stored(REPORT);
    upload(&ci, &r.digest, REPORT).expect("the upload itself is under the server's limit");
    let before = h.counts();
    for st in [naming(r), inline(SBOM_PREDICATE_V1, REPORT)] {
        let (status, code, message) =
            refusal(ci.submit_evidence("pay", None, Some("sbom"), &st.sign(&key)));
        assert_eq!(
            (status, code.as_str()),
            (413, "payload_too_large"),
            "{message}"
        );
        assert!(
            message.contains(&format!("the sbom report is {} bytes", REPORT.len()))
                && message.contains(&format!("limit of {limit} bytes for sbom reports"))
                && message.contains("--report-limit sbom="),
            "{message}"
        );
    }
    assert_eq!(h.counts(), before, "a refused statement wrote something");

    // Under the limit: accepted. Another kind is not bounded by the sbom limit.
    let small = include_bytes!(
        "../../../andon-evidence/tests/fixtures/sbom/cdx17-spec-license-expression-with-text.json"
    );
    assert!((small.len() as u64) < limit);
    ci.submit_evidence(
        "pay",
        None,
        Some("sbom"),
        &inline(SBOM_PREDICATE_V1, small).sign(&key),
    )
    .expect("an SBOM under its kind's limit");
    let mut vulnerabilities =
        br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "vulnerabilities": []}"#.to_vec();
    vulnerabilities.resize(REPORT.len() + 10, b' ');
    ci.submit_evidence(
        "pay",
        None,
        Some("vulnerabilities"),
        &inline(andon_domain::VULNERABILITIES_PREDICATE_V1, &vulnerabilities).sign(&key),
    )
    .expect("the sbom limit does not bound vulnerability reports");
    assert_eq!(h.admin.verify_ledger().expect("verify")["verified"], true);
}

both_backends!(
    a_large_report_travels_once_and_is_summarised,
    refused_uploads_and_statements_write_nothing,
    each_kind_has_its_own_limit
);
