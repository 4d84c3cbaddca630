//! Coverage summaries of reports written by coverage.py, and hostile documents.

use andon_evidence::ParseError;
use andon_evidence::coverage::{CoverageSummary, parse, parse_lcov};

/// Lines, lines covered, branches, branches taken.
fn totals(s: &CoverageSummary) -> (u64, u64, u64, u64) {
    (
        s.lines_total,
        s.lines_covered,
        s.branches_total,
        s.branches_covered,
    )
}

#[test]
fn coveragepy_lcov_totals_are_recomputed_from_the_records() {
    let s = parse(include_bytes!("fixtures/coverage/coveragepy-7.17.3.lcov")).expect("parses");
    assert_eq!(s.format, "lcov");
    assert_eq!(totals(&s), (15, 9, 8, 3));
    assert!((s.line_rate - 0.6).abs() < 1e-12);
    assert_eq!(s.files.len(), 1);
    assert_eq!(s.files[0].path, "checkout.py");
}

#[test]
fn coveragepy_cobertura_agrees_with_its_lcov() {
    let s = parse(include_bytes!(
        "fixtures/coverage/coveragepy-7.17.3-cobertura.xml"
    ))
    .expect("parses");
    assert_eq!(s.format, "cobertura");
    assert_eq!(totals(&s), (15, 9, 8, 3));
    assert!((s.branch_rate - 0.375).abs() < 1e-12);
}

#[test]
fn a_line_listed_twice_counts_once_and_files_are_worst_first() {
    let doc =
        b"SF:a.rs\nDA:1,1\nDA:1,0\nDA:2,0\nend_of_record\nSF:b.rs\nDA:1,0\nDA:2,0\nend_of_record\n";
    let s = parse_lcov(doc).expect("parses");
    assert_eq!((s.lines_total, s.lines_covered), (4, 1));
    assert_eq!(
        s.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        vec!["b.rs", "a.rs"]
    );
}

#[test]
fn summary_totals_in_the_file_are_not_believed() {
    let doc = b"SF:a.rs\nDA:1,0\nDA:2,0\nLF:2\nLH:2\nend_of_record\n";
    assert_eq!(parse_lcov(doc).expect("parses").lines_covered, 0);
    let xml = br#"<coverage line-rate="1.0" lines-valid="2" lines-covered="2"><packages><package><classes>
<class filename="a.py"><lines><line number="1" hits="0"/><line number="2" hits="0"/></lines></class>
</classes></package></packages></coverage>"#;
    let s = parse(xml).expect("parses");
    assert_eq!((s.lines_total, s.lines_covered), (2, 0));
}

#[test]
fn malformed_and_hostile_reports_are_refused_with_the_line() {
    match parse_lcov(b"SF:a.rs\nDA:1,1\nXX:oops\nend_of_record\n") {
        Err(ParseError::Malformed { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected a malformed error, got {other:?}"),
    }
    assert!(matches!(
        parse_lcov(b"SF:a.rs\nDA:1,1\n"),
        Err(ParseError::Malformed { .. })
    ));
    assert!(matches!(parse_lcov(b""), Err(ParseError::Malformed { .. })));
    let xxe = br#"<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]><coverage/>"#;
    assert!(matches!(parse(xxe), Err(ParseError::Refused { .. })));
    assert!(matches!(
        parse(b"<html/>"),
        Err(ParseError::Malformed { .. })
    ));
}

/// Istanbul (nyc) writes Cobertura's own DOCTYPE line, naming an external DTD that is never
/// fetched: read past, with the totals nyc itself reports (lines-valid 6, covered 4;
/// branches 2, covered 1). Function lines listed only under `<methods>` are not statements.
#[test]
fn istanbul_cobertura_with_its_doctype_line_is_read() {
    let doc = include_bytes!("fixtures/coverage/nyc-18.0.0-cobertura-doctype.xml");
    assert!(
        String::from_utf8_lossy(doc).contains("<!DOCTYPE coverage SYSTEM"),
        "the sample carries the DOCTYPE"
    );
    let s = parse(doc).expect("parses");
    assert_eq!(s.format, "cobertura");
    assert_eq!(totals(&s), (6, 4, 2, 1));
}

/// coverage.py's Cobertura saved with a UTF-8 byte-order mark (PowerShell 5's `Set-Content
/// -Encoding UTF8`) is still Cobertura, not LCOV: coverage.py's own totals (12 lines, 9
/// covered; 4 branches, 2 taken).
#[test]
fn a_byte_order_mark_does_not_change_the_format() {
    let doc = include_bytes!("fixtures/coverage/coveragepy-7.17.5-cobertura-bom.xml");
    assert_eq!(&doc[..3], b"\xEF\xBB\xBF");
    let s = parse(doc).expect("parses");
    assert_eq!(s.format, "cobertura");
    assert_eq!(totals(&s), (12, 9, 4, 2));
}

/// A DOCTYPE naming an external DTD is never fetched, so an entity it might declare stays
/// undefined: a reference to it is refused, never replaced by the file's content.
#[test]
fn an_external_dtd_is_never_fetched() {
    let doc = br#"<?xml version="1.0"?><!DOCTYPE coverage SYSTEM "file:///etc/passwd"><coverage><packages><package><classes><class filename="&x;"><lines><line number="1" hits="1"/></lines></class></classes></package></packages></coverage>"#;
    let read = parse(doc);
    assert!(
        !format!("{read:?}").contains("root:"),
        "an entity expanded: {read:?}"
    );
    assert!(read.is_err(), "{read:?}");
}
