//! Evidence intake through the real HTTP path, on both backends: what is accepted comes back
//! with a verifying proof; what is rejected gets a clear 4xx and leaves nothing behind.

use crate::common::{Harness, code, envelope};
use andon_client::{Client, ClientError};
use andon_domain::{Envelope, IN_TOTO_PAYLOAD_TYPE, Sha256Digest, SigningKey, Statement};
use andon_ledger::NoteVerifier;
use andon_testkit::{Backend, both_backends};

fn accepted_evidence_carries_a_verifying_proof_and_is_idempotent(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let env = envelope(&key, 1);
    let r = ci
        .submit_evidence("pay", Some("run-1"), None, &env)
        .expect("accepted");
    assert!(!r.existing);
    let info = h.admin.ledger_info().expect("info");
    let log = NoteVerifier::parse(&info.verifier_key).expect("key");
    andon_client::check_receipt(&r, &log).expect("the receipt's proof verifies");
    assert_eq!(r.id.as_deref(), Some(Sha256Digest::of(&env).hex().as_str()));

    let before = h.counts();
    let again = ci
        .submit_evidence("pay", Some("run-1"), None, &env)
        .expect("re-sent");
    assert!(again.existing);
    assert_eq!(
        (again.ledger_index, again.id.clone()),
        (r.ledger_index, r.id.clone())
    );
    assert_eq!(h.counts(), before, "a re-sent envelope writes nothing new");

    let shown = h
        .admin
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show");
    assert_eq!(
        (
            shown.application.as_str(),
            shown.run.as_deref(),
            shown.signer.as_str()
        ),
        ("pay", Some("run-1"), "ci-pay")
    );
    assert_eq!(shown.statement.expect("statement")["predicate"]["n"], 1);
}

fn each_kind_of_bad_input_is_refused_and_writes_nothing(b: Backend) {
    let h = Harness::start(b, 4096);
    let (ci, key) = h.pipeline("pay");
    let (other_ci, other_key) = h.pipeline("web");
    let stranger = SigningKey::from_seed([99; 32]);
    let good = envelope(&key, 7);
    let mut wrong_sig: serde_json::Value = serde_json::from_slice(&good).expect("json");
    wrong_sig["signatures"][0]["sig"] = serde_json::Value::String(
        serde_json::from_slice::<serde_json::Value>(&envelope(&key, 8)).expect("json")["signatures"][0]["sig"].as_str().expect("sig").into(),
    );
    let mut unsigned: serde_json::Value = serde_json::from_slice(&good).expect("json");
    unsigned["signatures"] = serde_json::json!([]);
    let bad_digest = {
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"XYZ"}}],"predicateType":"p","predicate":{}}"#;
        serde_json::to_vec(&Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload, &key)).expect("json")
    };
    let before = h.counts();
    let cases: Vec<(
        &str,
        Result<andon_domain::api::Receipt, ClientError>,
        u16,
        &str,
    )> = vec![
        (
            "malformed JSON",
            ci.submit_evidence("pay", None, None, b"{not json"),
            400,
            "malformed_envelope",
        ),
        (
            "wrong signature",
            ci.submit_evidence(
                "pay",
                None,
                None,
                &serde_json::to_vec(&wrong_sig).expect("json"),
            ),
            400,
            "bad_signature",
        ),
        (
            "missing signature",
            ci.submit_evidence(
                "pay",
                None,
                None,
                &serde_json::to_vec(&unsigned).expect("json"),
            ),
            400,
            "unsigned",
        ),
        (
            "unknown key",
            ci.submit_evidence("pay", None, None, &envelope(&stranger, 1)),
            403,
            "unknown_key",
        ),
        (
            "key of another application",
            ci.submit_evidence("pay", None, None, &envelope(&other_key, 1)),
            403,
            "key_not_allowed",
        ),
        (
            "token not scoped to the application",
            other_ci.submit_evidence("pay", None, None, &good),
            403,
            "application_not_allowed",
        ),
        (
            "malformed digest",
            ci.submit_evidence("pay", None, None, &bad_digest),
            400,
            "malformed_digest",
        ),
        (
            "body over the limit",
            ci.submit_evidence("pay", None, None, &vec![b' '; 8192]),
            413,
            "payload_too_large",
        ),
        (
            "unknown predicate type for a typed submission",
            ci.submit_evidence("pay", None, Some("provenance"), &good),
            422,
            "unknown_predicate_type",
        ),
        (
            "unknown evidence type",
            ci.submit_evidence("pay", None, Some("horoscope"), &good),
            400,
            "unknown_type",
        ),
        (
            "admin may not submit evidence",
            h.admin.submit_evidence("pay", None, None, &good),
            403,
            "forbidden",
        ),
        (
            "no token",
            Client::new(&h.url, None).submit_evidence("pay", None, None, &good),
            401,
            "unauthorized",
        ),
    ];
    for (what, result, status, want) in cases {
        assert_eq!(code(result), (status, want.to_owned()), "{what}");
    }
    assert_eq!(h.counts(), before, "a rejected request wrote something");
    // The same good envelope is then accepted: the refusals were about the requests.
    ci.submit_evidence("pay", None, None, &good)
        .expect("accepted");
}

/// Rotating a pipeline key: the new one registered, the old one revoked. The old key is
/// refused from then on, the new one signs, and what the old key signed before stays on
/// record, verifiable with the old public key, and the ledger verifies.
fn a_pipeline_key_is_rotated_and_old_evidence_stays_verifiable(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let before = ci
        .submit_evidence("pay", None, None, &envelope(&key, 1))
        .expect("accepted");
    let new_key = SigningKey::from_seed([9; 32]);
    h.admin
        .register_key("ci-pay", &new_key.public_key().to_ledger_text())
        .expect("the new key");
    h.admin.revoke_key(key.key_id().as_str()).expect("revoked");
    assert_eq!(
        code(ci.submit_evidence("pay", None, None, &envelope(&key, 2))),
        (403, "key_revoked".into())
    );
    ci.submit_evidence("pay", None, None, &envelope(&new_key, 2))
        .expect("the new key signs");
    // The old record: still there, still verifiable with the old public key.
    let id = before.id.expect("evidence id");
    let shown = h.admin.show_evidence(&id).expect("shown");
    assert_eq!(shown.keyid, key.key_id().as_str());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let document = agent
        .get(&format!("{}/v1/evidence/{id}/document", h.url))
        .header(
            "Authorization",
            &format!("Bearer {}", h.admin.token().expect("token")),
        )
        .call()
        .expect("document")
        .body_mut()
        .read_to_vec()
        .expect("bytes");
    Envelope::parse(&document)
        .expect("an envelope")
        .verify(&key.public_key())
        .expect("signed by the old key");
    assert_eq!(h.admin.verify_ledger().expect("verify")["verified"], true);
}

fn identity_changes_are_admin_only_and_ledgered(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let size0 = h.admin.ledger_info().expect("info").size;
    h.admin.create_application("pay", "payments").expect("app");
    let auditor = h
        .admin
        .create_identity("audit", "auditor", &[])
        .expect("auditor");
    let auditor = Client::new(&h.url, Some(auditor.token));
    assert_eq!(
        auditor
            .create_application("x", "t")
            .map(|_| ())
            .map_err(|e| e.status()),
        Err(Some(403))
    );
    assert_eq!(
        auditor
            .create_identity("y", "admin", &[])
            .map(|_| ())
            .map_err(|e| e.status()),
        Err(Some(403))
    );
    assert_eq!(
        h.admin
            .create_application("pay", "again")
            .map(|_| ())
            .map_err(|e| e.status()),
        Err(Some(409))
    );
    assert_eq!(
        h.admin
            .create_identity("ci", "pipeline", &["nope".into()])
            .map(|_| ())
            .map_err(|e| e.status()),
        Err(Some(400))
    );
    // application + identity + enrollment code + the token the auditor issued itself: four
    // entries, all readable by the auditor.
    let info = auditor.ledger_info().expect("auditor reads the ledger");
    assert_eq!(info.size, size0 + 4);
    let kinds: Vec<String> = auditor
        .entries(size0, 10)
        .expect("entries")
        .entries
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            "application.created",
            "identity.created",
            "enrollment.created",
            "token.issued"
        ]
    );
}

fn concurrent_submissions_are_group_committed_into_one_consistent_log(b: Backend) {
    // A linger makes the grouping deterministic enough to assert: without it, how many
    // requests share a commit depends on how busy the machine is.
    let h = Harness::start_with(b, 1 << 20, std::time::Duration::from_millis(100));
    let (ci, key) = h.pipeline("pay");
    let envs: Vec<Vec<u8>> = (0..200).map(|n| envelope(&key, n)).collect();
    let receipts: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = envs
            .chunks(12)
            .map(|chunk| {
                let ci = ci.clone();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|e| ci.submit_evidence("pay", None, None, e).expect("accepted"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut idx: Vec<u64> = receipts.iter().map(|r| r.ledger_index).collect();
    idx.sort();
    idx.dedup();
    assert_eq!(idx.len(), 200, "every submission got its own entry");
    let counts = h.counts();
    // One checkpoint per committed batch: fewer checkpoints than entries means requests
    // that arrived together were committed together.
    assert!(
        counts.checkpoints < 60,
        "200 submissions from 17 clients should share commits: {counts:?}"
    );
    let info = h.admin.ledger_info().expect("info");
    let first = h
        .admin
        .consistency_proof(receipts[0].tree_size, Some(info.size))
        .expect("consistency");
    assert_eq!(first.to, info.size);
}

fn a_batch_is_checked_whole_and_recorded_per_envelope(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let stranger = SigningKey::from_seed([98; 32]);
    let envs: Vec<Vec<u8>> = (0..5).map(|n| envelope(&key, 100 + n)).collect();

    // One bad envelope refuses the whole request, naming its position; nothing is written.
    let before = h.counts();
    let mut with_bad = envs.clone();
    with_bad[2] = envelope(&stranger, 7);
    match ci.submit_evidence_batch("pay", Some("run-9"), &with_bad) {
        Err(ClientError::Api {
            status,
            code,
            message,
        }) => {
            assert_eq!((status, code.as_str()), (403, "unknown_key"));
            assert!(message.starts_with("envelope 2:"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    match ci.submit_evidence_batch("pay", None, &[]) {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "bad_batch_size"))
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(h.counts(), before, "a refused batch wrote something");

    // A good batch: one entry per envelope, each with its own verifying proof.
    let receipts = ci
        .submit_evidence_batch("pay", Some("run-9"), &envs)
        .expect("accepted");
    assert_eq!(receipts.len(), 5);
    let info = h.admin.ledger_info().expect("info");
    let verifier = NoteVerifier::parse(&info.verifier_key).expect("key");
    for (r, env) in receipts.iter().zip(&envs) {
        assert_eq!(r.id.as_deref(), Some(Sha256Digest::of(env).hex().as_str()));
        andon_client::check_receipt(r, &verifier).expect("each receipt's proof verifies");
    }
    // The same envelopes sent one by one, or as a batch again, are the same entries.
    let single = ci
        .submit_evidence("pay", Some("run-9"), None, &envs[3])
        .expect("re-sent");
    assert!(single.existing);
    assert_eq!(single.ledger_index, receipts[3].ledger_index);
    let after = h.counts();
    let again = ci
        .submit_evidence_batch("pay", Some("run-9"), &envs)
        .expect("re-sent");
    assert!(again.iter().all(|r| r.existing));
    assert_eq!(h.counts(), after);
}

fn junit_statement(xml: &[u8]) -> Statement {
    report_statement(andon_domain::JUNIT_PREDICATE_V1, xml)
}

fn report_statement(predicate_type: &str, xml: &[u8]) -> Statement {
    Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(xml))],
        predicate_type.into(),
        serde_json::to_value(andon_domain::ReportPredicate::new(
            "application/xml",
            None,
            xml,
        ))
        .expect("json"),
    )
}

fn a_junit_report_is_summarized_by_the_server_from_the_report_itself(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let xml = include_bytes!("../../../andon-evidence/tests/fixtures/junit/pytest-9.2.0.xml");
    let r = ci
        .submit_evidence(
            "pay",
            Some("run-3"),
            Some("junit"),
            &junit_statement(xml).sign(&key),
        )
        .expect("accepted");
    let shown = h
        .admin
        .show_evidence(r.id.as_deref().expect("id"))
        .expect("show");
    let s = shown.summary.expect("a typed record has a summary");
    assert_eq!(s["kind"], "junit");
    assert_eq!(
        (
            s["tests"].as_u64(),
            s["passed"].as_u64(),
            s["failures"].as_u64(),
            s["errors"].as_u64(),
            s["skipped"].as_u64()
        ),
        (Some(5), Some(2), Some(1), Some(1), Some(1))
    );
    // The summary is part of the ledger entry, so it is as tamper-evident as the report.
    let entry = h
        .admin
        .entries(r.ledger_index, 1)
        .expect("entry")
        .entries
        .remove(0);
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(entry.entry)
        .expect("b64");
    let entry: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(entry["body"]["summary"]["failures"], 1);

    // Reports that do not parse are refused with the parser's reason, and nothing is written.
    let before = h.counts();
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><testsuite name="&a;"/>"#;
    assert_eq!(
        code(ci.submit_evidence(
            "pay",
            None,
            Some("junit"),
            &junit_statement(bomb).sign(&key)
        )),
        (422, "unparseable_report".into())
    );
    let broken = b"<testsuites>\n<testsuite>\n<testcase name='a'>\n</testsuites>";
    match ci.submit_evidence(
        "pay",
        None,
        Some("junit"),
        &junit_statement(broken).sign(&key),
    ) {
        Err(ClientError::Api {
            status: 422,
            message,
            ..
        }) => assert!(message.contains("line 4"), "{message}"),
        other => panic!("expected 422, got {other:?}"),
    }
    assert_eq!(h.counts(), before, "a refused report wrote something");
}

fn a_coverage_report_is_summarized_from_its_records(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let lcov =
        include_bytes!("../../../andon-evidence/tests/fixtures/coverage/coveragepy-7.17.3.lcov");
    let st = report_statement(andon_domain::COVERAGE_PREDICATE_V1, lcov);
    let s = h.typed_summary(&ci, &key, "coverage", &st);
    assert_eq!(
        (s["kind"].as_str(), s["format"].as_str()),
        (Some("coverage"), Some("lcov"))
    );
    assert_eq!(
        (s["lines_total"].as_u64(), s["lines_covered"].as_u64()),
        (Some(15), Some(9))
    );
    assert_eq!(s["line_rate"].as_f64(), Some(0.6));
    // A JUnit report sent as coverage is refused: the type decides the parser.
    let junit = include_bytes!("../../../andon-evidence/tests/fixtures/junit/pytest-9.2.0.xml");
    let wrong = report_statement(andon_domain::COVERAGE_PREDICATE_V1, junit);
    h.assert_unparseable(&ci, &key, "coverage", &wrong);
}

fn a_sarif_log_is_summarized_by_level_and_rule(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let log = include_bytes!("../../../andon-evidence/tests/fixtures/sarif/bandit-1.9.4.sarif");
    let st = report_statement(andon_domain::SARIF_PREDICATE_V1, log);
    let s = h.typed_summary(&ci, &key, "sarif", &st);
    assert_eq!(
        (
            s["kind"].as_str(),
            s["findings"].as_u64(),
            s["by_level"]["error"].as_u64()
        ),
        (Some("sarif"), Some(5), Some(1))
    );
    assert_eq!(s["tools"][0]["name"], "Bandit");
    let truncated = report_statement(andon_domain::SARIF_PREDICATE_V1, &log[..log.len() / 2]);
    h.assert_unparseable(&ci, &key, "sarif", &truncated);
}

fn provenance_is_summarized_with_its_source_commit(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let generated: serde_json::Value = serde_json::from_slice(include_bytes!(
        "../../../andon-evidence/tests/fixtures/provenance/npmcli-provenance-cli-0.0.3.json"
    ))
    .expect("json");
    let digest: Sha256Digest = format!(
        "sha256:{}",
        generated["subject"]["digest"]["sha256"]
            .as_str()
            .expect("digest")
    )
    .parse()
    .expect("digest");
    let st = Statement::new(
        vec![("pkg.tgz".into(), digest)],
        "https://slsa.dev/provenance/v1".into(),
        generated["predicate"].clone(),
    );
    let s = h.typed_summary(&ci, &key, "provenance", &st);
    assert_eq!(s["kind"], "provenance");
    assert_eq!(
        s["source_commit"],
        "4a1c2f9e0b7d3c5a8e6f1b2d9c0a7e3f5b8d1c2e"
    );
    assert_eq!(
        s["builder_id"],
        "https://github.com/actions/runner/github-hosted"
    );
    // A provenance predicate without a builder is refused.
    let bad = Statement::new(
        vec![("pkg.tgz".into(), digest)],
        "https://slsa.dev/provenance/v1".into(),
        serde_json::json!({"buildDefinition": {}}),
    );
    h.assert_unparseable(&ci, &key, "provenance", &bad);
}

fn sboms_are_summarized_embedded_or_as_the_predicate_itself(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("pay");
    let spdx =
        include_bytes!("../../../andon-evidence/tests/fixtures/sbom/npm-11.19.1-spdx-2.3.json");
    let embedded = report_statement(andon_domain::SBOM_PREDICATE_V1, spdx);
    let s = h.typed_summary(&ci, &key, "sbom", &embedded);
    assert_eq!(
        (
            s["kind"].as_str(),
            s["format"].as_str(),
            s["components"].as_u64()
        ),
        (Some("sbom"), Some("spdx"), Some(1))
    );
    // cosign's way: predicateType https://cyclonedx.org/bom, the BOM as the predicate.
    let cdx: serde_json::Value = serde_json::from_slice(include_bytes!(
        "../../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json"
    ))
    .expect("json");
    let st = Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"app"))],
        "https://cyclonedx.org/bom".into(),
        cdx,
    );
    let s = h.typed_summary(&ci, &key, "sbom", &st);
    assert_eq!(
        (
            s["format"].as_str(),
            s["spec_version"].as_str(),
            s["components"].as_u64()
        ),
        (Some("cyclonedx"), Some("1.6"), Some(4))
    );
    let not_a_bom = Statement::new(
        vec![("app.tar".into(), Sha256Digest::of(b"app"))],
        "https://cyclonedx.org/bom".into(),
        serde_json::json!({"hello": 1}),
    );
    h.assert_unparseable(&ci, &key, "sbom", &not_a_bom);
}

both_backends!(
    sboms_are_summarized_embedded_or_as_the_predicate_itself,
    provenance_is_summarized_with_its_source_commit,
    a_sarif_log_is_summarized_by_level_and_rule,
    a_coverage_report_is_summarized_from_its_records,
    a_junit_report_is_summarized_by_the_server_from_the_report_itself,
    a_batch_is_checked_whole_and_recorded_per_envelope,
    accepted_evidence_carries_a_verifying_proof_and_is_idempotent,
    each_kind_of_bad_input_is_refused_and_writes_nothing,
    a_pipeline_key_is_rotated_and_old_evidence_stays_verifiable,
    identity_changes_are_admin_only_and_ledgered,
    concurrent_submissions_are_group_committed_into_one_consistent_log,
);
