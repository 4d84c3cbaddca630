//! Secret scans (gitleaks 8.16.0 run on a throw-away repository, TruffleHog's documented
//! JSON output) and ZAP reports (the reports add-on's expected outputs, ZAP 2.4.3's example
//! scan), and hostile documents.

use andon_evidence::ParseError;
use andon_evidence::{dast, secrets};
use serde_json::{Value, json};

const LEAKS: &[u8] = include_bytes!("fixtures/secrets/gitleaks-8.16.0-leaks.json");
const NO_GIT: &[u8] = include_bytes!("fixtures/secrets/gitleaks-8.16.0-no-git.json");
const CLEAN: &[u8] = include_bytes!("fixtures/secrets/gitleaks-8.16.0-clean.json");
const LEAKS_SARIF: &[u8] = include_bytes!("fixtures/secrets/gitleaks-8.16.0-leaks.sarif");
const TRUFFLEHOG: &[u8] = include_bytes!("fixtures/secrets/trufflehog-readme-git-json.jsonl");
const ZAP_JSON: &[u8] = include_bytes!("fixtures/dast/zap-reports-basic-traditional-json.json");
const ZAP_JSON_PLUS: &[u8] =
    include_bytes!("fixtures/dast/zap-reports-basic-traditional-json-plus.json");
const ZAP_XML: &[u8] = include_bytes!("fixtures/dast/zap-reports-basic-traditional-xml.xml");
const ZAP_243: &[u8] = include_bytes!("fixtures/dast/zap-2.4.3-report-merged.xml");

fn message(e: ParseError) -> String {
    e.to_string()
}

/// Every 8-character window of each secret text: none may appear in the summary.
fn assert_no_secret(summary: &impl serde::Serialize, secrets: &[String]) {
    let out = serde_json::to_string(summary).expect("serializes");
    assert!(!secrets.is_empty());
    for secret in secrets {
        let chars: Vec<char> = secret.chars().collect();
        for w in chars.windows(8.min(chars.len())) {
            let part: String = w.iter().collect();
            assert!(!out.contains(&part), "{part:?} of a secret is in {out}");
        }
    }
}

#[test]
fn gitleaks_history_scan_counts_rules_and_files() {
    let s = secrets::parse(LEAKS).expect("parses");
    assert_eq!(
        (s.format.as_str(), s.tool.as_str()),
        ("gitleaks-json", "gitleaks")
    );
    assert_eq!((s.findings, s.files, s.verified), (4, 3, None));
    assert_eq!(s.by_rule.get("github-pat"), Some(&2));
    assert_eq!(s.by_rule.get("aws-access-token"), Some(&1));
    assert_eq!(s.by_rule.get("generic-api-key"), Some(&1));
    assert_eq!(s.listed.len(), 4);
    // Sorted by file and line.
    let first = &s.listed[0];
    assert_eq!(first.rule, "aws-access-token");
    assert_eq!(first.file.as_deref(), Some("config/settings.env"));
    assert_eq!(first.line, Some(3));
    let commit = first
        .commit
        .as_deref()
        .expect("a history scan names the commit");
    assert_eq!(commit.len(), 40);
    assert_eq!(
        first.fingerprint.as_deref(),
        Some(format!("{commit}:config/settings.env:aws-access-token:3").as_str())
    );
    let lines: Vec<_> = s
        .listed
        .iter()
        .map(|f| (f.file.as_deref().unwrap_or(""), f.line.unwrap_or(0)))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("config/settings.env", 3),
            ("scripts/release.sh", 3),
            ("scripts/release.sh", 6),
            ("src/payments.py", 3)
        ]
    );
}

#[test]
fn gitleaks_directory_scan_has_no_commits() {
    let s = secrets::parse(NO_GIT).expect("parses");
    assert_eq!((s.findings, s.files), (4, 3));
    assert!(s.listed.iter().all(|f| f.commit.is_none()));
    assert!(
        s.listed
            .iter()
            .all(|f| f.file.as_deref().is_some_and(|p| p.starts_with("leaky/")))
    );
}

#[test]
fn an_empty_gitleaks_report_is_zero_findings() {
    assert_eq!(CLEAN, b"[]\n");
    let s = secrets::parse(CLEAN).expect("parses");
    assert_eq!((s.findings, s.files), (0, 0));
    assert!(s.by_rule.is_empty() && s.listed.is_empty());
    assert_eq!(s.tool, "gitleaks");
}

#[test]
fn no_secret_of_the_gitleaks_sample_reaches_the_summary() {
    let v: Value = serde_json::from_slice(LEAKS).expect("json");
    let mut texts = Vec::new();
    for f in v.as_array().expect("array") {
        for k in ["Secret", "Match"] {
            texts.push(f[k].as_str().expect("text").to_owned());
        }
    }
    assert!(texts.contains(&"api_key = \"q8Zr4Tn6Lp2Wx9Ks7Vd3Hy5M\"".to_owned()));
    for doc in [LEAKS, NO_GIT] {
        assert_no_secret(&secrets::parse(doc).expect("parses"), &texts);
    }
}

#[test]
fn a_file_name_holding_the_secret_is_redacted() {
    let mut v: Value = serde_json::from_slice(LEAKS).expect("json");
    let secret = v[0]["Secret"].as_str().expect("secret").to_owned();
    v[0]["File"] = format!("dump/{secret}.txt").into();
    v[0]["Fingerprint"] = format!("x:dump/{secret}.txt:r:1").into();
    let s = secrets::parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert!(
        s.listed
            .iter()
            .any(|f| f.file.as_deref() == Some("(redacted)"))
    );
    assert_no_secret(&s, &[secret]);
}

#[test]
fn another_findings_secret_is_redacted_from_every_field() {
    // Found by fuzzing: the second finding's secret is the first finding's rule. Each
    // finding's own secret is not enough to scrub against.
    let s = secrets::parse(b"[{\"RuleID\":\"releas\"},{\"Secret\":\"releas\",\n\"RuleID\":\"\"}]")
        .expect("parses");
    assert_eq!(s.findings, 2);
    assert!(s.by_rule.contains_key("(redacted)"), "{:?}", s.by_rule);
    assert_no_secret(&s, &["releas".to_owned()]);
    // The real report: one finding's secret planted in another's file, commit and
    // fingerprint, and in a TruffleHog line's detector name.
    let mut v: Value = serde_json::from_slice(LEAKS).expect("json");
    let secret = v[0]["Secret"].as_str().expect("secret").to_owned();
    let last = v.as_array().expect("array").len() - 1;
    assert!(last > 0, "the fixture has several findings");
    v[last]["File"] = format!("notes/{secret}").into();
    v[last]["Commit"] = secret.clone().into();
    v[last]["Fingerprint"] = format!("c:{secret}:r:2").into();
    let s = secrets::parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert_no_secret(&s, std::slice::from_ref(&secret));
    let t: Value = serde_json::from_slice(TRUFFLEHOG).expect("json");
    let raw = t["Raw"].as_str().expect("raw").to_owned();
    let mut other = t.clone();
    other["DetectorName"] = format!("x{raw}").into();
    other["Raw"] = "another-secret".into();
    let doc = format!("{other}\n{t}\n");
    let s = secrets::parse(doc.as_bytes()).expect("parses");
    assert_eq!(s.findings, 2);
    assert_no_secret(&s, &[raw]);
}

#[test]
fn trufflehog_documented_json_line_is_read_without_its_secret() {
    let s = secrets::parse(TRUFFLEHOG).expect("parses");
    assert_eq!(
        (s.format.as_str(), s.tool.as_str()),
        ("trufflehog-json-lines", "trufflehog")
    );
    assert_eq!((s.findings, s.files, s.verified), (1, 1, Some(1)));
    assert_eq!(s.by_rule.get("AWS"), Some(&1));
    let f = &s.listed[0];
    assert_eq!(f.file.as_deref(), Some("keys"));
    assert_eq!(f.line, Some(4));
    assert_eq!(
        f.commit.as_deref(),
        Some("fbc14303ffbf8fb1c2c1914e8dda7d0121633aca")
    );
    assert_eq!(f.verified, Some(true));
    let v: Value = serde_json::from_slice(TRUFFLEHOG).expect("json");
    let mut texts = vec![v["Raw"].as_str().expect("raw").to_owned()];
    texts.extend(
        v["ExtraData"]
            .as_object()
            .expect("extra")
            .values()
            .map(|x| x.as_str().expect("text").to_owned()),
    );
    assert_no_secret(&s, &texts);
}

#[test]
fn trufflehog_lines_skip_logs_and_count_unverified() {
    let line = std::str::from_utf8(TRUFFLEHOG).expect("utf-8").trim();
    let unverified = line
        .replace("\"Verified\":true", "\"Verified\":false")
        .replace("\"line\":4", "\"line\":9");
    let doc = format!(
        "{{\"level\":\"info-0\",\"msg\":\"running source\"}}\n{line}\n\n{unverified}\n{{\"level\":\"info-0\",\"msg\":\"finished scanning\",\"verified_secrets\":1}}\n"
    );
    let s = secrets::parse(doc.as_bytes()).expect("parses");
    assert_eq!((s.findings, s.files, s.verified), (2, 1, Some(1)));
    assert_eq!(s.listed[1].line, Some(9));
    // A line that is no finding names its line.
    let bad = format!("{line}\n\n\n{{\"note\":\"hello\"}}\n");
    match secrets::parse(bad.as_bytes()) {
        Err(ParseError::Malformed { line, message, .. }) => {
            assert_eq!(line, 4);
            assert!(message.contains("DetectorName"), "{message}");
        }
        other => panic!("expected a malformed error, got {other:?}"),
    }
    match secrets::parse(format!("{line}\n{{\"DetectorName\":").as_bytes()) {
        Err(ParseError::Malformed { line, .. }) => assert_eq!(line, 2),
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

#[test]
fn other_documents_given_as_secrets_are_refused_saying_what_is_read() {
    let sarif = message(secrets::parse(LEAKS_SARIF).expect_err("SARIF is refused"));
    assert!(
        sarif.contains("SARIF") && sarif.contains("--report-format json"),
        "{sarif}"
    );
    let object = message(secrets::parse(br#"{"findings": []}"#).expect_err("refused"));
    assert!(
        object.contains("gitleaks") && object.contains("TruffleHog"),
        "{object}"
    );
    let xml = message(secrets::parse(b"<report/>").expect_err("refused"));
    assert!(xml.contains("XML"), "{xml}");
    let empty = message(secrets::parse(b" \n").expect_err("refused"));
    assert!(empty.contains("empty") && empty.contains("[]"), "{empty}");
    let v7 = message(secrets::parse(br#"[{"rule":"AWS","offender":"x"}]"#).expect_err("refused"));
    assert!(v7.contains("RuleID"), "{v7}");
    // A ZAP report is not a secrets report.
    assert!(secrets::parse(ZAP_JSON).is_err());
}

#[test]
fn secrets_are_bounded_but_counted_in_full() {
    let many: Vec<Value> = (0..1500)
        .map(|i| json!({"RuleID": "r", "File": format!("f{i:04}"), "StartLine": 1}))
        .collect();
    let s = secrets::parse(&serde_json::to_vec(&many).expect("json")).expect("parses");
    assert_eq!((s.findings, s.files, s.listed.len()), (1500, 1500, 1000));
    let too_many = format!("[{}]", vec![r#"{"RuleID":"r"}"#; 200_001].join(","));
    assert!(matches!(
        secrets::parse(too_many.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
}

#[test]
fn zap_traditional_json_from_the_reports_add_on() {
    let s = dast::parse(ZAP_JSON).expect("parses");
    assert_eq!(s.format, "zap");
    assert_eq!(s.tool_version.as_deref(), Some("Dev Build"));
    assert_eq!(s.sites, vec!["http://example.com".to_owned()]);
    assert_eq!((s.alerts, s.instances, s.false_positives), (1, 2, 0));
    assert_eq!(s.by_risk.get("high"), Some(&1));
    assert_eq!(s.max_risk.as_deref(), Some("high"));
    let a = &s.listed[0];
    assert_eq!(
        (
            a.plugin_id.as_str(),
            a.alert_ref.as_deref(),
            a.name.as_str()
        ),
        ("1", Some("1"), "XSS")
    );
    assert_eq!((a.risk.as_str(), a.confidence.as_str()), ("high", "medium"));
    assert_eq!((a.cwe, a.wasc, a.instances), (Some(123), Some(456), 2));
    // The report with requests and responses, and the XML one, say the same.
    assert_eq!(dast::parse(ZAP_JSON_PLUS).expect("plus parses"), s);
    assert_eq!(dast::parse(ZAP_XML).expect("xml parses"), s);
}

/// ZAP 2.4.3's example report of a scan of the bodgeit store: 10 alerts (2 high, 4 medium,
/// 4 low), 295 instances by `count`, of which ZAP listed at most 20 per alert (125).
#[test]
fn zap_243_xml_counts_instances_beyond_those_listed() {
    let s = dast::parse(ZAP_243).expect("parses");
    assert_eq!(s.tool_version.as_deref(), Some("2.4.3"));
    assert_eq!(s.sites, vec!["http://localhost:8080".to_owned()]);
    assert_eq!((s.alerts, s.instances), (10, 295));
    assert_eq!(s.by_risk.get("high"), Some(&2));
    assert_eq!(s.by_risk.get("medium"), Some(&4));
    assert_eq!(s.by_risk.get("low"), Some(&4));
    assert_eq!(s.by_risk.get("informational"), None);
    assert_eq!(s.max_risk.as_deref(), Some("high"));
    let names: Vec<_> = s.listed.iter().take(3).map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "Cross Site Scripting (Reflected)",
            "SQL Injection",
            "X-Frame-Options Header Not Set"
        ]
    );
    assert_eq!(
        (s.listed[0].cwe, s.listed[0].alert_ref.as_deref()),
        (Some(79), None)
    );
    let xss_protection = s
        .listed
        .iter()
        .find(|a| a.plugin_id == "10016")
        .expect("10016");
    assert_eq!(
        (xss_protection.instances, xss_protection.risk.as_str()),
        (58, "low")
    );
    assert_eq!(s.listed.iter().map(|a| a.instances).sum::<u64>(), 295);
}

#[test]
fn alert_types_are_counted_once_across_sites_and_false_positives_apart() {
    let mut v: Value = serde_json::from_slice(ZAP_JSON).expect("json");
    let mut second = v["site"][0].clone();
    second["@name"] = "https://example.org".into();
    let mut fp = second["alerts"][0].clone();
    fp["pluginid"] = "10020".into();
    fp["alertRef"] = "10020-1".into();
    fp["confidence"] = "0".into();
    let mut info = second["alerts"][0].clone();
    info["pluginid"] = "10027".into();
    info["alertRef"] = "10027".into();
    info["alert"] = "Information Disclosure".into();
    info["riskcode"] = "0".into();
    info["count"] = "1".into(); // fewer than the two listed: the listed count wins
    let alerts = second["alerts"].as_array_mut().expect("alerts");
    alerts.push(fp);
    alerts.push(info);
    v["site"].as_array_mut().expect("sites").push(second);
    let s = dast::parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert_eq!(s.sites.len(), 2);
    assert_eq!((s.alerts, s.false_positives), (2, 1));
    assert_eq!(s.by_risk.get("high"), Some(&1));
    assert_eq!(s.by_risk.get("informational"), Some(&1));
    assert_eq!(s.instances, 2 + 2 + 2);
    let order: Vec<_> = s
        .listed
        .iter()
        .map(|a| (a.risk.as_str(), a.site.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("high", "http://example.com"),
            ("high", "https://example.org"),
            ("informational", "https://example.org")
        ]
    );
}

#[test]
fn a_scan_without_alerts_is_read() {
    let s = dast::parse(br#"{"@programName":"ZAP","@version":"2.16.1","site":[{"@name":"http://localhost:3000","alerts":[]}]}"#)
        .expect("parses");
    assert_eq!((s.alerts, s.instances, s.max_risk), (0, 0, None));
    assert_eq!(s.sites, vec!["http://localhost:3000".to_owned()]);
}

#[test]
fn other_documents_given_as_dast_are_refused_saying_what_is_read() {
    let sarif = message(dast::parse(LEAKS_SARIF).expect_err("SARIF is refused"));
    assert!(
        sarif.contains("SARIF") && sarif.contains("traditional-json"),
        "{sarif}"
    );
    let gitleaks = message(dast::parse(LEAKS).expect_err("refused"));
    assert!(gitleaks.contains("not a ZAP report"), "{gitleaks}");
    let html = message(dast::parse(b"<html><body/></html>").expect_err("refused"));
    assert!(html.contains("<OWASPZAPReport>"), "{html}");
    let mut v: Value = serde_json::from_slice(ZAP_JSON).expect("json");
    v["site"][0]["alerts"][0]["riskcode"] = "7".into();
    let risk = message(dast::parse(&serde_json::to_vec(&v).expect("json")).expect_err("refused"));
    assert!(risk.contains("riskcode") && risk.contains("XSS"), "{risk}");
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><OWASPZAPReport/>"#;
    assert!(matches!(dast::parse(xxe), Err(ParseError::Refused { .. })));
    let cut = &ZAP_243[..ZAP_243.len() / 2];
    assert!(matches!(
        dast::parse(cut),
        Err(ParseError::Malformed { .. })
    ));
}

#[test]
fn dast_is_bounded_but_counted_in_full() {
    let alert = |i: usize| {
        json!({"pluginid": format!("{i}"), "alert": format!("a{i}"), "riskcode": "1",
               "confidence": "2", "count": "1"})
    };
    let v = json!({"site": [{"@name": "http://x", "alerts": (0..1500).map(alert).collect::<Vec<_>>()}]});
    let s = dast::parse(&serde_json::to_vec(&v).expect("json")).expect("parses");
    assert_eq!((s.alerts, s.instances, s.listed.len()), (1500, 1500, 1000));
    let item =
        "<alertitem><pluginid>1</pluginid><alert>a</alert><riskcode>1</riskcode></alertitem>";
    let doc = format!(
        "<OWASPZAPReport><site name=\"x\"><alerts>{}</alerts></site></OWASPZAPReport>",
        item.repeat(200_001)
    );
    assert!(matches!(
        dast::parse(doc.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
}
