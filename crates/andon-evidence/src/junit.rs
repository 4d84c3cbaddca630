//! JUnit XML, in the dialects real runners write: Maven Surefire, pytest, jest-junit,
//! cargo-nextest, go-junit-report. Roots are `<testsuites>` or a lone `<testsuite>`; suites
//! may nest. Counts come from the `<testcase>` elements themselves, never from the totals in
//! attributes, so a report cannot claim fewer failures than it lists.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use crate::{ParseError, line_of};

const FORMAT: &str = "JUnit XML";
/// Deeper nesting than this is refused (real reports use three or four levels).
const MAX_DEPTH: usize = 32;
/// More test cases than this are refused.
const MAX_TESTS: u64 = 1_000_000;
/// How many failing test names the summary lists.
const MAX_LISTED: usize = 50;

/// What a JUnit report says, normalized.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JunitSummary {
    /// `<testsuite>` elements.
    pub suites: u64,
    /// `<testcase>` elements.
    pub tests: u64,
    /// Test cases with neither failure, error nor skip.
    pub passed: u64,
    /// Test cases with a `<failure>` (an assertion failed).
    pub failures: u64,
    /// Test cases with an `<error>` (the test could not run properly).
    pub errors: u64,
    /// Test cases with `<skipped>`.
    pub skipped: u64,
    /// Sum of the test cases' `time` attributes, in seconds.
    pub duration_seconds: f64,
    /// Up to 50 failing or erroring tests, as `classname::name`.
    pub failing: Vec<String>,
}

#[derive(PartialEq)]
enum Outcome {
    Passed,
    Failed,
    Errored,
    Skipped,
}

struct Case {
    id: String,
    outcome: Outcome,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Parses a JUnit XML report.
pub fn parse(doc: &[u8]) -> Result<JunitSummary, ParseError> {
    let text = std::str::from_utf8(doc).map_err(|e| ParseError::Malformed {
        format: FORMAT,
        line: line_of(doc, e.valid_up_to() as u64),
        message: "not UTF-8".into(),
    })?;
    let mut reader = Reader::from_str(text);
    let mut summary = JunitSummary::default();
    let mut depth = 0usize;
    let mut case: Option<Case> = None;
    let mut seen_root = false;
    loop {
        let pos = reader.buffer_position();
        let event = reader.read_event().map_err(|e| ParseError::Malformed {
            format: FORMAT,
            line: line_of(doc, reader.error_position()),
            message: e.to_string(),
        })?;
        let malformed = |message: String| ParseError::Malformed {
            format: FORMAT,
            line: line_of(doc, pos),
            message,
        };
        match event {
            Event::DocType(_) => {
                return Err(ParseError::Refused {
                    format: FORMAT,
                    message: "a DOCTYPE (DTDs and entities are not accepted)".into(),
                });
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !seen_root {
                    if name != "testsuites" && name != "testsuite" {
                        return Err(malformed(format!(
                            "the root element is <{}>, not <testsuites> or <testsuite>",
                            name
                        )));
                    }
                    seen_root = true;
                }
                match name {
                    "testsuite" => summary.suites += 1,
                    "testcase" => {
                        if case.is_some() {
                            return Err(malformed("a <testcase> inside a <testcase>".into()));
                        }
                        summary.tests += 1;
                        if summary.tests > MAX_TESTS {
                            return Err(ParseError::Refused {
                                format: FORMAT,
                                message: format!("more than {MAX_TESTS} test cases"),
                            });
                        }
                        if let Some(t) = attr(e, "time").and_then(|t| t.trim().parse::<f64>().ok())
                            && t.is_finite()
                            && t >= 0.0
                        {
                            summary.duration_seconds += t;
                        }
                        let id = match (attr(e, "classname"), attr(e, "name")) {
                            (Some(c), Some(n)) if !c.is_empty() => format!("{c}::{n}"),
                            (_, Some(n)) => n,
                            _ => return Err(malformed("a <testcase> without a name".into())),
                        };
                        let c = Case {
                            id,
                            outcome: Outcome::Passed,
                        };
                        if empty {
                            finish(&mut summary, c);
                        } else {
                            case = Some(c);
                        }
                    }
                    "failure" | "error" | "skipped" => {
                        if let Some(c) = case.as_mut() {
                            // The worst outcome wins: error > failure > skipped.
                            let o = match name {
                                "error" => Outcome::Errored,
                                "failure" => Outcome::Failed,
                                _ => Outcome::Skipped,
                            };
                            c.outcome = match (&c.outcome, o) {
                                (Outcome::Errored, _) => Outcome::Errored,
                                (_, Outcome::Errored) => Outcome::Errored,
                                (Outcome::Failed, _) | (_, Outcome::Failed) => Outcome::Failed,
                                _ => Outcome::Skipped,
                            };
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(ParseError::Refused {
                            format: FORMAT,
                            message: format!("elements nested deeper than {MAX_DEPTH}"),
                        });
                    }
                }
            }
            Event::End(ref e) => {
                depth = depth.saturating_sub(1);
                if e.local_name().as_ref() == "testcase"
                    && let Some(c) = case.take()
                {
                    finish(&mut summary, c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(ParseError::Malformed {
            format: FORMAT,
            line: 1,
            message: "the document has no root element".into(),
        });
    }
    Ok(summary)
}

fn finish(s: &mut JunitSummary, c: Case) {
    match c.outcome {
        Outcome::Passed => s.passed += 1,
        Outcome::Skipped => s.skipped += 1,
        Outcome::Failed | Outcome::Errored => {
            if c.outcome == Outcome::Failed {
                s.failures += 1;
            } else {
                s.errors += 1;
            }
            if s.failing.len() < MAX_LISTED {
                s.failing.push(c.id);
            }
        }
    }
}
