//! SARIF summaries of logs written by ruff and bandit, and the parts of the specification
//! those tools do not exercise (suppressions, security-severity, rule defaults).

use andon_evidence::ParseError;
use andon_evidence::sarif::parse;

#[test]
fn ruff_log_counts_findings_by_level_and_rule() {
    let s = parse(include_bytes!("fixtures/sarif/ruff-0.17.6.sarif")).expect("parses");
    assert_eq!(s.tools.len(), 1);
    assert_eq!(
        (s.tools[0].name.as_str(), s.tools[0].version.as_deref()),
        ("ruff", Some("0.17.6"))
    );
    assert_eq!((s.findings, s.suppressed), (19, 0));
    assert_eq!(s.by_level.get("error"), Some(&19));
    assert_eq!((s.rules[0].rule.as_str(), s.rules[0].count), ("ANN001", 5));
    assert_eq!(s.max_security_severity, None);
}

#[test]
fn bandit_log_falls_back_to_warning_when_a_result_has_no_level() {
    let s = parse(include_bytes!("fixtures/sarif/bandit-1.9.4.sarif")).expect("parses");
    assert_eq!(s.tools[0].name, "Bandit");
    assert_eq!(s.findings, 5);
    // B602 error, B301 without a level (SARIF's default: warning), three notes.
    assert_eq!(
        (
            s.by_level.get("error"),
            s.by_level.get("warning"),
            s.by_level.get("note")
        ),
        (Some(&1), Some(&1), Some(&3))
    );
}

#[test]
fn suppressed_findings_are_counted_apart_and_scores_come_from_result_or_rule() {
    // Shaped as CodeQL writes it: scores on the rules, a result-level override, and an
    // in-source suppression.
    let log = br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"CodeQL","semanticVersion":"2.17.4",
      "rules":[{"id":"js/sql-injection","defaultConfiguration":{"level":"error"},"properties":{"security-severity":"8.8"}},
               {"id":"js/unused-variable","defaultConfiguration":{"level":"note"}}]}},
      "results":[
        {"ruleId":"js/sql-injection","message":{"text":"a"}},
        {"ruleId":"js/sql-injection","message":{"text":"b"},"properties":{"security-severity":"9.8"}},
        {"ruleIndex":1,"message":{"text":"c"}},
        {"ruleId":"js/sql-injection","message":{"text":"d"},"suppressions":[{"kind":"inSource"}]},
        {"ruleId":"js/sql-injection","message":{"text":"e"},"suppressions":[{"kind":"external","status":"rejected"}]}
      ]}]}"#;
    let s = parse(log).expect("parses");
    assert_eq!(
        (s.findings, s.suppressed),
        (4, 1),
        "a rejected suppression suppresses nothing"
    );
    assert_eq!(
        (s.by_level.get("error"), s.by_level.get("note")),
        (Some(&3), Some(&1))
    );
    assert_eq!(
        (
            s.by_security_severity.get("critical"),
            s.by_security_severity.get("high")
        ),
        (Some(&1), Some(&2))
    );
    assert_eq!(s.max_security_severity, Some(9.8));
}

#[test]
fn malformed_logs_are_refused() {
    assert!(matches!(parse(b"{"), Err(ParseError::Malformed { .. })));
    assert!(matches!(
        parse(br#"{"version":"2.1.0"}"#),
        Err(ParseError::Malformed { .. })
    ));
    assert!(matches!(
        parse(br#"{"version":"1.0.0","runs":[]}"#),
        Err(ParseError::Malformed { .. })
    ));
    assert!(matches!(
        parse(br#"{"runs":[{"tool":{"driver":{"name":"x"}},"results":[{"level":"fatal"}]}]}"#),
        Err(ParseError::Malformed { .. })
    ));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(
        matches!(parse(deep.as_bytes()), Err(ParseError::Malformed { .. })),
        "recursion is bounded"
    );
}
