//! The vulnerabilities control reads VEX evidence of the artifact (OpenVEX, CSAF, CycloneDX
//! VEX, all summarized to the same statements): a finding whose id or alias some VEX says is
//! `fixed`, or `not_affected` with a justification, no longer blocks, and the verdict says so.
//!
//! The summaries are those `andon_evidence::vulnerabilities` gives for the OpenVEX project's
//! nginx example (vexctl's `examples/sarif`: Trivy's scan of the image, whose findings at
//! high are CVE-2023-27103, CVE-2023-2953 and CVE-2023-31484, and the sample VEX for it),
//! cut down to what the control reads.

use andon_policy::{Bundle, ControlResult, Policy, Verdict};
use serde_json::{Value, json};

fn finding(id: &str, severity: &str, component: &str) -> Value {
    json!({"id": id, "severity": severity, "score": null, "component": component,
           "version": null, "fixed_version": null, "state": null})
}

/// Trivy's scan of the nginx image: its three findings at high.
fn trivy_scan() -> Value {
    json!({"id": "ev-scan", "kind": "vulnerabilities", "summary": {
    "kind": "vulnerabilities", "format": "sarif", "tools": ["Trivy"], "findings": 99,
    "by_severity": {"high": 3}, "max_severity": "high", "fixable": 0, "not_affected": 0,
    "ids": 64, "listed": [
        finding("CVE-2023-27103", "high", "libde265-0"),
        finding("CVE-2023-2953", "high", "libldap-2.5-0"),
        finding("CVE-2023-31484", "high", "perl-base"),
        finding("CVE-2007-5686", "low", "login"),
    ]}})
}

fn statement(id: &str, aliases: &[&str], status: &str, justification: Option<&str>) -> Value {
    json!({"id": id, "aliases": aliases, "status": status, "justification": justification,
           "impact": null, "action": null,
           "products": ["pkg:oci/nginx@sha256%3A13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"],
           "product_count": 1, "timestamp": "2023-08-16T19:55:22.076684217-06:00"})
}

/// A VEX summary of `format` with these statements (and no open finding).
fn vex(id: &str, format: &str, statements: Vec<Value>) -> Value {
    json!({"id": id, "kind": "vulnerabilities", "summary": {
        "kind": "vulnerabilities", "format": format, "tools": [], "findings": 0,
        "by_severity": {}, "max_severity": null, "fixable": 0,
        "not_affected": statements.len(), "ids": 0, "listed": [],
        "issuer": "The OpenVEX Project", "statement_count": statements.len(),
        "statements": statements}})
}

/// vexctl's `sample-2vulns.openvex.json`.
fn sample_vex() -> Value {
    vex(
        "ev-vex",
        "openvex",
        vec![
            statement(
                "CVE-2023-27103",
                &["SNYK-DEBIAN12-LIBDE265-3361563"],
                "not_affected",
                Some("component_not_present"),
            ),
            statement(
                "CVE-2007-5686",
                &["SNYK-DEBIAN12-SHADOW-1559391"],
                "fixed",
                None,
            ),
        ],
    )
}

fn waiver(id: &str, vulnerability: &str) -> Value {
    json!({"id": id, "control": "vulnerabilities", "vulnerability": vulnerability,
           "reason": "upstream has no fix", "ticket": "SEC-1", "requested_by": "a",
           "approved_by": "b", "expires_at": "2030-01-01T00:00:00Z"})
}

fn control(evidence: Vec<Value>, waivers: Vec<Value>) -> ControlResult {
    let p = Policy::compile(Bundle::builtin_default()).expect("compiles");
    let input = json!({"version": andon_policy::INPUT_VERSION, "evidence": evidence,
        "commits": [], "deployments": [], "waivers": waivers,
        "artifact": {"digest": "sha256:13d22ec63300e16014d4a42aed735207a8b33c223cff19627dd3042e5a10a3a0"},
        "environment": {"name": "production", "production": true}});
    p.evaluate(&input)
        .controls
        .into_iter()
        .find(|c| c.id == "vulnerabilities")
        .expect("the control")
}

/// The scan, kept to the findings listed by name.
fn scan_of(ids: &[&str]) -> Value {
    let mut s = trivy_scan();
    let listed = s["summary"]["listed"].as_array_mut().expect("listed");
    listed.retain(|f| ids.iter().any(|id| f["id"] == *id));
    s
}

#[test]
fn a_justified_not_affected_statement_clears_the_finding_and_the_pass_says_so() {
    let c = control(
        vec![scan_of(&["CVE-2023-27103", "CVE-2007-5686"]), sample_vex()],
        vec![],
    );
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(
        c.reason,
        "none open at or above high; not affected per VEX: CVE-2023-27103"
    );
    assert_eq!(c.evidence, vec!["ev-scan", "ev-vex"]);
}

#[test]
fn findings_the_vex_does_not_cover_still_block() {
    let c = control(vec![trivy_scan(), sample_vex()], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "2 open at or above high: CVE-2023-2953 (high, libldap-2.5-0), CVE-2023-31484 (high, perl-base)"
    );
}

#[test]
fn not_affected_without_a_justification_does_not_count() {
    let mut st = statement("CVE-2023-27103", &[], "not_affected", None);
    st["impact"] = "This is a sample OpenVEX file, it is not a real security assessment.".into();
    let c = control(
        vec![
            scan_of(&["CVE-2023-27103"]),
            vex("ev-vex", "openvex", vec![st]),
        ],
        vec![],
    );
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert!(
        c.reason.contains("CVE-2023-27103 (high, libde265-0)"),
        "{c:?}"
    );
    let empty = statement("CVE-2023-27103", &[], "not_affected", Some(""));
    let c = control(
        vec![
            scan_of(&["CVE-2023-27103"]),
            vex("ev-vex", "openvex", vec![empty]),
        ],
        vec![],
    );
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
}

#[test]
fn fixed_clears_and_affected_or_under_investigation_do_not() {
    for (status, verdict) in [
        ("fixed", Verdict::Pass),
        ("affected", Verdict::Fail),
        ("under_investigation", Verdict::Fail),
    ] {
        let c = control(
            vec![
                scan_of(&["CVE-2023-2953"]),
                vex(
                    "ev-vex",
                    "openvex",
                    vec![statement("CVE-2023-2953", &[], status, None)],
                ),
            ],
            vec![],
        );
        assert_eq!(c.verdict, verdict, "{status}: {c:?}");
    }
}

#[test]
fn an_alias_of_the_statement_matches_the_finding() {
    // Snyk reports the same vulnerability under its own id, which the VEX lists as an alias.
    let mut scan = scan_of(&["CVE-2023-27103"]);
    scan["summary"]["listed"][0]["id"] = "SNYK-DEBIAN12-LIBDE265-3361563".into();
    let c = control(vec![scan, sample_vex()], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(
        c.reason,
        "none open at or above high; not affected per VEX: SNYK-DEBIAN12-LIBDE265-3361563"
    );
}

#[test]
fn csaf_and_cyclonedx_vex_statements_count_alike() {
    // A CSAF VEX flagging CVE-2023-2953 `vulnerable_code_not_in_execute_path`, and a
    // CycloneDX VEX whose `code_not_present` the reader normalized.
    let csaf = vex(
        "ev-csaf",
        "csaf",
        vec![statement(
            "CVE-2023-2953",
            &[],
            "not_affected",
            Some("vulnerable_code_not_in_execute_path"),
        )],
    );
    let mut cdx = vex(
        "ev-cdx",
        "cyclonedx",
        vec![statement(
            "CVE-2023-31484",
            &[],
            "not_affected",
            Some("vulnerable_code_not_present"),
        )],
    );
    cdx["summary"]["tools"] = json!(["lib4vex"]);
    let c = control(vec![trivy_scan(), sample_vex(), csaf, cdx], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(
        c.reason,
        "none open at or above high; not affected per VEX: CVE-2023-27103, CVE-2023-2953, CVE-2023-31484"
    );
    assert_eq!(c.evidence, vec!["ev-scan", "ev-vex", "ev-csaf", "ev-cdx"]);
}

#[test]
fn a_vex_document_is_not_a_scan() {
    let c = control(vec![sample_vex()], vec![]);
    assert_eq!(c.verdict, Verdict::Missing, "{c:?}");
    assert_eq!(
        c.reason,
        "no vulnerability scan for this artifact (a VEX document is not a scan)"
    );
    let c = control(vec![], vec![]);
    assert_eq!(c.reason, "no vulnerability scan for this artifact");
}

#[test]
fn an_affected_finding_of_a_csaf_advisory_blocks_like_a_scans() {
    let mut advisory = vex(
        "ev-csaf",
        "csaf",
        vec![statement("CVE-2022-27193", &[], "affected", None)],
    );
    advisory["summary"]["listed"] = json!([finding(
        "CVE-2022-27193",
        "medium",
        "CSAF Tools CVRF-CSAF-Converter 1.0.0-rc1"
    )]);
    let scan = scan_of(&[]);
    let c = control(vec![scan.clone(), advisory.clone()], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "medium is below high: {c:?}");
    advisory["summary"]["listed"][0]["severity"] = "high".into();
    let c = control(vec![scan, advisory], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert!(
        c.reason
            .starts_with("1 open at or above high: CVE-2022-27193"),
        "{c:?}"
    );
}

#[test]
fn waivers_and_vex_together_waive_and_name_both() {
    let c = control(
        vec![trivy_scan(), sample_vex()],
        vec![
            waiver("W-1", "CVE-2023-2953"),
            waiver("W-2", "CVE-2023-31484"),
        ],
    );
    assert_eq!(c.verdict, Verdict::Waived, "{c:?}");
    assert_eq!(
        c.reason,
        "none open at or above high; waived: CVE-2023-2953, CVE-2023-31484; not affected per VEX: CVE-2023-27103"
    );
    assert_eq!(c.waiver.as_deref(), Some("W-1, W-2"));
    // A waiver of a finding the VEX already cleared is not applied.
    let c = control(
        vec![scan_of(&["CVE-2023-27103"]), sample_vex()],
        vec![waiver("W-3", "CVE-2023-27103")],
    );
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
}

#[test]
fn the_verdict_does_not_depend_on_the_order_of_evidence_or_statements() {
    let csaf = vex(
        "ev-csaf",
        "csaf",
        vec![
            statement("CVE-2023-2953", &[], "affected", None),
            statement(
                "CVE-2023-2953",
                &[],
                "not_affected",
                Some("inline_mitigations_already_exist"),
            ),
            statement("CVE-2023-31484", &[], "not_affected", None),
        ],
    );
    let forward = control(vec![trivy_scan(), sample_vex(), csaf.clone()], vec![]);
    let mut reversed_csaf = csaf;
    reversed_csaf["summary"]["statements"]
        .as_array_mut()
        .expect("statements")
        .reverse();
    let mut backward = control(vec![reversed_csaf, sample_vex(), trivy_scan()], vec![]);
    assert_eq!(forward.verdict, Verdict::Fail, "{forward:?}");
    assert_eq!(
        forward.reason,
        "1 open at or above high: CVE-2023-31484 (high, perl-base)"
    );
    // Only the evidence list follows the input's order.
    backward.evidence.reverse();
    assert_eq!(forward, backward);
}

#[test]
fn a_summary_from_before_vex_statements_reads_as_before() {
    let c = control(vec![scan_of(&["CVE-2007-5686"])], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(c.reason, "none open at or above high");
}
