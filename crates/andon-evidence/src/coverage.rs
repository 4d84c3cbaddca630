//! Code coverage: LCOV tracefiles, Cobertura XML (coverage.py, gcovr, cargo-llvm-cov,
//! Istanbul, and the Cobertura output of JaCoCo converters) and JaCoCo XML. Totals are
//! computed from the per-line records, never taken from summary attributes: a class's
//! `<lines>`, not the lines its `<methods>` list again, and a line reported twice counts once.
//! XML is told apart by its root element: `<coverage>` is Cobertura, `<report>` JaCoCo.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::xml::{Xml, attr};
use crate::{ParseError, line_of};

pub use crate::jacoco::parse_jacoco;

/// Branches counted per line at most (a hostile `condition-coverage="(1/4000000000)"` must not
/// allocate billions of entries).
const MAX_BRANCHES_PER_LINE: u64 = 1024;
/// How many files the summary lists, worst covered first.
const MAX_FILES: usize = 200;

/// Coverage totals and per-file figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// `lcov`, `cobertura` or `jacoco`.
    pub format: String,
    /// Instrumented lines.
    pub lines_total: u64,
    /// Lines executed at least once.
    pub lines_covered: u64,
    /// `lines_covered / lines_total`, 0 to 1 (1 when there are no lines).
    pub line_rate: f64,
    /// Branches.
    pub branches_total: u64,
    /// Branches taken at least once.
    pub branches_covered: u64,
    /// `branches_covered / branches_total`, 0 to 1 (1 when there are no branches).
    pub branch_rate: f64,
    /// Files, worst line coverage first (at most 200).
    pub files: Vec<FileCoverage>,
}

/// One file's figures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileCoverage {
    /// The path as the report names it.
    pub path: String,
    /// Instrumented lines.
    pub lines_total: u64,
    /// Lines executed.
    pub lines_covered: u64,
    /// Branches.
    pub branches_total: u64,
    /// Branches taken.
    pub branches_covered: u64,
}

/// Per file: line -> hit; plus branch counts keyed by (line, id).
#[derive(Default)]
struct Acc {
    lines: BTreeMap<u64, bool>,
    branches: BTreeMap<(u64, String), bool>,
}

fn rate(n: u64, d: u64) -> f64 {
    if d == 0 { 1.0 } else { n as f64 / d as f64 }
}

fn summarize(format: &str, files: BTreeMap<String, Acc>) -> CoverageSummary {
    let files = files
        .into_iter()
        .map(|(path, acc)| FileCoverage {
            path,
            lines_total: acc.lines.len() as u64,
            lines_covered: acc.lines.values().filter(|&&h| h).count() as u64,
            branches_total: acc.branches.len() as u64,
            branches_covered: acc.branches.values().filter(|&&h| h).count() as u64,
        })
        .collect();
    summary(format, files)
}

/// The summary of per-file figures: totals over every file, the worst covered 200 listed.
pub(crate) fn summary(format: &str, mut list: Vec<FileCoverage>) -> CoverageSummary {
    let mut out = CoverageSummary {
        format: format.to_owned(),
        ..Default::default()
    };
    for f in &list {
        out.lines_total = out.lines_total.saturating_add(f.lines_total);
        out.lines_covered = out.lines_covered.saturating_add(f.lines_covered);
        out.branches_total = out.branches_total.saturating_add(f.branches_total);
        out.branches_covered = out.branches_covered.saturating_add(f.branches_covered);
    }
    out.line_rate = rate(out.lines_covered, out.lines_total);
    out.branch_rate = rate(out.branches_covered, out.branches_total);
    list.sort_by(|a, b| {
        rate(a.lines_covered, a.lines_total)
            .total_cmp(&rate(b.lines_covered, b.lines_total))
            .then_with(|| a.path.cmp(&b.path))
    });
    list.truncate(MAX_FILES);
    out.files = list;
    out
}

/// Parses a coverage report: LCOV unless its first non-blank byte is `<`; XML by its root
/// element, `<coverage>` as Cobertura and `<report>` as JaCoCo.
pub fn parse(doc: &[u8]) -> Result<CoverageSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, "coverage report")?;
    if crate::is_xml(doc) {
        xml_reader(doc)?(doc)
    } else {
        parse_lcov(doc)
    }
}

/// A reader of one coverage format.
type Reader = fn(&[u8]) -> Result<CoverageSummary, ParseError>;

/// The reader for an XML coverage report, chosen by its root element; another root element
/// is refused with the formats read.
fn xml_reader(doc: &[u8]) -> Result<Reader, ParseError> {
    let mut xml = Xml::new(doc, "coverage XML")?;
    loop {
        match xml.next()? {
            Event::Start(e) | Event::Empty(e) => {
                return match e.local_name().as_ref() {
                    "coverage" => Ok(parse_cobertura),
                    "report" => Ok(parse_jacoco),
                    other => Err(xml.malformed(format!(
                        "the root element is <{other}>: coverage reads LCOV tracefiles, \
                         Cobertura XML (root <coverage>) and JaCoCo XML (root <report>)"
                    ))),
                };
            }
            Event::Eof => {
                return Err(crate::xml::no_root("coverage XML"));
            }
            _ => {}
        }
    }
}

/// Parses an LCOV tracefile (`SF:`, `DA:`, `BRDA:`, `end_of_record`).
pub fn parse_lcov(doc: &[u8]) -> Result<CoverageSummary, ParseError> {
    const FORMAT: &str = "LCOV";
    let text = std::str::from_utf8(doc).map_err(|e| ParseError::Malformed {
        format: FORMAT,
        line: line_of(doc, e.valid_up_to() as u64),
        message: "not UTF-8".into(),
    })?;
    let mut files: BTreeMap<String, Acc> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut records = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let n = i as u64 + 1;
        let bad = |m: &str| ParseError::Malformed {
            format: FORMAT,
            line: n,
            message: m.to_owned(),
        };
        if line.is_empty() {
            continue;
        }
        let (tag, value) = line.split_once(':').unwrap_or((line, ""));
        match tag {
            "TN" => {}
            "SF" => {
                if current.is_some() {
                    return Err(bad("SF: before the previous record's end_of_record"));
                }
                current = Some(value.to_owned());
                files.entry(value.to_owned()).or_default();
            }
            "end_of_record" => {
                current
                    .take()
                    .ok_or_else(|| bad("end_of_record without SF:"))?;
                records += 1;
            }
            "DA" | "BRDA" => {
                let file = current
                    .as_ref()
                    .ok_or_else(|| bad("a record line outside SF: ... end_of_record"))?;
                let acc = files.entry(file.clone()).or_default();
                let parts: Vec<&str> = value.split(',').collect();
                if tag == "DA" {
                    let (Some(l), Some(h)) = (parts.first(), parts.get(1)) else {
                        return Err(bad("DA needs <line>,<hits>"));
                    };
                    let l: u64 = l
                        .parse()
                        .map_err(|_| bad("DA line number is not a number"))?;
                    let h: i64 = h.parse().map_err(|_| bad("DA hit count is not a number"))?;
                    let hit = acc.lines.entry(l).or_insert(false);
                    *hit |= h > 0;
                } else {
                    if parts.len() < 4 {
                        return Err(bad("BRDA needs <line>,<block>,<branch>,<taken>"));
                    }
                    let l: u64 = parts[0]
                        .parse()
                        .map_err(|_| bad("BRDA line number is not a number"))?;
                    let taken = parts[parts.len() - 1];
                    let id = parts[1..parts.len() - 1].join(",");
                    let hit = taken != "-"
                        && taken
                            .parse::<u64>()
                            .map_err(|_| bad("BRDA taken is not a number or '-'"))?
                            > 0;
                    let b = acc.branches.entry((l, id)).or_insert(false);
                    *b |= hit;
                }
            }
            // Function records and the LF/LH/BRF/BRH totals are recomputed, not trusted.
            "FN" | "FNDA" | "FNF" | "FNH" | "FNL" | "FNA" | "LF" | "LH" | "BRF" | "BRH" | "VER" => {
            }
            _ => return Err(bad(&format!("unknown LCOV record {tag:?}"))),
        }
    }
    if current.is_some() {
        return Err(ParseError::Malformed {
            format: FORMAT,
            line: text.lines().count() as u64,
            message: "the last record has no end_of_record".into(),
        });
    }
    if records == 0 {
        return Err(ParseError::Malformed {
            format: FORMAT,
            line: 1,
            message: "no SF: record".into(),
        });
    }
    Ok(summarize("lcov", files))
}

/// `condition-coverage="50% (1/2)"` -> (1, 2).
fn condition(v: &str) -> Option<(u64, u64)> {
    let inner = v.split_once('(')?.1.split_once(')')?.0;
    let (a, b) = inner.split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Parses a Cobertura XML report.
pub fn parse_cobertura(doc: &[u8]) -> Result<CoverageSummary, ParseError> {
    let mut xml = Xml::new(doc, "Cobertura XML")?;
    let mut files: BTreeMap<String, Acc> = BTreeMap::new();
    let mut file: Option<String> = None;
    let mut root = false;
    // Inside a class's <methods>: its lines are the class's own lines again (coverage.py,
    // JaCoCo), or function declarations that are no statements (Istanbul); the class's
    // <lines> are the record.
    let mut in_methods = false;
    loop {
        let event = xml.next()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !root {
                    if name != "coverage" {
                        return Err(
                            xml.malformed(format!("the root element is <{name}>, not <coverage>"))
                        );
                    }
                    root = true;
                }
                match name {
                    "class" => {
                        let f = attr(e, "filename")
                            .ok_or_else(|| xml.malformed("a <class> without filename"))?;
                        files.entry(f.clone()).or_default();
                        if !empty {
                            file = Some(f);
                        }
                    }
                    "methods" => in_methods = !empty,
                    "line" if in_methods => {}
                    "line" => {
                        if let Some(f) = &file {
                            let number: u64 =
                                attr(e, "number").and_then(|n| n.parse().ok()).ok_or_else(
                                    || xml.malformed("a <line> without a numeric number"),
                                )?;
                            let hits: u64 =
                                attr(e, "hits").and_then(|h| h.parse().ok()).unwrap_or(0);
                            let acc = files.entry(f.clone()).or_default();
                            *acc.lines.entry(number).or_insert(false) |= hits > 0;
                            if attr(e, "branch").as_deref() == Some("true")
                                && let Some((taken, total)) =
                                    attr(e, "condition-coverage").as_deref().and_then(condition)
                            {
                                for b in 0..total.min(MAX_BRANCHES_PER_LINE) {
                                    *acc.branches
                                        .entry((number, b.to_string()))
                                        .or_insert(false) |= b < taken;
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) if e.local_name().as_ref() == "class" => file = None,
            Event::End(ref e) if e.local_name().as_ref() == "methods" => in_methods = false,
            Event::Eof => break,
            _ => {}
        }
    }
    if !root {
        return Err(crate::xml::no_root("Cobertura XML"));
    }
    Ok(summarize("cobertura", files))
}
