//! Subjects named by sha512, sha384 or gitCommit, through the HTTP path on both backends:
//! npm's provenance (its package named by sha512 only) is accepted as published, found by
//! its sha512, and found by a gate on the package's sha256 once another record of the
//! application ties the two digests (and only then, and only by a record of the same
//! application).

use crate::common::{Harness, code, keyless_app, sigstore_fixture as fixture};
use andon_client::EvidenceQuery;
use andon_domain::api::GateRequest;
use andon_domain::{Sha256Digest, Statement};
use andon_testkit::{Backend, both_backends};

/// The npm provenance bundle's subject: its name and sha512 hex.
fn npm_subject(bundle: &[u8]) -> (String, String) {
    let env = andon_domain::Envelope::parse(bundle).expect("envelope");
    let st = Statement::parse(&env.payload_type, &env.payload).expect("a sha512 subject parses");
    let s = &st.subject[0];
    (s.name.clone(), s.digest["sha512"].clone())
}

/// A statement about `name` naming it by each of `digests` ((algorithm, hex)).
fn statement(name: &str, digests: &[(&str, &str)], n: u32) -> Statement {
    let mut st = Statement::new(
        vec![(name.into(), Sha256Digest::of(b"placeholder"))],
        "https://example.com/test/v1".into(),
        serde_json::json!({ "n": n }),
    );
    st.subject[0].digest = digests
        .iter()
        .map(|(a, h)| ((*a).to_owned(), (*h).to_owned()))
        .collect();
    st
}

fn ids(page: andon_domain::api::EvidencePage) -> Vec<u64> {
    page.evidence.iter().map(|e| e.ledger_index).collect()
}

fn subjects_named_by_other_digests_are_recorded_and_tied(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("npm");
    let (other_ci, other_key) = h.pipeline("other");
    keyless_app(
        &h,
        "npm",
        &[(
            "https://token.actions.githubusercontent.com",
            r"https://github\.com/sigstore/sigstore-js/\.github/workflows/release\.yml@refs/heads/main",
        )],
    );

    // npm's provenance, as the registry published it: a sha512 subject only.
    let bundle = fixture("npm-provenance.sigstore.json");
    let (name, sha512) = npm_subject(&bundle);
    let npm = ci
        .submit_evidence("npm", None, Some("provenance"), &bundle)
        .expect("accepted");
    let shown = ci
        .show_evidence(npm.id.as_deref().expect("id"))
        .expect("show");
    assert_eq!(shown.subjects, vec![format!("{name}@sha512:{sha512}")]);
    let by = |app: &str, subject: String| {
        ids(ci
            .list_evidence(&EvidenceQuery {
                app: Some(app.into()),
                subject: Some(subject),
                ..Default::default()
            })
            .expect("list"))
    };
    assert_eq!(
        by("npm", format!("sha512:{sha512}")),
        vec![npm.ledger_index]
    );

    // The tarball's sha256, as a test run names it: not yet tied to the sha512.
    let sha256 = Sha256Digest::of(b"sigstore-2.0.0.tgz").hex();
    let tested = ci
        .submit_evidence(
            "npm",
            None,
            None,
            &statement(&name, &[("sha256", &sha256)], 1).sign(&key),
        )
        .expect("accepted");
    assert_eq!(
        by("npm", format!("sha256:{sha256}")),
        vec![tested.ledger_index]
    );

    // A record of another application tying the two does not tie them for this one.
    other_ci
        .submit_evidence(
            "other",
            None,
            None,
            &statement(&name, &[("sha256", &sha256), ("sha512", &sha512)], 2).sign(&other_key),
        )
        .expect("accepted");
    assert_eq!(
        by("npm", format!("sha256:{sha256}")),
        vec![tested.ledger_index]
    );

    // The application's own record naming both digests ties them: the provenance is found
    // for the sha256 the gate asks about.
    let tie = ci
        .submit_evidence(
            "npm",
            None,
            None,
            &statement(
                &name,
                &[
                    ("sha256", &sha256),
                    ("sha512", &sha512),
                    ("gitCommit", &"e".repeat(40)),
                ],
                3,
            )
            .sign(&key),
        )
        .expect("accepted");
    assert_eq!(
        by("npm", format!("sha256:{sha256}")),
        vec![tie.ledger_index, tested.ledger_index, npm.ledger_index]
    );
    let decided = ci
        .gate(&GateRequest {
            application: "npm".into(),
            artifact: format!("{name}@sha256:{sha256}"),
            environment: "staging".into(),
            production: Some(false),
            ..Default::default()
        })
        .expect("decided");
    let full = ci.decision(&decided.id).expect("decision");
    let gathered: Vec<u64> = full.decision.input["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["ledger_index"].as_u64())
        .collect();
    assert!(
        gathered.contains(&npm.ledger_index),
        "the gate on the sha256 finds the sha512-only provenance: {gathered:?}"
    );
    let provenance = full.decision.input["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .find(|e| e["ledger_index"] == npm.ledger_index)
        .expect("present");
    assert_eq!(
        provenance["subjects"][0]["digest"],
        format!("sha512:{sha512}")
    );
    assert_eq!(
        provenance["keyless"]["identity"],
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
    );

    // Malformed digests of the algorithms Andon reads are refused, and a subject with none
    // of them; nothing is written.
    let before = h.counts();
    for digests in [
        vec![("sha512", "abc")],
        vec![("sha384", &*"A".repeat(96))],
        vec![("gitCommit", &*"e".repeat(41))],
        vec![("md5", "d41d8cd98f00b204e9800998ecf8427e")],
    ] {
        assert_eq!(
            code(ci.submit_evidence("npm", None, None, &statement(&name, &digests, 4).sign(&key))),
            (400, "malformed_digest".into()),
            "{digests:?}"
        );
    }
    assert_eq!(h.counts(), before);
    let verified = h.admin.verify_ledger().expect("verify");
    assert_eq!(verified["verified"], true, "{verified}");
}

/// A digest tied to many others is found through each: with few ties the search has a branch
/// per tie, past sixteen it is one statement, and both find the same records.
fn a_digest_tied_to_many_others_finds_the_records_of_each(b: Backend) {
    let h = Harness::start(b, 1 << 20);
    let (ci, key) = h.pipeline("web");
    let name = "web.tgz";
    let sha256 = Sha256Digest::of(b"web.tgz").hex();
    let mut expected = Vec::new();
    for i in 0..18u32 {
        let sha512 = format!("{:0>128}", format!("{:x}", i + 1));
        // Named by its sha512 alone: found by the sha256 only once a record ties the two.
        let alone = ci
            .submit_evidence(
                "web",
                None,
                None,
                &statement(name, &[("sha512", &sha512)], 100 + i).sign(&key),
            )
            .expect("accepted");
        let tie = ci
            .submit_evidence(
                "web",
                None,
                None,
                &statement(name, &[("sha256", &sha256), ("sha512", &sha512)], 200 + i).sign(&key),
            )
            .expect("accepted");
        expected.extend([alone.ledger_index, tie.ledger_index]);
        if i == 2 || i == 17 {
            let mut want = expected.clone();
            want.sort_unstable_by(|a, b| b.cmp(a));
            let found = ids(ci
                .list_evidence(&EvidenceQuery {
                    app: Some("web".into()),
                    subject: Some(format!("sha256:{sha256}")),
                    limit: Some(100),
                    ..Default::default()
                })
                .expect("list"));
            assert_eq!(found, want, "{} ties", i + 1);
        }
    }
}

both_backends!(
    subjects_named_by_other_digests_are_recorded_and_tied,
    a_digest_tied_to_many_others_finds_the_records_of_each,
);
