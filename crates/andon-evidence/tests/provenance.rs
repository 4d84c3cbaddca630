//! SLSA provenance summaries.

use andon_evidence::ParseError;
use andon_evidence::provenance::{SLSA_V1, SLSA_V02, parse};

#[test]
fn npm_provenance_generator_output_names_builder_source_and_commit() {
    let st: serde_json::Value = serde_json::from_slice(include_bytes!(
        "fixtures/provenance/npmcli-provenance-cli-0.0.3.json"
    ))
    .expect("json");
    assert_eq!(st["predicateType"], SLSA_V1);
    let s = parse(SLSA_V1, &st["predicate"]).expect("parses");
    assert_eq!(
        s.builder_id,
        "https://github.com/actions/runner/github-hosted"
    );
    assert_eq!(
        s.build_type,
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
    );
    assert_eq!(
        s.source_repository.as_deref(),
        Some("https://github.com/acme/payments")
    );
    assert_eq!(s.source_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(
        s.source_commit.as_deref(),
        Some("4a1c2f9e0b7d3c5a8e6f1b2d9c0a7e3f5b8d1c2e")
    );
    assert_eq!(s.resolved_dependencies, 1);
    assert_eq!(
        s.invocation_id.as_deref(),
        Some("https://github.com/acme/payments/actions/runs/9001/attempts/1")
    );
}

#[test]
fn slsa_v02_reads_the_config_source() {
    // Shaped as slsa-github-generator's v0.2 provenance.
    let p = serde_json::json!({
        "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0"},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
        "invocation": {"configSource": {"uri": "git+https://github.com/acme/payments@refs/tags/v1.4.0",
                                         "digest": {"sha1": "0123456789abcdef0123456789abcdef01234567"},
                                         "entryPoint": ".github/workflows/release.yml"}},
        "metadata": {"buildInvocationId": "4711-1"},
        "materials": [{"uri": "git+https://github.com/acme/payments@refs/tags/v1.4.0"}]
    });
    let s = parse(SLSA_V02, &p).expect("parses");
    assert_eq!(s.slsa_version, "v0.2");
    assert_eq!(
        s.source_repository.as_deref(),
        Some("https://github.com/acme/payments")
    );
    assert_eq!(s.source_ref.as_deref(), Some("refs/tags/v1.4.0"));
    assert_eq!(
        s.source_commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(s.resolved_dependencies, 1);
}

#[test]
fn an_ssh_user_is_not_mistaken_for_a_ref_and_missing_fields_are_named() {
    let p = serde_json::json!({
        "buildDefinition": {"buildType": "t", "resolvedDependencies": [
            {"uri": "git+ssh://git@github.com/acme/payments", "digest": {"gitCommit": "abc"}}]},
        "runDetails": {"builder": {"id": "b"}}
    });
    let s = parse(SLSA_V1, &p).expect("parses");
    assert_eq!(
        (s.source_repository.as_deref(), s.source_ref.as_deref()),
        (Some("ssh://git@github.com/acme/payments"), None)
    );
    let err = parse(
        SLSA_V1,
        &serde_json::json!({"buildDefinition": {"buildType": "t"}}),
    )
    .unwrap_err();
    assert!(
        matches!(&err, ParseError::Malformed { message, .. } if message.contains("builder.id")),
        "{err}"
    );
    assert!(parse(SLSA_V1, &serde_json::json!([])).is_err());
}
