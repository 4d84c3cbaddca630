//! The audit of keyless evidence: each bundle verified again against the trusted roots of
//! its index and its signer admitted by the keyless policy of its index. The bundles are
//! real (PyPI attestations, `andon-domain/tests/fixtures/sigstore/README.md`).

use andon_domain::sigstore::{TrustedRoot, verify_bundle};
use andon_domain::{AppName, EntryKind, EvidenceFact, LedgerEntry, Sha256Digest, SubjectRef};
use serde_json::json;

use super::Actors;
use crate::audit::{EntryRule, LogKeys, Subject};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../andon-domain/tests/fixtures/sigstore/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const RELEASE: &str = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";

fn entry(kind: EntryKind, body: serde_json::Value) -> LedgerEntry {
    LedgerEntry {
        v: 1,
        kind,
        time: "2026-12-01T00:00:00Z".into(),
        actor: "admin".into(),
        via: None,
        body,
        rows: None,
    }
}

/// The evidence fact intake writes for `bundle`, verified under `root`.
fn fact(bundle: &[u8], root: &TrustedRoot) -> EvidenceFact {
    let env = andon_domain::Envelope::parse(bundle).expect("envelope");
    let st = andon_domain::Statement::parse(&env.payload_type, &env.payload).expect("statement");
    let (name, digest) = st.subject_digests().remove(0);
    let v = verify_bundle(
        bundle,
        ("sha256", &digest.hex()),
        std::slice::from_ref(root),
    )
    .expect("verifies");
    EvidenceFact {
        document: Sha256Digest::of(bundle),
        application: "pypi".parse::<AppName>().expect("name"),
        run: None,
        predicate_type: st.predicate_type,
        subjects: vec![SubjectRef {
            name,
            digest: digest.into(),
            also: vec![],
        }],
        keyid: v.key,
        signer: v.signature.identity.clone(),
        cosigners: vec![],
        unverified_signatures: vec![],
        keyless: Some(v.signature),
        summary: None,
        commits: vec![],
        scm: None,
        report: None,
        components: None,
    }
}

/// The `key` findings of the rule over `entries` (with their documents), by index.
fn key_findings(entries: &[(LedgerEntry, Option<Vec<u8>>)]) -> Vec<(u64, String)> {
    let mut rule = Actors::default();
    let mut keys = LogKeys::new(
        vec![],
        andon_ledger::LogSigner::new("log", [5; 32]).verifier(),
    );
    let mut found = Vec::new();
    for (i, (e, doc)) in entries.iter().enumerate() {
        let bytes = e.to_bytes();
        let mut out = Vec::new();
        rule.check(
            &Subject {
                index: i as u64,
                bytes: &bytes,
                entry: e,
                document: doc.as_deref(),
            },
            &mut keys,
            &mut out,
        );
        found.extend(
            out.into_iter()
                .filter(|f| f.check == "key")
                .map(|f| (i as u64, f.message)),
        );
    }
    found
}

#[test]
fn keyless_entries_are_checked_against_the_roots_and_policy_of_their_index() {
    let doc = fixture("public-good.trusted_root.json");
    let root = TrustedRoot::parse("public-good", &doc).expect("root");
    let slsa = fixture("pypi-github-slsa.sigstore.json");
    let gitlab = fixture("pypi-gitlab-publish.sigstore.json");
    let good = fact(&slsa, &root);
    let as_entry =
        |f: &EvidenceFact| entry(EntryKind::Evidence, serde_json::to_value(f).expect("json"));
    let root_entry = entry(
        EntryKind::TrustedRootSet,
        json!({"name": "public-good", "sha256": root.sha256().hex(),
               "document": String::from_utf8(doc.clone()).expect("utf-8")}),
    );
    let policy = |identity: &str| {
        entry(
            EntryKind::KeylessPolicySet,
            json!({"application": "pypi", "policy": {"identities": [
                {"issuer": "https://token.actions.githubusercontent.com", "identity": identity}]}}),
        )
    };
    // A signer the certificate does not name, and a document that is another bundle.
    let mut renamed = good.clone();
    if let Some(k) = renamed.keyless.as_mut() {
        k.identity = "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main".into();
    }
    renamed.signer = renamed.keyless.as_ref().expect("keyless").identity.clone();
    let entries = vec![
        // 0: before any root or policy.
        (as_entry(&good), Some(slsa.clone())),
        (root_entry, None),
        (policy(RELEASE), None),
        // 3: as intake wrote it.
        (as_entry(&good), Some(slsa.clone())),
        // 4: the entry names a signer its bundle does not (and no rule admits).
        (as_entry(&renamed), Some(slsa.clone())),
        // 5: the entry's document is another signer's bundle.
        (as_entry(&good), Some(gitlab)),
        (
            policy("https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main"),
            None,
        ),
        // 7: the policy of its index no longer admits it.
        (as_entry(&good), Some(slsa)),
    ];
    let found = key_findings(&entries);
    let at: Vec<u64> = found.iter().map(|(i, _)| *i).collect();
    assert!(at.contains(&0), "{found:?}");
    assert!(
        !at.contains(&3),
        "the entry as intake wrote it passes: {found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(i, m)| *i == 4 && m.contains("verifies as signed by")),
        "{found:?}"
    );
    assert!(found.iter().any(|(i, _)| *i == 5), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(i, m)| *i == 7 && m.contains("not admitted")),
        "{found:?}"
    );
}
