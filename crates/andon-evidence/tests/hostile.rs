//! Every parser treats its input as hostile: whatever the bytes, it returns a summary or an
//! error, never a panic. Arbitrary bytes, and real reports with bytes flipped, cut or
//! spliced, which reach much deeper into each parser than noise does.

use proptest::prelude::*;

const SAMPLES: &[(&str, &[u8])] = &[
    ("junit", include_bytes!("fixtures/junit/pytest-9.2.0.xml")),
    (
        "junit",
        include_bytes!("fixtures/junit/cargo-nextest-0.9.143.xml"),
    ),
    (
        "coverage",
        include_bytes!("fixtures/coverage/coveragepy-7.17.3.lcov"),
    ),
    (
        "coverage",
        include_bytes!("fixtures/coverage/coveragepy-7.17.3-cobertura.xml"),
    ),
    ("sarif", include_bytes!("fixtures/sarif/ruff-0.17.6.sarif")),
    ("sarif", include_bytes!("fixtures/sarif/bandit-1.9.4.sarif")),
    (
        "sbom",
        include_bytes!("fixtures/sbom/cyclonedx-py-7.5.0-1.6.json"),
    ),
    (
        "sbom",
        include_bytes!("fixtures/sbom/cyclonedx-py-7.5.0-1.4.xml"),
    ),
    (
        "sbom",
        include_bytes!("fixtures/sbom/npm-11.19.1-spdx-2.3.json"),
    ),
    (
        "vulnerabilities",
        include_bytes!(
            "fixtures/vulnerabilities/cyclonedx-python-lib-11.12.0-vulnerability-1.6.json"
        ),
    ),
    (
        "vulnerabilities",
        include_bytes!("fixtures/vulnerabilities/trivy-alpine-310.sarif"),
    ),
];

/// Webhook payloads, fed to both providers' readers (not to `summarize`).
const PAYLOADS: &[&[u8]] = &[
    include_bytes!("fixtures/webhooks/github/pull_request.closed.json"),
    include_bytes!("fixtures/webhooks/github/pull_request_review.submitted.json"),
    include_bytes!("fixtures/webhooks/github/push.json"),
    include_bytes!("fixtures/webhooks/github/deployment_status.json"),
    include_bytes!("fixtures/webhooks/gitlab/merge_request.json"),
    include_bytes!("fixtures/webhooks/gitlab/push.json"),
    include_bytes!("fixtures/webhooks/gitlab/deployment.json"),
];

fn all_parsers(doc: &[u8]) {
    for kind in ["junit", "coverage", "sarif", "sbom", "vulnerabilities"] {
        let _ = andon_evidence::summarize(kind, doc);
    }
    let tickets = andon_evidence::tickets::TicketPatterns::default();
    for event in [
        "push",
        "pull_request",
        "pull_request_review",
        "deployment_status",
    ] {
        if let Ok(Some(mut f)) = andon_evidence::github::parse(event, doc) {
            tickets.link(&mut f);
        }
    }
    if let Ok(Some(mut f)) = andon_evidence::gitlab::parse(doc) {
        tickets.link(&mut f);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(doc) {
        let _ = andon_evidence::provenance::parse(andon_evidence::provenance::SLSA_V1, &v);
        let _ = andon_evidence::provenance::parse(andon_evidence::provenance::SLSA_V02, &v);
        let _ = andon_evidence::review::parse_review(&v);
    }
}

#[test]
fn every_real_sample_parses_with_its_own_parser() {
    for (kind, doc) in SAMPLES {
        let r = andon_evidence::summarize(kind, doc).expect("a known kind");
        assert!(r.is_ok(), "{kind}: {r:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(doc in proptest::collection::vec(any::<u8>(), 0..2048)) {
        all_parsers(&doc);
    }

    #[test]
    fn mutated_real_reports_never_panic(
        sample in 0..SAMPLES.len(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        splice in any::<prop::sample::Index>(),
    ) {
        let mut doc = SAMPLES[sample].1.to_vec();
        for (at, byte) in &flips {
            let i = at.index(doc.len());
            doc[i] = *byte;
        }
        all_parsers(&doc);
        let c = cut.index(doc.len());
        all_parsers(&doc[..c]);
        let other = SAMPLES[splice.index(SAMPLES.len())].1;
        let mut spliced = doc[..c].to_vec();
        spliced.extend_from_slice(&other[other.len() / 2..]);
        all_parsers(&spliced);
    }

    #[test]
    fn mutated_real_webhook_payloads_never_panic(
        sample in 0..PAYLOADS.len(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut doc = PAYLOADS[sample].to_vec();
        for (at, byte) in &flips {
            let i = at.index(doc.len());
            doc[i] = *byte;
        }
        all_parsers(&doc);
        all_parsers(&doc[..cut.index(doc.len())]);
    }
}
