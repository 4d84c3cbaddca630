//! Vulnerability summaries of a CycloneDX document with a vulnerabilities section (written by
//! cyclonedx-python-lib) and of Trivy's SARIF output.

use andon_evidence::ParseError;
use andon_evidence::vulnerabilities::parse;

const CYCLONEDX: &[u8] =
    include_bytes!("fixtures/vulnerabilities/cyclonedx-python-lib-11.12.0-vulnerability-1.6.json");
const TRIVY: &[u8] = include_bytes!("fixtures/vulnerabilities/trivy-alpine-310.sarif");

#[test]
fn cyclonedx_vulnerability_takes_its_worst_rating_and_resolves_the_component() {
    let s = parse(CYCLONEDX).expect("parses");
    assert_eq!(s.format, "cyclonedx");
    assert_eq!(s.tools, vec!["cyclonedx-python-lib".to_owned()]);
    assert_eq!((s.findings, s.ids, s.not_affected, s.fixable), (1, 1, 0, 0));
    // Rated critical (NVD, 9.8) and low (OWASP, 2.7): the worst one counts.
    assert_eq!(s.by_severity.get("critical"), Some(&1));
    assert_eq!(s.max_severity.as_deref(), Some("critical"));
    let f = &s.listed[0];
    assert_eq!(f.id, "CVE-2018-7489");
    assert_eq!(f.score, Some(9.8));
    assert_eq!(
        f.component.as_deref(),
        Some("pkg:pypi/setuptools@50.3.2?extension=tar.gz")
    );
    assert_eq!(f.version.as_deref(), Some("50.3.2"));
    assert_eq!(f.state.as_deref(), Some("exploitable"));
}

#[test]
fn vex_not_affected_and_unaffected_versions_are_read() {
    // The same real document, with the analysis a VEX would give and a fixed version.
    let mut v: serde_json::Value = serde_json::from_slice(CYCLONEDX).expect("json");
    v["vulnerabilities"][0]["analysis"]["state"] = "not_affected".into();
    let mut second = v["vulnerabilities"][0].clone();
    second["id"] = "CVE-2022-40897".into();
    second["analysis"]["state"] = "in_triage".into();
    second["ratings"] = serde_json::json!([{"score": 5.9, "method": "CVSSv31"}]);
    second["affects"][0]["versions"] = serde_json::json!([
        {"range": "vers:pypi/<65.5.1", "status": "affected"},
        {"version": "65.5.1", "status": "unaffected"}
    ]);
    v["vulnerabilities"]
        .as_array_mut()
        .expect("array")
        .push(second);
    let s = parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert_eq!((s.findings, s.not_affected, s.fixable), (1, 1, 1));
    // No severity word: the score's CVSS band.
    assert_eq!(s.by_severity.get("medium"), Some(&1));
    assert_eq!(s.listed[0].id, "CVE-2022-40897");
    assert_eq!(s.listed[0].fixed_version.as_deref(), Some("65.5.1"));
}

#[test]
fn trivy_sarif_gives_packages_installed_and_fixed_versions() {
    let s = parse(TRIVY).expect("parses");
    assert_eq!(s.format, "sarif");
    assert_eq!(s.tools, vec!["Trivy".to_owned()]);
    // Four CVEs in each of libcrypto1.1 and libssl1.1.
    assert_eq!((s.findings, s.ids, s.fixable), (8, 4, 8));
    assert_eq!(s.by_severity.get("medium"), Some(&6));
    assert_eq!(s.by_severity.get("low"), Some(&2));
    assert_eq!(s.max_severity.as_deref(), Some("medium"));
    let f = s
        .listed
        .iter()
        .find(|f| f.id == "CVE-2019-1551" && f.component.as_deref() == Some("libssl1.1"))
        .expect("listed");
    assert_eq!(f.version.as_deref(), Some("1.1.1c-r0"));
    assert_eq!(f.fixed_version.as_deref(), Some("1.1.1d-r2"));
    // Most severe first.
    assert_eq!(s.listed.last().map(|f| f.severity.as_str()), Some("low"));
}

#[test]
fn security_severity_outranks_tags_and_suppressed_results_are_not_open() {
    let mut v: serde_json::Value = serde_json::from_slice(TRIVY).expect("json");
    v["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] = "9.1".into();
    v["runs"][0]["results"][1]["suppressions"] = serde_json::json!([{"kind": "external"}]);
    let s = parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert_eq!((s.findings, s.not_affected), (7, 1));
    assert_eq!(s.by_severity.get("critical"), Some(&2));
    assert_eq!(s.max_severity.as_deref(), Some("critical"));
}

#[test]
fn other_documents_are_refused_clearly() {
    let e = parse(br#"{"spdxVersion": "SPDX-2.3"}"#).expect_err("not a scan");
    assert!(e.to_string().contains("neither a CycloneDX"), "{e}");
    let e = parse(b"{\n  \"runs\": 3,\n").expect_err("broken");
    assert!(matches!(e, ParseError::Malformed { line: 3, .. }), "{e:?}");
    let e = parse(br#"{"bomFormat": "CycloneDX", "vulnerabilities": [{"ratings": []}]}"#)
        .expect_err("no id");
    assert!(e.to_string().contains("vulnerability 0 has no id"), "{e}");
}

/// A report in a format the vulnerability reader does not take says what it is and what is
/// read, rather than a JSON parser's "expected value at line 1 column 1".
#[test]
fn a_wrong_format_says_what_is_read() {
    let junit = include_bytes!("fixtures/junit/pytest-9.2.0.xml");
    let e = andon_evidence::vulnerabilities::parse(junit)
        .expect_err("junit")
        .to_string();
    assert!(e.contains("not CycloneDX's <bom>"), "{e}");
    let e = andon_evidence::vulnerabilities::parse(b"{\"runs\": [")
        .expect_err("truncated")
        .to_string();
    assert!(
        e.contains("line 1") && e.contains("not valid JSON") && e.contains("SARIF"),
        "{e}"
    );
}
