//! The evidence a realistic pipeline run attests beyond its provenance and tests, built from
//! reports real tools wrote (ruff's SARIF, cyclonedx-py's SBOM, Trivy's and
//! cyclonedx-python-lib's vulnerability reports): shared by the demo and the gate benchmark.

use andon_domain::{
    COVERAGE_PREDICATE_V1, ReportPredicate, SARIF_PREDICATE_V1, SBOM_PREDICATE_V1, Sha256Digest,
    Statement, VULNERABILITIES_PREDICATE_V1,
};

const RUFF: &[u8] = include_bytes!("../../andon-evidence/tests/fixtures/sarif/ruff-0.17.6.sarif");
const SBOM: &[u8] =
    include_bytes!("../../andon-evidence/tests/fixtures/sbom/cyclonedx-py-7.5.0-1.6.json");
const TRIVY: &[u8] =
    include_bytes!("../../andon-evidence/tests/fixtures/vulnerabilities/trivy-alpine-310.sarif");
const CRITICAL: &[u8] = include_bytes!(
    "../../andon-evidence/tests/fixtures/vulnerabilities/cyclonedx-python-lib-11.12.0-vulnerability-1.6.json"
);

/// A report attestation of one run (the path names the run, so each run's envelope is its
/// own record even when the report is byte-identical).
pub fn report(
    subject: &(String, Sha256Digest),
    predicate_type: &str,
    bytes: &[u8],
    path: &str,
) -> Statement {
    Statement::new(
        vec![subject.clone()],
        predicate_type.into(),
        serde_json::to_value(ReportPredicate::new(
            "application/octet-stream",
            Some(path.to_owned()),
            bytes,
        ))
        .unwrap_or_default(),
    )
}

/// LCOV for one file with 90% of its 200 lines covered.
pub fn lcov() -> String {
    let mut s = String::from("TN:\nSF:src/lib.rs\n");
    for l in 1..=200 {
        s.push_str(&format!("DA:{l},{}\n", u32::from(l % 10 != 0)));
    }
    s.push_str("LF:200\nLH:180\nend_of_record\n");
    s
}

/// Pipeline definition, coverage, static analysis, SBOM and a vulnerability scan of one run:
/// clean, except the scan when `vulnerable` (a critical CVE in setuptools).
pub fn evidence(
    subject: &(String, Sha256Digest),
    repository: &str,
    merge_commit: &str,
    run: &str,
    vulnerable: bool,
) -> anyhow::Result<Vec<(&'static str, Statement)>> {
    let mut clean = serde_json::from_slice::<serde_json::Value>(RUFF)?;
    clean["runs"][0]["results"] = serde_json::json!([]);
    let clean = serde_json::to_vec(&clean)?;
    let mut pipeline = serde_json::to_value(ReportPredicate::new(
        "application/yaml",
        Some(format!(".github/workflows/release.yml@{run}")),
        b"on: push\njobs:\n  build: {uses: ./.github/workflows/build.yml}\n",
    ))?;
    pipeline["repository"] = repository.into();
    pipeline["commit"] = merge_commit.into();
    Ok(vec![
        (
            "pipeline-definition",
            Statement::new(
                vec![subject.clone()],
                andon_domain::scm::PIPELINE_DEFINITION_PREDICATE_V1.into(),
                pipeline,
            ),
        ),
        (
            "coverage",
            report(
                subject,
                COVERAGE_PREDICATE_V1,
                lcov().as_bytes(),
                &format!("runs/{run}/lcov.info"),
            ),
        ),
        (
            "sarif",
            report(
                subject,
                SARIF_PREDICATE_V1,
                &clean,
                &format!("runs/{run}/ruff.sarif"),
            ),
        ),
        (
            "sbom",
            report(
                subject,
                SBOM_PREDICATE_V1,
                SBOM,
                &format!("runs/{run}/bom.json"),
            ),
        ),
        (
            "vulnerabilities",
            report(
                subject,
                VULNERABILITIES_PREDICATE_V1,
                if vulnerable { CRITICAL } else { TRIVY },
                &format!("runs/{run}/scan"),
            ),
        ),
    ])
}

/// The report files of one clean pipeline run, as a CI job has them on disk: (attest verb,
/// file name, bytes). Real tools' output where the project has it.
pub fn files(
    repository: &str,
    commit: &str,
    run: &str,
) -> anyhow::Result<Vec<(&'static str, &'static str, Vec<u8>)>> {
    let mut clean = serde_json::from_slice::<serde_json::Value>(RUFF)?;
    clean["runs"][0]["results"] = serde_json::json!([]);
    let provenance = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": crate::demo::provenance(&format!("https://github.com/{repository}"), commit, run),
    });
    Ok(vec![
        (
            "junit",
            "junit.xml",
            crate::demo::junit_report("app", 1).into_bytes(),
        ),
        ("coverage", "lcov.info", lcov().into_bytes()),
        ("sarif", "ruff.sarif", serde_json::to_vec(&clean)?),
        ("sbom", "bom.json", SBOM.to_vec()),
        ("vulnerabilities", "trivy.sarif", TRIVY.to_vec()),
        (
            "provenance",
            "provenance.json",
            serde_json::to_vec(&provenance)?,
        ),
    ])
}
