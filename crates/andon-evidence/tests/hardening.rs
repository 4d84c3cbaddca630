//! Hardening scans written by Nmap 7.93 and OpenSCAP 1.3.7, and InSpec's own reporter
//! fixtures; the difference between two scans; hostile documents. The counts were checked
//! apart from this crate with `xmllint --xpath` (`count(//port[state/@state="open"])`,
//! `count(//*[local-name()='rule-result'][*[local-name()='result']='fail'])`, ...) and `jq`.

use andon_evidence::ParseError;
use andon_evidence::hardening::{HardeningDiff, HardeningSummary, diff, parse};

const SCAN1: &[u8] = include_bytes!("fixtures/hardening/nmap-7.93-scan1.xml");
const SCAN2: &[u8] = include_bytes!("fixtures/hardening/nmap-7.93-scan2.xml");
const TWO_HOSTS: &[u8] = include_bytes!("fixtures/hardening/nmap-7.93-two-hosts.xml");
const RESULTS1: &[u8] = include_bytes!("fixtures/hardening/openscap-1.3.7-results1.xml");
const RESULTS2: &[u8] = include_bytes!("fixtures/hardening/openscap-1.3.7-results2.xml");
const ARF1: &[u8] = include_bytes!("fixtures/hardening/openscap-1.3.7-arf1.xml");
const ARF2: &[u8] = include_bytes!("fixtures/hardening/openscap-1.3.7-arf2.xml");
const XCCDF11: &[u8] = include_bytes!("fixtures/hardening/openscap-1.3.7-xccdf-1.1-results.xml");
const INSPEC: &[u8] = include_bytes!("fixtures/hardening/inspec-json_output.json");
const INSPEC_MERGED: &[u8] = include_bytes!("fixtures/hardening/inspec-json_merged_output.json");
const INSPEC_MIN: &[u8] = include_bytes!("fixtures/hardening/inspec-json_min_output.json");

const RULE: &str = "xccdf_com.example.andon_rule_";
const INSPEC_FAILING: &str = "(generated from example.rb:21 2ff474c5357e7070f4c3efa932032dcb)";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn rules(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("{RULE}{n}")).collect()
}

fn text(doc: &[u8]) -> &str {
    std::str::from_utf8(doc).expect("the sample is UTF-8")
}

/// Nmap's `<!DOCTYPE nmaprun>` names no DTD: it is read past. Only `open` ports are listed;
/// the port Nmap could not name has no service.
#[test]
fn nmap_scan_is_summarized_exactly() {
    assert!(text(SCAN1).contains("<!DOCTYPE nmaprun>"));
    let s = parse(SCAN1).expect("parses");
    assert_eq!(
        s,
        HardeningSummary {
            format: "nmap".into(),
            tool: "nmap".into(),
            tool_version: Some("7.93".into()),
            targets: strings(&["127.0.0.1"]),
            hosts_up: 1,
            open_ports: strings(&["127.0.0.1 tcp/18022", "127.0.0.1 tcp/18080 http"]),
            open_ports_total: 2,
            ..Default::default()
        }
    );
    let s2 = parse(SCAN2).expect("parses");
    assert_eq!(
        s2.open_ports,
        strings(&[
            "127.0.0.1 tcp/18022",
            "127.0.0.1 tcp/18025 smtp-proxy",
            "127.0.0.1 tcp/18080 http",
        ])
    );
    assert_eq!((s2.open_ports_total, s2.hosts_up), (3, 1));
}

#[test]
fn the_nmap_pair_names_exactly_the_newly_opened_port() {
    let (before, after) = (parse(SCAN1).expect("1"), parse(SCAN2).expect("2"));
    let d = diff(&before, &after);
    assert_eq!(
        d,
        HardeningDiff {
            new_open_ports: strings(&["127.0.0.1 tcp/18025 smtp-proxy"]),
            ..Default::default()
        }
    );
    assert!(d.exposure_gained());
    let back = diff(&after, &before);
    assert_eq!(
        back.closed_ports,
        strings(&["127.0.0.1 tcp/18025 smtp-proxy"])
    );
    assert!(back.new_open_ports.is_empty());
    assert!(!back.exposure_gained(), "closing a port gains no exposure");
    assert!(!diff(&after, &after).exposure_gained());
}

/// Without `-sV` Nmap guesses names from its table (`unknown` for 18080): a port whose
/// service name changed is the same port, not a new one.
#[test]
fn two_hosts_and_ports_compared_without_their_service_names() {
    let s = parse(TWO_HOSTS).expect("parses");
    assert_eq!(s.targets, strings(&["127.0.0.1", "127.0.0.2"]));
    assert_eq!(s.hosts_up, 2);
    assert_eq!(
        s.open_ports,
        strings(&[
            "127.0.0.1 tcp/18022",
            "127.0.0.1 tcp/18025",
            "127.0.0.1 tcp/18080",
        ])
    );
    let d = diff(&parse(SCAN2).expect("parses"), &s);
    assert_eq!(d, HardeningDiff::default());
}

#[test]
fn filtered_and_closed_ports_are_not_open() {
    let open = r#"<port protocol="tcp" portid="18080"><state state="open""#;
    assert!(text(SCAN1).contains(open));
    for state in ["filtered", "closed", "open|filtered"] {
        let doc = text(SCAN1).replace(
            open,
            &format!(r#"<port protocol="tcp" portid="18080"><state state="{state}""#),
        );
        let s = parse(doc.as_bytes()).expect("parses");
        assert_eq!(s.open_ports, strings(&["127.0.0.1 tcp/18022"]), "{state}");
    }
}

#[test]
fn openscap_results_are_summarized_exactly() {
    let s = parse(RESULTS1).expect("parses");
    assert_eq!(
        s,
        HardeningSummary {
            format: "xccdf".into(),
            tool: "openscap".into(),
            tool_version: Some("1.3.7".into()),
            targets: strings(&["vm"]),
            rules_total: 5,
            rules_pass: 3,
            rules_fail: 1,
            failing: rules(&["tls_min_version"]),
            passing: rules(&[
                "app_conf_not_world_writable",
                "app_debug_disabled",
                "sshd_root_login_disabled",
            ]),
            profile: Some("xccdf_com.example.andon_profile_production".into()),
            benchmark: Some("xccdf_com.example.andon_benchmark_service_baseline".into()),
            ..Default::default()
        }
    );
}

/// The ARF of the same evaluation says the same; its report request holds the benchmark
/// and its OVAL results, neither of which is a rule result.
#[test]
fn openscap_arf_agrees_with_its_results_file() {
    assert!(text(ARF1).contains("<arf:asset-report-collection"));
    assert_eq!(
        parse(ARF1).expect("arf1"),
        parse(RESULTS1).expect("results1")
    );
    assert_eq!(
        parse(ARF2).expect("arf2"),
        parse(RESULTS2).expect("results2")
    );
}

#[test]
fn the_xccdf_pair_names_exactly_the_newly_failing_rule() {
    for (one, two) in [(RESULTS1, RESULTS2), (ARF1, ARF2)] {
        let (before, after) = (parse(one).expect("1"), parse(two).expect("2"));
        assert_eq!((after.rules_pass, after.rules_fail), (2, 2));
        let d = diff(&before, &after);
        assert_eq!(
            d,
            HardeningDiff {
                newly_failing: rules(&["app_debug_disabled"]),
                ..Default::default()
            }
        );
        assert!(d.exposure_gained());
        let back = diff(&after, &before);
        assert_eq!(back.newly_passing, rules(&["app_debug_disabled"]));
        assert!(!back.exposure_gained());
    }
}

/// XCCDF 1.1 (its namespace, ids without the `xccdf_` form, no benchmark id in the
/// TestResult): `error` counts as failing, `notchecked` as neither.
#[test]
fn xccdf_1_1_results_count_errors_as_failing() {
    let s = parse(XCCDF11).expect("parses");
    assert!(text(XCCDF11).contains("http://checklists.nist.gov/xccdf/1.1"));
    assert_eq!((s.rules_total, s.rules_pass, s.rules_fail), (6, 2, 3));
    assert_eq!(
        s.failing,
        strings(&[
            "rule-app_debug_disabled",
            "rule-audit_log_retained",
            "rule-tls_min_version",
        ])
    );
    assert_eq!(s.benchmark.as_deref(), Some("service-baseline"));
    assert_eq!(s.profile.as_deref(), Some("profile-production"));
}

/// A TestResult on its own (as some tools keep it, cut out of the results) reads the same:
/// its `<benchmark>` child names the benchmark.
#[test]
fn a_bare_test_result_is_read() {
    let doc = text(RESULTS1);
    let start = doc.find("<TestResult").expect("a TestResult");
    let end = doc.find("</TestResult>").expect("its end") + "</TestResult>".len();
    let bare = parse(&RESULTS1[start..end]).expect("parses");
    let whole = parse(RESULTS1).expect("parses");
    assert_eq!(bare, whole);
}

#[test]
fn inspec_json_reporter_is_summarized_exactly() {
    let s = parse(INSPEC).expect("parses");
    assert_eq!(
        s,
        HardeningSummary {
            format: "inspec".into(),
            tool: "inspec".into(),
            tool_version: Some("1.49.2".into()),
            rules_total: 4,
            rules_pass: 3,
            rules_fail: 1,
            failing: strings(&[INSPEC_FAILING]),
            passing: strings(&[
                "(generated from example.rb:7 871cd54043069c5c4f6e382fd5627830)",
                "(generated from run_command.rb:5 a411d4ded1530b2f48170840e1127584)",
                "tmp-1.0",
            ]),
            profile: Some("long_commands".into()),
            ..Default::default()
        }
    );
}

/// A skipped control is counted, neither passing nor failing.
#[test]
fn inspec_skipped_controls_neither_pass_nor_fail() {
    let s = parse(INSPEC_MERGED).expect("parses");
    assert_eq!(s.tool_version.as_deref(), Some("2.2.26"));
    assert_eq!((s.rules_total, s.rules_pass, s.rules_fail), (3, 2, 0));
    assert_eq!(s.passing, strings(&["pro1-con1", "pro1-con2"]));
    assert_eq!(s.profile.as_deref(), Some("wrapper-override"));
}

/// With `--enhanced-outcomes` a control carries its own status, which wins over its results.
#[test]
fn an_inspec_control_status_overrides_its_results() {
    let doc = text(INSPEC).replacen(
        r#""id":"tmp-1.0","#,
        r#""id":"tmp-1.0","status":"error","#,
        1,
    );
    let s = parse(doc.as_bytes()).expect("parses");
    assert_eq!((s.rules_pass, s.rules_fail), (2, 2));
    assert_eq!(s.failing, strings(&[INSPEC_FAILING, "tmp-1.0"]));
    let doc = text(INSPEC).replacen(
        r#""id":"tmp-1.0","#,
        r#""id":"tmp-1.0","status":"maybe","#,
        1,
    );
    let err = parse(doc.as_bytes())
        .expect_err("an unknown status")
        .to_string();
    assert!(err.contains("maybe"), "{err}");
}

#[test]
fn inspec_json_min_agrees_with_the_json_reporter() {
    let (min, full) = (
        parse(INSPEC_MIN).expect("min"),
        parse(INSPEC).expect("full"),
    );
    assert_eq!(min, full);
}

#[test]
fn an_internal_dtd_subset_is_refused() {
    let doc = text(SCAN1).replace(
        "<!DOCTYPE nmaprun>",
        r#"<!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#,
    );
    assert!(matches!(
        parse(doc.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
    let lol = r#"<?xml version="1.0"?><!DOCTYPE Benchmark [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Benchmark><TestResult/></Benchmark>"#;
    assert!(matches!(
        parse(lol.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
}

#[test]
fn truncated_and_malformed_scans_say_where() {
    let cut = &SCAN1[..text(SCAN1).find("</nmaprun>").expect("closing tag")];
    let err = parse(cut).expect_err("an interrupted scan");
    assert!(err.to_string().contains("</nmaprun>"), "{err}");
    let doc = text(RESULTS1).replacen("<result>pass</result>", "<result>maybe</result>", 1);
    match parse(doc.as_bytes()) {
        Err(ParseError::Malformed { line, message, .. }) => {
            assert!(line > 1, "{line}");
            assert!(message.contains("maybe"), "{message}");
        }
        other => panic!("expected a malformed error, got {other:?}"),
    }
    match parse(b"{\"profiles\": [\n  {\"controls\": [}\n]}") {
        Err(ParseError::Malformed { line, .. }) => assert_eq!(line, 2),
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

#[test]
fn the_wrong_format_is_named() {
    let junit = br#"<?xml version="1.0"?><testsuite name="t" tests="0"/>"#;
    let err = parse(junit).expect_err("JUnit is no scan").to_string();
    assert!(
        err.contains("<testsuite>") && err.contains("Nmap XML"),
        "{err}"
    );
    let sarif = br#"{"version": "2.1.0", "runs": []}"#;
    let err = parse(sarif).expect_err("SARIF is no scan").to_string();
    assert!(err.contains("InSpec"), "{err}");
    let benchmark = include_bytes!("fixtures/hardening/openscap-content/andon-xccdf.xml");
    let err = parse(benchmark)
        .expect_err("a benchmark has no results")
        .to_string();
    assert!(err.contains("no TestResult"), "{err}");
}

#[test]
fn oversized_documents_are_refused() {
    let doc = vec![b' '; 128 * 1024 * 1024 + 1];
    assert!(matches!(parse(&doc), Err(ParseError::Refused { .. })));
}

#[test]
fn summaries_and_diffs_serialize_with_their_field_names() {
    let s = parse(SCAN2).expect("parses");
    let v = serde_json::to_value(&s).expect("serializes");
    assert_eq!(v["open_ports"][1], "127.0.0.1 tcp/18025 smtp-proxy");
    assert_eq!(v["format"], "nmap");
    let back: HardeningSummary = serde_json::from_value(v).expect("deserializes");
    assert_eq!(back, s);
    let d = diff(&parse(SCAN1).expect("parses"), &s);
    let v = serde_json::to_value(&d).expect("serializes");
    assert_eq!(v["new_open_ports"][0], "127.0.0.1 tcp/18025 smtp-proxy");
    assert_eq!(v["newly_failing"], serde_json::json!([]));
}
