//! JUnit XML, in the dialects real runners write: Maven Surefire, pytest, jest-junit,
//! cargo-nextest, go-junit-report. Roots are `<testsuites>` or a lone `<testsuite>`; suites
//! may nest. Counts come from the `<testcase>` elements themselves, never from the totals in
//! attributes, so a report cannot claim fewer failures than it lists.

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::xml::{Xml, attr};

const FORMAT: &str = "JUnit XML";
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

/// Parses a JUnit XML report.
pub fn parse(doc: &[u8]) -> Result<JunitSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, FORMAT)?;
    let mut xml = Xml::new(doc, FORMAT)?;
    let mut summary = JunitSummary::default();
    let mut case: Option<Case> = None;
    let mut seen_root = false;
    loop {
        let event = xml.next()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !seen_root {
                    if name != "testsuites" && name != "testsuite" {
                        return Err(xml.malformed(format!(
                            "the root element is <{name}>, not <testsuites> or <testsuite>"
                        )));
                    }
                    seen_root = true;
                }
                match name {
                    "testsuite" => summary.suites += 1,
                    "testcase" => {
                        if case.is_some() {
                            return Err(xml.malformed("a <testcase> inside a <testcase>"));
                        }
                        summary.tests += 1;
                        if summary.tests > MAX_TESTS {
                            return Err(xml.refused(format!("more than {MAX_TESTS} test cases")));
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
                            _ => return Err(xml.malformed("a <testcase> without a name")),
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
                                (Outcome::Errored, _) | (_, Outcome::Errored) => Outcome::Errored,
                                (Outcome::Failed, _) | (_, Outcome::Failed) => Outcome::Failed,
                                _ => Outcome::Skipped,
                            };
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => {
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
        return Err(crate::xml::no_root(FORMAT));
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
