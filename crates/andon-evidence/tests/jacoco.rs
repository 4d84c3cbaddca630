//! JaCoCo XML coverage: reports written by JaCoCo 0.8.6 (its agent and Ant report task) for
//! the same three-class program, and hostile or malformed documents.

use andon_evidence::ParseError;
use andon_evidence::coverage::{CoverageSummary, FileCoverage, parse, parse_jacoco};

const ANT: &[u8] = include_bytes!("fixtures/coverage/jacoco-0.8.6-ant.xml");
const GROUPS: &[u8] = include_bytes!("fixtures/coverage/jacoco-0.8.6-groups.xml");
const MIXED: &[u8] = include_bytes!("fixtures/coverage/jacoco-0.8.6-mixed-debug.xml");
const NO_LINES: &[u8] = include_bytes!("fixtures/coverage/jacoco-0.8.6-no-line-numbers.xml");

/// Lines, lines covered, branches, branches taken.
fn totals(s: &CoverageSummary) -> (u64, u64, u64, u64) {
    (
        s.lines_total,
        s.lines_covered,
        s.branches_total,
        s.branches_covered,
    )
}

/// JaCoCo's own report-level counter of `kind` as (total, covered): the `<counter>`s after
/// the last package or group, just before `</report>`.
fn report_counter(doc: &[u8], kind: &str) -> (u64, u64) {
    let text = std::str::from_utf8(doc).expect("UTF-8");
    let tail_start = text
        .rfind("</package>")
        .max(text.rfind("</group>"))
        .expect("a package");
    let tail = &text[tail_start..];
    assert!(tail.trim_end().ends_with("</report>"), "{tail}");
    let re = regex::Regex::new(&format!(
        r#"<counter type="{kind}" missed="(\d+)" covered="(\d+)"/>"#
    ))
    .expect("regex");
    let c = re.captures(tail).expect("a report-level counter");
    let missed: u64 = c[1].parse().expect("missed");
    let covered: u64 = c[2].parse().expect("covered");
    (missed + covered, covered)
}

/// The recomputed totals are JaCoCo's own report-level LINE and BRANCH counters.
fn assert_agrees_with_jacoco(doc: &[u8], s: &CoverageSummary) {
    assert_eq!(
        (s.lines_total, s.lines_covered),
        report_counter(doc, "LINE")
    );
    assert_eq!(
        (s.branches_total, s.branches_covered),
        report_counter(doc, "BRANCH")
    );
}

fn file(path: &str, lines: (u64, u64), branches: (u64, u64)) -> FileCoverage {
    FileCoverage {
        path: path.into(),
        lines_total: lines.0,
        lines_covered: lines.1,
        branches_total: branches.0,
        branches_covered: branches.1,
    }
}

/// `Cart` (with its nested `Cart.Discount` in the same file), `Main` and `Money` (one method
/// never called): JaCoCo's CSV for the run gives lines 20 of 30 and branches 5 of 10.
#[test]
fn a_jacoco_report_is_recomputed_from_its_line_records_per_source_file() {
    let s = parse(ANT).expect("parses");
    assert_eq!(s.format, "jacoco");
    assert_eq!(totals(&s), (30, 20, 10, 5));
    assert_agrees_with_jacoco(ANT, &s);
    assert!((s.line_rate - 20.0 / 30.0).abs() < 1e-12);
    assert!((s.branch_rate - 0.5).abs() < 1e-12);
    assert_eq!(
        s.files,
        vec![
            file("com/acme/util/Money.java", (7, 3), (4, 1)),
            file("com/acme/shop/Cart.java", (17, 12), (6, 4)),
            file("com/acme/shop/Main.java", (6, 5), (0, 0)),
        ]
    );
}

#[test]
fn a_report_in_groups_counts_the_same() {
    assert!(String::from_utf8_lossy(GROUPS).contains("<group name=\"util\">"));
    let s = parse(GROUPS).expect("parses");
    assert_eq!(totals(&s), (30, 20, 10, 5));
    assert_agrees_with_jacoco(GROUPS, &s);
    assert_eq!(s.files, parse(ANT).expect("parses").files);
}

/// `com.acme.util` compiled with `javac -g:none`: `Money` names no source file and has no
/// lines, so its own BRANCH counter (1 of 4) counts, under its class name.
#[test]
fn a_class_without_debug_information_counts_with_its_own_counters() {
    let s = parse(MIXED).expect("parses");
    assert_eq!(totals(&s), (23, 17, 10, 5));
    assert_agrees_with_jacoco(MIXED, &s);
    assert!(
        s.files
            .contains(&file("com/acme/util/Money", (0, 0), (4, 1)))
    );
    assert!(s.files.iter().all(|f| f.path != "com/acme/util/Money.java"));
}

/// Everything compiled with `javac -g:source`: source files but no line numbers, so neither
/// line records nor LINE counters. Not "nothing to cover": refused, saying why.
#[test]
fn a_report_of_code_without_line_numbers_is_refused() {
    match parse(NO_LINES) {
        Err(ParseError::Malformed {
            format,
            line,
            message,
        }) => {
            assert_eq!((format, line), ("JaCoCo XML", 0));
            assert!(
                message.contains("134 instructions but no lines"),
                "{message}"
            );
            assert!(message.contains("-g"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Without line records, a source file's own counters stand in; with them, its counters
/// (here claiming everything covered) are not believed.
#[test]
fn line_records_win_over_counters_which_stand_in_only_without_them() {
    let doc = br#"<report name="r"><package name="p">
<sourcefile name="A.java"><line nr="3" mi="2" ci="0" mb="1" cb="0"/><line nr="4" mi="0" ci="1" mb="0" cb="0"/>
<counter type="LINE" missed="0" covered="2"/><counter type="BRANCH" missed="0" covered="1"/></sourcefile>
<sourcefile name="B.java"><counter type="INSTRUCTION" missed="1" covered="9"/>
<counter type="LINE" missed="1" covered="3"/><counter type="BRANCH" missed="2" covered="2"/></sourcefile>
</package></report>"#;
    let s = parse(doc).expect("parses");
    assert_eq!(
        s.files,
        vec![
            file("p/A.java", (2, 1), (1, 0)),
            file("p/B.java", (4, 3), (4, 2)),
        ]
    );
}

/// The same file in two groups is one file; a line covered in either is covered once.
#[test]
fn a_file_listed_twice_counts_each_line_once() {
    let doc = br#"<report name="r">
<group name="a"><package name="p"><sourcefile name="A.java"><line nr="1" mi="0" ci="1" mb="1" cb="1"/><line nr="2" mi="1" ci="0" mb="0" cb="0"/></sourcefile></package></group>
<group name="b"><package name="p"><sourcefile name="A.java"><line nr="1" mi="2" ci="0" mb="2" cb="0"/><line nr="2" mi="0" ci="1" mb="0" cb="0"/></sourcefile></package></group>
</report>"#;
    let s = parse(doc).expect("parses");
    assert_eq!(totals(&s), (2, 2, 2, 1));
    assert_eq!(s.files.len(), 1);
}

/// JaCoCo's DOCTYPE only names `report.dtd`, never fetched; one with an internal subset
/// declaring an entity is refused, whichever entry point reads it.
#[test]
fn an_internal_dtd_subset_is_refused() {
    let text = String::from_utf8(ANT.to_vec()).expect("UTF-8");
    assert!(
        text.contains(r#"<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">"#)
    );
    let hostile = text
        .replace(
            r#""report.dtd">"#,
            r#""report.dtd" [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#,
        )
        .replace(r#"<report name="shop">"#, r#"<report name="&x;">"#);
    assert!(matches!(
        parse(hostile.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
    assert!(matches!(
        parse_jacoco(hostile.as_bytes()),
        Err(ParseError::Refused { .. })
    ));
}

/// A broken attribute is an error at its line, not a silent zero.
#[test]
fn malformed_attributes_are_refused_with_their_line() {
    let doc = |line: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<report name=\"r\">\n<package name=\"p\">\n\
             <sourcefile name=\"A.java\">\n<line nr=\"1\" mi=\"0\" ci=\"1\" mb=\"0\" cb=\"0\"/>\n\
             {line}\n</sourcefile>\n</package>\n</report>\n"
        )
    };
    for (bad, what) in [
        (r#"<line nr="7" mi="0" ci="x" mb="0" cb="0"/>"#, "ci"),
        (r#"<line nr="-7" mi="0" ci="1" mb="0" cb="0"/>"#, "nr"),
        (r#"<line nr="7" mi="0" ci="1" mb="0"/>"#, "cb"),
        (
            r#"<counter type="LINE" missed="1" covered="two"/>"#,
            "covered",
        ),
        (r#"<counter missed="1" covered="2"/>"#, "type"),
    ] {
        match parse(doc(bad).as_bytes()) {
            Err(ParseError::Malformed { line, message, .. }) => {
                assert_eq!(line, 6, "{bad}: {message}");
                assert!(message.contains(what), "{bad}: {message}");
            }
            other => panic!("{bad}: expected a malformed error, got {other:?}"),
        }
    }
    match parse(
        b"<report name=\"r\">\n<line nr=\"1\" mi=\"0\" ci=\"1\" mb=\"0\" cb=\"0\"/>\n</report>",
    ) {
        Err(ParseError::Malformed { line, message, .. }) => {
            assert_eq!(line, 2);
            assert!(message.contains("outside a <sourcefile>"), "{message}");
        }
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

/// XML is told apart by its root element; another one is refused naming what is read.
#[test]
fn the_root_element_chooses_the_reader() {
    match parse(b"<?xml version=\"1.0\"?>\n<!-- a test report -->\n<testsuites/>") {
        Err(ParseError::Malformed { line, message, .. }) => {
            assert_eq!(line, 3);
            for format in [
                "LCOV",
                "Cobertura XML",
                "JaCoCo XML",
                "<report>",
                "<coverage>",
            ] {
                assert!(message.contains(format), "{message}");
            }
        }
        other => panic!("expected a malformed error, got {other:?}"),
    }
    let cobertura = include_bytes!("fixtures/coverage/coveragepy-7.17.3-cobertura.xml");
    assert_eq!(parse(cobertura).expect("parses").format, "cobertura");
    match parse_jacoco(cobertura) {
        Err(ParseError::Malformed { message, .. }) => {
            assert!(message.contains("not <report>"), "{message}")
        }
        other => panic!("expected a malformed error, got {other:?}"),
    }
    assert!(matches!(
        parse(b"<?xml version=\"1.0\"?>"),
        Err(ParseError::Malformed { .. })
    ));
}

/// A report re-encoded as UTF-16 with a byte-order mark (Windows PowerShell 5's `>`) reads
/// the same.
#[test]
fn a_utf16_report_reads_the_same() {
    let text = std::str::from_utf8(ANT).expect("UTF-8").replacen(
        "encoding=\"UTF-8\"",
        "encoding=\"UTF-16\"",
        1,
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(totals(&parse(&utf16).expect("parses")), (30, 20, 10, 5));
}
