//! The `no-secrets` and `dynamic-scan` controls read the summaries of secret scans and ZAP
//! reports: missing without one, failing with what was found, waived finding by finding, and
//! passing on a clean scan.
//!
//! The summaries are those `andon_evidence::summarize` gives for the real reports under
//! `crates/andon-evidence/tests/fixtures/`: gitleaks 8.16.0's scans of a throw-away repository
//! (`secrets/gitleaks-8.16.0-leaks.json`, `-no-git.json`, `-clean.json`), TruffleHog's
//! documented JSON line (`secrets/trufflehog-readme-git-json.jsonl`), the ZAP reports add-on's
//! expected traditional JSON (`dast/zap-reports-basic-traditional-json.json`) and ZAP 2.4.3's
//! example scan of the bodgeit store (`dast/zap-2.4.3-report-merged.xml`).

use andon_policy::{Bundle, ControlResult, Policy, Verdict};
use serde_json::{Value, json};

const COMMIT_A: &str = "93e6ed000e17cba4b43f756561f73d2a6a2c9cf6";
const COMMIT_B: &str = "e129e2abb1328a81bfc495143e33327d2d55f113";
const COMMIT_C: &str = "7704b5c13fc37f9b13303f1553643191013a5923";

fn gitleaks_finding(commit: Option<&str>, file: &str, rule: &str, line: u64) -> Value {
    let fingerprint = match commit {
        Some(c) => format!("{c}:{file}:{rule}:{line}"),
        None => format!("{file}:{rule}:{line}"),
    };
    json!({"commit": commit, "file": file, "fingerprint": fingerprint, "line": line,
           "rule": rule, "verified": null})
}

fn evidence(id: &str, kind: &str, summary: Value) -> Value {
    json!({"id": id, "kind": kind, "summary": summary})
}

/// gitleaks 8.16.0's scan of the repository's history: four leaks in three files.
fn gitleaks_history() -> Value {
    evidence(
        "ev-gitleaks",
        "secrets",
        json!({"kind": "secrets", "format": "gitleaks-json", "tool": "gitleaks", "findings": 4,
        "by_rule": {"aws-access-token": 1, "generic-api-key": 1, "github-pat": 2},
        "verified": null, "files": 3, "listed": [
            gitleaks_finding(Some(COMMIT_A), "config/settings.env", "aws-access-token", 3),
            gitleaks_finding(Some(COMMIT_A), "scripts/release.sh", "github-pat", 3),
            gitleaks_finding(Some(COMMIT_B), "scripts/release.sh", "github-pat", 6),
            gitleaks_finding(Some(COMMIT_C), "src/payments.py", "generic-api-key", 3),
        ]}),
    )
}

/// gitleaks 8.16.0's scan of the same files without git (`--no-git`).
fn gitleaks_no_git() -> Value {
    evidence(
        "ev-no-git",
        "secrets",
        json!({"kind": "secrets", "format": "gitleaks-json", "tool": "gitleaks", "findings": 4,
        "by_rule": {"aws-access-token": 1, "generic-api-key": 1, "github-pat": 2},
        "verified": null, "files": 3, "listed": [
            gitleaks_finding(None, "leaky/config/settings.env", "aws-access-token", 3),
            gitleaks_finding(None, "leaky/scripts/release.sh", "github-pat", 3),
            gitleaks_finding(None, "leaky/scripts/release.sh", "github-pat", 6),
            gitleaks_finding(None, "leaky/src/payments.py", "generic-api-key", 3),
        ]}),
    )
}

/// gitleaks 8.16.0's report of a clean repository (`[]`).
fn gitleaks_clean() -> Value {
    evidence(
        "ev-clean",
        "secrets",
        json!({"kind": "secrets", "format": "gitleaks-json", "tool": "gitleaks", "findings": 0,
            "by_rule": {}, "verified": null, "files": 0, "listed": []}),
    )
}

/// TruffleHog's documented finding: an AWS key in `keys`, verified live unless `verified` is
/// false (the same line with `"Verified":false`).
fn trufflehog(verified: bool) -> Value {
    evidence(
        "ev-trufflehog",
        "secrets",
        json!({"kind": "secrets", "format": "trufflehog-json-lines", "tool": "trufflehog",
            "findings": 1, "by_rule": {"AWS": 1}, "verified": u64::from(verified), "files": 1,
            "listed": [{"commit": "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca", "file": "keys",
                "fingerprint": null, "line": 4, "rule": "AWS", "verified": verified}]}),
    )
}

fn alert(plugin_id: &str, name: &str, risk: &str, cwe: Option<u64>, instances: u64) -> Value {
    json!({"alert_ref": null, "confidence": "medium", "cwe": cwe, "instances": instances,
           "name": name, "plugin_id": plugin_id, "risk": risk,
           "site": "http://localhost:8080", "wasc": null})
}

/// ZAP 2.4.3's scan of the bodgeit store: 10 alert types, 2 high, 4 medium, 4 low.
fn zap_bodgeit() -> Value {
    evidence(
        "ev-zap",
        "dast",
        json!({"kind": "dast", "format": "zap", "tool_version": "2.4.3",
        "sites": ["http://localhost:8080"], "alerts": 10, "instances": 295,
        "by_risk": {"high": 2, "low": 4, "medium": 4}, "max_risk": "high",
        "false_positives": 0, "listed": [
            alert("40012", "Cross Site Scripting (Reflected)", "high", Some(79), 1),
            alert("40018", "SQL Injection", "high", Some(89), 1),
            alert("10020", "X-Frame-Options Header Not Set", "medium", None, 58),
            alert("30001", "Buffer Overflow", "medium", Some(120), 33),
            alert("30002", "Format String Error", "medium", Some(134), 33),
            alert("90022", "Application Error Disclosure", "medium", Some(200), 1),
            alert("10016", "Web Browser XSS Protection Not Enabled", "low", Some(933), 58),
            alert("10021", "X-Content-Type-Options Header Missing", "low", None, 58),
            alert("10010", "Cookie set without HttpOnly flag", "low", None, 50),
            alert("10012", "Password Autocomplete in browser", "low", Some(525), 2),
        ]}),
    )
}

/// The reports add-on's expected traditional JSON: one high alert with its alert reference.
fn zap_basic() -> Value {
    evidence(
        "ev-zap-basic",
        "dast",
        json!({"kind": "dast", "format": "zap", "tool_version": "Dev Build",
            "sites": ["http://example.com"], "alerts": 1, "instances": 2,
            "by_risk": {"high": 1}, "max_risk": "high", "false_positives": 0, "listed": [
                {"alert_ref": "1", "confidence": "medium", "cwe": 123, "instances": 2,
                 "name": "XSS", "plugin_id": "1", "risk": "high",
                 "site": "http://example.com", "wasc": 456}]}),
    )
}

/// A waiver in force for `control`, with `scope` (the field naming what it waives).
fn waiver(id: &str, control: &str, scope: Option<(&str, &str)>) -> Value {
    let mut w = json!({"id": id, "control": control, "vulnerability": null,
        "reason": "rotated; history rewrite scheduled", "ticket": "SEC-9",
        "requested_by": "a", "approved_by": "b", "expires_at": "2030-01-01T00:00:00Z"});
    if let Some((field, value)) = scope {
        w[field] = value.into();
    }
    w
}

fn evaluate_with(params: Value, evidence: Vec<Value>, waivers: Vec<Value>) -> Vec<ControlResult> {
    let mut bundle = Bundle::builtin_default();
    if let Value::Object(p) = params {
        bundle.params.extend(p);
    }
    let policy = Policy::compile(bundle).expect("compiles");
    let input = json!({"version": andon_policy::INPUT_VERSION, "evidence": evidence,
        "commits": [], "deployments": [], "waivers": waivers,
        "artifact": {"digest": "sha256:00"},
        "environment": {"name": "production", "production": true}});
    policy.evaluate(&input).controls
}

fn control_with(
    id: &str,
    params: Value,
    evidence: Vec<Value>,
    waivers: Vec<Value>,
) -> ControlResult {
    evaluate_with(params, evidence, waivers)
        .into_iter()
        .find(|c| c.id == id)
        .expect("the control")
}

fn no_secrets(evidence: Vec<Value>, waivers: Vec<Value>) -> ControlResult {
    control_with("no-secrets", json!({}), evidence, waivers)
}

fn dynamic_scan(evidence: Vec<Value>, waivers: Vec<Value>) -> ControlResult {
    control_with("dynamic-scan", json!({}), evidence, waivers)
}

#[test]
fn both_controls_declare_their_evidence_stage_and_parameters() {
    let (p, tests) = Policy::validate(Bundle::builtin_default()).expect("valid");
    let meta = |id: &str| {
        p.controls()
            .into_iter()
            .find(|c| c.id == id)
            .expect("declared")
            .clone()
    };
    let s = meta("no-secrets");
    assert_eq!(
        (s.stage.as_str(), s.evidence.clone()),
        ("build", vec!["secrets".to_owned(), "waivers".to_owned()])
    );
    assert_eq!(
        s.params,
        json!({"allow_unverified": false, "require_scan": false})
    );
    assert!(s.frameworks.iter().any(|f| f == "NIST SP 800-53 IA-5(7)"));
    let d = meta("dynamic-scan");
    assert_eq!(
        (d.stage.as_str(), d.evidence.clone()),
        ("test", vec!["dast".to_owned(), "waivers".to_owned()])
    );
    assert_eq!(d.params, json!({"risk": "high", "require_scan": false}));
    assert!(d.frameworks.iter().any(|f| f == "NIST SP 800-53 SA-11(8)"));
    // Their own Rego unit tests run and hold.
    for package in ["no_secrets", "dynamic_scan"] {
        let own: Vec<_> = tests
            .iter()
            .filter(|t| {
                t.name
                    .starts_with(&format!("andon.controls.{package}.test_"))
            })
            .collect();
        assert_eq!(own.len(), 2, "{package}: {tests:?}");
        assert!(own.iter().all(|t| t.passed), "{own:?}");
    }
    assert!(p.compiled_to_vm());
}

#[test]
fn without_a_scan_both_do_not_apply_unless_required() {
    let c = no_secrets(vec![zap_basic()], vec![]);
    assert_eq!(c.verdict, Verdict::NotApplicable, "{c:?}");
    let c = dynamic_scan(vec![gitleaks_clean()], vec![]);
    assert_eq!(c.verdict, Verdict::NotApplicable, "{c:?}");
}

#[test]
fn without_a_scan_both_are_missing_when_required() {
    let required =
        json!({"no-secrets": {"require_scan": true}, "dynamic-scan": {"require_scan": true}});
    let c = control_with("no-secrets", required.clone(), vec![zap_basic()], vec![]);
    assert_eq!(c.verdict, Verdict::Missing, "{c:?}");
    assert_eq!(c.reason, "no secrets scan for this artifact");
    let c = control_with("dynamic-scan", required, vec![gitleaks_clean()], vec![]);
    assert_eq!(c.verdict, Verdict::Missing, "{c:?}");
    assert_eq!(c.reason, "no dynamic scan (DAST) for this artifact");
    // A ZAP report of no site scanned nothing.
    let mut empty = zap_basic();
    empty["summary"]["sites"] = json!([]);
    empty["summary"]["listed"] = json!([]);
    empty["summary"]["by_risk"] = json!({});
    let c = dynamic_scan(vec![empty], vec![]);
    assert_eq!(c.verdict, Verdict::Missing, "{c:?}");
    assert_eq!(
        c.reason,
        "no dynamic scan (DAST) for this artifact (a report of no site scanned nothing)"
    );
}

#[test]
fn leaked_secrets_fail_with_counts_by_rule_and_the_files() {
    let c = no_secrets(vec![gitleaks_history()], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "4 secrets found (aws-access-token 1, generic-api-key 1, github-pat 2) in 3 files: \
         config/settings.env, scripts/release.sh, src/payments.py"
    );
    assert_eq!(c.evidence, vec!["ev-gitleaks"]);
    // A clean scan beside it does not hide the leaks.
    let c = no_secrets(vec![gitleaks_clean(), gitleaks_no_git()], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert!(
        c.reason.starts_with("4 secrets found (") && c.reason.contains("leaky/src/payments.py"),
        "{c:?}"
    );
    assert_eq!(c.evidence, vec!["ev-clean", "ev-no-git"]);
}

#[test]
fn waivers_naming_every_fingerprint_waive_and_are_named() {
    let fingerprints = [
        format!("{COMMIT_A}:config/settings.env:aws-access-token:3"),
        format!("{COMMIT_A}:scripts/release.sh:github-pat:3"),
        format!("{COMMIT_B}:scripts/release.sh:github-pat:6"),
        format!("{COMMIT_C}:src/payments.py:generic-api-key:3"),
    ];
    let waivers: Vec<Value> = fingerprints
        .iter()
        .enumerate()
        .map(|(i, f)| waiver(&format!("W-{i}"), "no-secrets", Some(("fingerprint", f))))
        .collect();
    let c = no_secrets(vec![gitleaks_history()], waivers.clone());
    assert_eq!(c.verdict, Verdict::Waived, "{c:?}");
    let mut sorted = fingerprints.clone();
    sorted.sort();
    assert_eq!(
        c.reason,
        format!("no secret open; waived: {}", sorted.join(", "))
    );
    assert_eq!(c.waiver.as_deref(), Some("W-0, W-1, W-2, W-3"));
    // The waiver record's one-finding field names a fingerprint alike.
    let by_id: Vec<Value> = fingerprints
        .iter()
        .enumerate()
        .map(|(i, f)| waiver(&format!("V-{i}"), "no-secrets", Some(("vulnerability", f))))
        .collect();
    let c = no_secrets(vec![gitleaks_history()], by_id.clone());
    assert_eq!(c.verdict, Verdict::Waived, "{c:?}");
    assert_eq!(c.waiver.as_deref(), Some("V-0, V-1, V-2, V-3"));
    // Waivers of another control do not count.
    let mut other = waivers;
    for w in &mut other {
        w["control"] = "vulnerabilities".into();
    }
    let c = no_secrets(vec![gitleaks_history()], other);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    // Three of four waived: the fourth still fails, alone.
    let c = no_secrets(vec![gitleaks_history()], by_id[1..].to_vec());
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "1 secret found (aws-access-token 1) in 1 file: config/settings.env"
    );
}

#[test]
fn a_finding_without_fingerprint_is_waived_by_its_location() {
    // TruffleHog gives no fingerprint: the key is commit:file:rule:line, gitleaks' layout.
    let key = "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca:keys:AWS:4";
    let c = no_secrets(
        vec![trufflehog(true)],
        vec![waiver("W-1", "no-secrets", Some(("fingerprint", key)))],
    );
    assert_eq!(c.verdict, Verdict::Waived, "{c:?}");
    assert_eq!(c.reason, format!("no secret open; waived: {key}"));
    // gitleaks without git: file:rule:line.
    let c = no_secrets(
        vec![gitleaks_no_git()],
        vec![waiver(
            "W-2",
            "no-secrets",
            Some(("vulnerability", "leaky/src/payments.py:generic-api-key:3")),
        )],
    );
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "3 secrets found (aws-access-token 1, github-pat 2) in 2 files: \
         leaky/config/settings.env, leaky/scripts/release.sh"
    );
}

#[test]
fn a_clean_scan_passes() {
    let c = no_secrets(vec![gitleaks_clean()], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(c.reason, "no secret found by 1 scan");
    assert_eq!(c.evidence, vec!["ev-clean"]);
    let mut second = gitleaks_clean();
    second["id"] = "ev-clean-2".into();
    let c = no_secrets(vec![gitleaks_clean(), second], vec![]);
    assert_eq!(c.reason, "no secret found by 2 scans");
}

#[test]
fn allow_unverified_lets_only_dead_trufflehog_findings_through() {
    let allow = json!({"no-secrets": {"allow_unverified": true}});
    // By default an unverified finding blocks like any other.
    let c = no_secrets(vec![trufflehog(false)], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(c.reason, "1 secret found (AWS 1) in 1 file: keys");
    let c = control_with("no-secrets", allow.clone(), vec![trufflehog(false)], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(c.reason, "no secret found by 1 scan (1 unverified allowed)");
    // A verified finding, and gitleaks' (which are never verified), still block.
    let c = control_with("no-secrets", allow.clone(), vec![trufflehog(true)], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    let c = control_with("no-secrets", allow, vec![gitleaks_history()], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert!(c.reason.starts_with("4 secrets found"), "{c:?}");
}

#[test]
fn findings_past_the_listing_bound_block_and_are_counted() {
    // A scan that counted more findings than it lists: those it does not list cannot be
    // waived, so even with every listed one waived the control fails, counting them.
    let mut scan = gitleaks_history();
    scan["summary"]["findings"] = 1504.into();
    let waivers: Vec<Value> = scan["summary"]["listed"]
        .as_array()
        .expect("listed")
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let fp = f["fingerprint"].as_str().expect("fingerprint");
            waiver(&format!("W-{i}"), "no-secrets", Some(("vulnerability", fp)))
        })
        .collect();
    let c = no_secrets(vec![scan.clone()], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert!(
        c.reason.starts_with(
            "1504 secrets found (aws-access-token 1, generic-api-key 1, github-pat 2) in 3 files"
        ) && c
            .reason
            .ends_with("; 1500 of them not listed by the scan (no waiver can name them)"),
        "{c:?}"
    );
    let c = no_secrets(vec![scan], waivers);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "1500 secrets found; 1500 of them not listed by the scan (no waiver can name them)"
    );
}

#[test]
fn the_same_leak_in_two_scans_counts_once_whatever_the_order() {
    let mut again = gitleaks_history();
    again["id"] = "ev-gitleaks-2".into();
    let forward = no_secrets(
        vec![gitleaks_history(), again.clone(), trufflehog(true)],
        vec![],
    );
    assert_eq!(forward.verdict, Verdict::Fail, "{forward:?}");
    assert_eq!(
        forward.reason,
        "5 secrets found (AWS 1, aws-access-token 1, generic-api-key 1, github-pat 2) in 4 files: \
         config/settings.env, keys, scripts/release.sh, src/payments.py"
    );
    let mut backward = no_secrets(vec![trufflehog(true), again, gitleaks_history()], vec![]);
    backward.evidence.reverse();
    assert_eq!(forward, backward);
}

#[test]
fn a_control_level_waiver_still_waives_the_whole_control() {
    let c = no_secrets(
        vec![gitleaks_history()],
        vec![waiver("W-all", "no-secrets", None)],
    );
    assert_eq!(c.verdict, Verdict::Waived, "{c:?}");
    assert!(c.reason.starts_with("waived by W-all ("), "{c:?}");
    assert_eq!(c.waiver.as_deref(), Some("W-all"));
}

#[test]
fn alerts_at_or_above_high_fail_naming_name_rule_risk_and_site() {
    let c = dynamic_scan(vec![zap_bodgeit()], vec![]);
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "2 alerts at or above high: \
         Cross Site Scripting (Reflected) [40012] (high, http://localhost:8080), \
         SQL Injection [40018] (high, http://localhost:8080)"
    );
    assert_eq!(c.evidence, vec!["ev-zap"]);
    let c = dynamic_scan(vec![zap_basic()], vec![]);
    assert_eq!(
        c.reason,
        "1 alert at or above high: XSS [1] (high, http://example.com)"
    );
}

#[test]
fn the_risk_parameter_moves_the_bar() {
    let at = |risk: &str| {
        control_with(
            "dynamic-scan",
            json!({"dynamic-scan": {"risk": risk}}),
            vec![zap_bodgeit()],
            vec![],
        )
    };
    let medium = at("medium");
    assert_eq!(medium.verdict, Verdict::Fail, "{medium:?}");
    assert!(
        medium.reason.starts_with("6 alerts at or above medium: "),
        "{medium:?}"
    );
    assert!(
        medium
            .reason
            .contains("X-Frame-Options Header Not Set [10020] (medium, http://localhost:8080)"),
        "{medium:?}"
    );
    assert!(!medium.reason.contains("(low,"), "{medium:?}");
    assert!(at("low").reason.starts_with("10 alerts at or above low: "));
    assert!(
        at("informational")
            .reason
            .starts_with("10 alerts at or above informational: ")
    );
    // Nothing at or above high once both high alerts are gone.
    let mut fixed = zap_bodgeit();
    let listed = fixed["summary"]["listed"].as_array_mut().expect("listed");
    listed.retain(|a| a["risk"] != "high");
    fixed["summary"]["by_risk"] = json!({"low": 4, "medium": 4});
    let c = dynamic_scan(vec![fixed], vec![]);
    assert_eq!(c.verdict, Verdict::Pass, "{c:?}");
    assert_eq!(c.reason, "no alert at or above high on 1 site (1 scan)");
    // A risk ZAP does not have fails closed, saying so.
    let c = at("critical");
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "the parameter risk critical is not one of informational, low, medium, high"
    );
}

#[test]
fn waivers_by_plugin_id_waive_the_alerts_of_that_rule() {
    let c = dynamic_scan(
        vec![zap_bodgeit()],
        vec![
            waiver("W-xss", "dynamic-scan", Some(("alert", "40012"))),
            waiver("W-sqli", "dynamic-scan", Some(("vulnerability", "40018"))),
            waiver("W-unused", "dynamic-scan", Some(("alert", "10020"))),
        ],
    );
    assert_eq!(c.verdict, Verdict::Waived, "{c:?}");
    assert_eq!(
        c.reason,
        "none open at or above high; waived: \
         Cross Site Scripting (Reflected) [40012] (high, http://localhost:8080), \
         SQL Injection [40018] (high, http://localhost:8080)"
    );
    // Only the waivers that waived an alert at or above the risk are named.
    assert_eq!(c.waiver.as_deref(), Some("W-sqli, W-xss"));
    // One of two waived: the other still fails, alone.
    let c = dynamic_scan(
        vec![zap_bodgeit()],
        vec![waiver(
            "W-xss",
            "dynamic-scan",
            Some(("vulnerability", "40012")),
        )],
    );
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "1 alert at or above high: SQL Injection [40018] (high, http://localhost:8080)"
    );
}

#[test]
fn an_alert_reference_waives_one_alert_of_a_rule_and_the_plugin_id_all() {
    // ZAP 2.11 on names each of a rule's alerts (`10020-1` is the missing X-Frame-Options).
    let mut scan = zap_bodgeit();
    scan["summary"]["listed"][2]["alert_ref"] = "10020-1".into();
    let medium = json!({"dynamic-scan": {"risk": "medium"}});
    let others: Vec<Value> = ["40012", "40018", "30001", "30002", "90022"]
        .iter()
        .map(|p| {
            waiver(
                &format!("W-{p}"),
                "dynamic-scan",
                Some(("vulnerability", p)),
            )
        })
        .collect();
    for (name, verdict) in [
        ("10020-1", Verdict::Waived),
        ("10020", Verdict::Waived),
        ("10020-2", Verdict::Fail),
    ] {
        let mut waivers = others.clone();
        waivers.push(waiver(
            "W-frame",
            "dynamic-scan",
            Some(("vulnerability", name)),
        ));
        let c = control_with("dynamic-scan", medium.clone(), vec![scan.clone()], waivers);
        assert_eq!(c.verdict, verdict, "{name}: {c:?}");
        if verdict == Verdict::Fail {
            assert_eq!(
                c.reason,
                "1 alert at or above medium: \
                 X-Frame-Options Header Not Set [10020-1] (medium, http://localhost:8080)"
            );
        }
    }
}

#[test]
fn alert_types_past_the_listing_bound_block() {
    // A report counting a high alert type it does not list: it cannot be waived.
    let mut scan = zap_basic();
    scan["summary"]["by_risk"] = json!({"high": 3});
    let c = dynamic_scan(
        vec![scan],
        vec![waiver("W-1", "dynamic-scan", Some(("vulnerability", "1")))],
    );
    assert_eq!(c.verdict, Verdict::Fail, "{c:?}");
    assert_eq!(
        c.reason,
        "2 alerts at or above high; 2 alert types not listed by the scan (no waiver can name them)"
    );
}

#[test]
fn both_controls_agree_across_the_library_on_an_empty_input() {
    let all = evaluate_with(json!({}), vec![], vec![]);
    for id in ["no-secrets", "dynamic-scan"] {
        let c = all.iter().find(|c| c.id == id).expect("evaluated");
        assert_eq!(c.verdict, Verdict::NotApplicable, "{c:?}");
    }
}
