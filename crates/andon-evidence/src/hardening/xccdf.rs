//! XCCDF 1.2 and 1.1 results: every `<TestResult>` of the document, whether the root is the
//! `<Benchmark>` that `oscap xccdf eval --results` writes, a bare `<TestResult>`, or the ARF
//! `<arf:asset-report-collection>` of `--results-arf` (whose reports hold the TestResults and
//! whose report requests hold the evaluated benchmark). Elements are matched by local name,
//! so either XCCDF namespace is read.

use std::collections::BTreeSet;

use quick_xml::events::{BytesStart, Event};

use super::{HardeningSummary, Outcome, Rules, sorted_targets};
use crate::ParseError;
use crate::xml::{Xml, attr};

const FORMAT: &str = "XCCDF results";

/// A text-only element being read, and what it is.
enum Reading {
    /// A rule-result's `<result>`.
    Result(String),
    /// A TestResult's `<target>`.
    Target(String),
    /// A TestResult's `<target-address>`.
    Address(String),
}

/// A TestResult being read.
#[derive(Default)]
struct TestResult {
    /// Nesting depth of the `<TestResult>` element.
    depth: usize,
    targets: Vec<String>,
    addresses: Vec<String>,
}

/// A rule-result being read: its rule id, its depth, its result once read.
struct RuleResult {
    idref: String,
    depth: usize,
    result: Option<String>,
}

/// Parses XCCDF results (in a Benchmark, bare, or in an ARF report collection).
pub(super) fn parse(doc: &[u8]) -> Result<HardeningSummary, ParseError> {
    let mut xml = Xml::new(doc, FORMAT)?;
    let mut s = HardeningSummary {
        format: "xccdf".into(),
        tool: "unknown".into(),
        ..Default::default()
    };
    let mut rules = Rules::default();
    let mut targets = BTreeSet::new();
    let mut test_results = 0u64;
    let mut last_benchmark: Option<String> = None;
    let mut depth = 0usize;
    let mut root_closed = false;
    let mut tr: Option<TestResult> = None;
    let mut rr: Option<RuleResult> = None;
    let mut reading: Option<Reading> = None;
    loop {
        let event = xml.next()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                // This element's depth (the root's is 1); an empty one closes at once.
                let level = depth + 1;
                if !empty {
                    depth = level;
                } else if level == 1 {
                    root_closed = true;
                }
                let name = e.local_name();
                let name = name.as_ref();
                let child_of_tr = tr.as_ref().is_some_and(|t| level == t.depth + 1);
                match name {
                    "Benchmark" => last_benchmark = attr(e, "id").or(last_benchmark),
                    "TestResult" if tr.is_none() => {
                        test_results += 1;
                        if test_results == 1 {
                            test_system(e, &mut s);
                        }
                        if s.benchmark.is_none() {
                            s.benchmark.clone_from(&last_benchmark);
                        }
                        if !empty {
                            tr = Some(TestResult {
                                depth: level,
                                ..Default::default()
                            });
                        }
                    }
                    "TestResult" => return Err(xml.malformed("a TestResult inside a TestResult")),
                    "benchmark" if tr.is_some() && rr.is_none() => {
                        if let Some(id) = attr(e, "id") {
                            s.benchmark = Some(id);
                        }
                    }
                    "profile" if tr.is_some() && rr.is_none() && s.profile.is_none() => {
                        s.profile = attr(e, "idref");
                    }
                    "target" if child_of_tr && !empty => {
                        reading = Some(Reading::Target(String::new()))
                    }
                    "target-address" if child_of_tr && !empty => {
                        reading = Some(Reading::Address(String::new()));
                    }
                    "rule-result" if tr.is_some() => {
                        if rr.is_some() {
                            return Err(xml.malformed("a rule-result inside a rule-result"));
                        }
                        let idref = attr(e, "idref")
                            .ok_or_else(|| xml.malformed("a rule-result without idref"))?;
                        if empty {
                            return Err(xml.malformed(format!("rule-result {idref} has no result")));
                        }
                        rr = Some(RuleResult {
                            idref,
                            depth: level,
                            result: None,
                        });
                    }
                    "result" if !empty && rr.as_ref().is_some_and(|r| level == r.depth + 1) => {
                        reading = Some(Reading::Result(String::new()));
                    }
                    _ => {}
                }
            }
            Event::Text(ref t) => {
                if let Some(buf) = reading.as_mut().map(Reading::text) {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(ref c) => {
                if let Some(buf) = reading.as_mut().map(Reading::text) {
                    buf.push_str(c.as_ref());
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some(buf) = reading.as_mut().map(Reading::text) {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        buf.push(c);
                    } else {
                        let name = r.as_ref().to_owned();
                        let text = quick_xml::escape::resolve_predefined_entity(&name).ok_or_else(
                            || xml.malformed(format!("an undefined entity &{name};")),
                        )?;
                        buf.push_str(text);
                    }
                }
            }
            Event::End(ref e) => {
                let name = e.local_name();
                match (name.as_ref(), reading.take()) {
                    (_, Some(Reading::Result(text))) => {
                        if let Some(r) = rr.as_mut() {
                            r.result = Some(text.trim().to_owned());
                        }
                    }
                    (_, Some(Reading::Target(text))) => {
                        if let Some(t) = tr.as_mut() {
                            t.targets.push(text.trim().to_owned());
                        }
                    }
                    (_, Some(Reading::Address(text))) => {
                        if let Some(t) = tr.as_mut() {
                            t.addresses.push(text.trim().to_owned());
                        }
                    }
                    ("rule-result", None) => {
                        if let Some(r) = rr.take() {
                            let result = r.result.ok_or_else(|| {
                                xml.malformed(format!("rule-result {} has no result", r.idref))
                            })?;
                            if let Some(outcome) = outcome(&result).map_err(|m| xml.malformed(m))? {
                                rules.add(FORMAT, &r.idref, outcome)?;
                            }
                        }
                    }
                    ("TestResult", None) => {
                        if let Some(t) = tr.take() {
                            let names = if t.targets.is_empty() {
                                t.addresses
                            } else {
                                t.targets
                            };
                            targets.extend(names.into_iter().filter(|n| !n.is_empty()));
                        }
                    }
                    _ => {}
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    root_closed = true;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_closed {
        return Err(xml.malformed("the document ends before its root element is closed"));
    }
    if test_results == 0 {
        return Err(xml.malformed(
            "no TestResult: this is a benchmark without results (`oscap xccdf eval --results` \
             or `--results-arf` writes them)",
        ));
    }
    s.targets = sorted_targets(targets);
    rules.fill(&mut s);
    Ok(s)
}

impl Reading {
    fn text(&mut self) -> &mut String {
        match self {
            Reading::Result(t) | Reading::Target(t) | Reading::Address(t) => t,
        }
    }
}

/// The outcome of an XCCDF result; `None` for `notselected` (not part of the evaluation).
fn outcome(result: &str) -> Result<Option<Outcome>, String> {
    Ok(Some(match result {
        "pass" | "fixed" => Outcome::Pass,
        "fail" | "error" => Outcome::Fail,
        "unknown" | "notapplicable" | "notchecked" | "informational" => Outcome::Other,
        "notselected" => return Ok(None),
        other => return Err(format!("{other:?} is not an XCCDF rule result")),
    }))
}

/// The scanner from the TestResult's `test-system` CPE (`cpe:/a:redhat:openscap:1.3.7`, or a
/// CPE 2.3 name): its product and version.
fn test_system(e: &BytesStart<'_>, s: &mut HardeningSummary) {
    let Some(cpe) = attr(e, "test-system") else {
        return;
    };
    let parts: Vec<&str> = if let Some(rest) = cpe.strip_prefix("cpe:2.3:") {
        rest.split(':').skip(2).collect()
    } else if let Some(rest) = cpe.strip_prefix("cpe:/") {
        rest.split(':').skip(2).collect()
    } else {
        s.tool = cpe.clone();
        return;
    };
    let present = |i: usize| {
        parts
            .get(i)
            .filter(|v| !v.is_empty() && **v != "*" && **v != "-")
            .map(|v| (*v).to_owned())
    };
    if let Some(product) = present(0) {
        s.tool = product;
    }
    s.tool_version = present(1);
}
