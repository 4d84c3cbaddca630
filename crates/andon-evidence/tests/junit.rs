//! JUnit summaries of reports written by real runners, and hostile documents.

use andon_evidence::ParseError;
use andon_evidence::junit::parse;

#[test]
fn pytest_report_counts_each_outcome() {
    let s = parse(include_bytes!("fixtures/junit/pytest-9.2.0.xml")).expect("parses");
    assert_eq!(
        (s.suites, s.tests, s.passed, s.failures, s.errors, s.skipped),
        (1, 5, 2, 1, 1, 1)
    );
    assert_eq!(
        s.failing,
        vec![
            "test_checkout::test_currency_rounding",
            "test_checkout::test_uses_broken_fixture"
        ]
    );
    assert!(s.duration_seconds < 1.0);
}

#[test]
fn cargo_nextest_report_counts_each_outcome() {
    let s = parse(include_bytes!("fixtures/junit/cargo-nextest-0.9.143.xml")).expect("parses");
    assert_eq!(
        (s.suites, s.tests, s.passed, s.failures, s.errors, s.skipped),
        (1, 3, 2, 1, 0, 0)
    );
    assert_eq!(s.failing, vec!["nxsample::tests::overflow_is_reported"]);
    assert!(
        (s.duration_seconds - 0.162).abs() < 1e-9,
        "{}",
        s.duration_seconds
    );
}

#[test]
fn totals_in_attributes_cannot_hide_listed_failures() {
    let doc = br#"<testsuite name="s" tests="2" failures="0"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>"#;
    let s = parse(doc).expect("parses");
    assert_eq!((s.tests, s.failures), (2, 1));
}

#[test]
fn nested_suites_as_surefire_and_jest_write_them_are_counted() {
    let doc = br#"<?xml version="1.0"?>
<testsuites name="jest tests" tests="3">
  <testsuite name="outer"><testsuite name="inner">
    <testcase classname="Cart" name="adds" time="0.5"/>
    <testcase classname="Cart" name="removes" time="0.25"><skipped/></testcase>
  </testsuite>
  <testcase classname="Cart" name="totals" time="0.25"><error message="boom"/></testcase>
  </testsuite>
</testsuites>"#;
    let s = parse(doc).expect("parses");
    assert_eq!(
        (s.suites, s.tests, s.passed, s.skipped, s.errors),
        (2, 3, 1, 1, 1)
    );
    assert_eq!(s.duration_seconds, 1.0);
}

#[test]
fn a_doctype_is_refused_so_no_entity_can_expand() {
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<testsuite name="&lol2;"><testcase name="a"/></testsuite>"#;
    assert!(matches!(parse(bomb), Err(ParseError::Refused { .. })));
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite name="&x;"/>"#;
    assert!(matches!(parse(xxe), Err(ParseError::Refused { .. })));
}

#[test]
fn malformed_documents_name_the_line() {
    let doc =
        b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a\">\n</testsuite>\n</testsuites>";
    match parse(doc) {
        Err(ParseError::Malformed { line, .. }) => assert_eq!(line, 4),
        other => panic!("expected a malformed error, got {other:?}"),
    }
    assert!(matches!(
        parse(b"<html><body/></html>"),
        Err(ParseError::Malformed { .. })
    ));
    assert!(matches!(parse(b""), Err(ParseError::Malformed { .. })));
    assert!(matches!(
        parse(&[0xff, 0xfe, 0x00]),
        Err(ParseError::Malformed { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let mut doc = String::from("<testsuites>");
    doc.push_str(&"<testsuite>".repeat(100));
    doc.push_str(&"</testsuite>".repeat(100));
    doc.push_str("</testsuites>");
    assert!(matches!(
        parse(doc.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
}
