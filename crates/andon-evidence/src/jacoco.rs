//! JaCoCo XML coverage reports (root `<report>`, as JaCoCo's Maven and Gradle plugins, its Ant
//! tasks and its command line write them). Lines and branches are computed from each
//! `<sourcefile>`'s `<line>` records, never taken from the report's totals: a line is covered
//! when any of its instructions ran (`ci > 0`), and it has `mb + cb` branches of which `cb`
//! were taken. A file is `package/name` (`com/acme/Cart.java`); the same file listed twice
//! (in two `<group>`s) is one file, each of its lines counted once.
//!
//! Classes compiled without line numbers have no `<line>` records: then a source file's own
//! `LINE` and `BRANCH` counters are taken, and a class that names no source file at all
//! (compiled without debug information) counts with its own counters as `package/Class`.
//! Those counters carry no lines either, so a report of code without any line figure is
//! refused rather than read as having nothing to cover.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};

use crate::ParseError;
use crate::coverage::{CoverageSummary, FileCoverage, summary};
use crate::xml::{Xml, attr};

/// The format named in errors.
const FORMAT: &str = "JaCoCo XML";
/// `<line>` records read at most.
const MAX_LINE_RECORDS: u64 = 10_000_000;

/// Lines and branches, total and covered.
#[derive(Clone, Copy, Default)]
struct Figures {
    lines: u64,
    lines_covered: u64,
    branches: u64,
    branches_covered: u64,
}

impl Figures {
    fn add(&mut self, other: Figures) {
        self.lines = self.lines.saturating_add(other.lines);
        self.lines_covered = self.lines_covered.saturating_add(other.lines_covered);
        self.branches = self.branches.saturating_add(other.branches);
        self.branches_covered = self.branches_covered.saturating_add(other.branches_covered);
    }
}

/// One source line: whether any instruction ran, its branches and those taken.
#[derive(Clone, Copy, Default)]
struct Line {
    covered: bool,
    branches: u64,
    branches_covered: u64,
}

impl Line {
    /// The same line listed again: covered if either ran, the larger branch figures.
    fn merge(&mut self, other: Line) {
        self.covered |= other.covered;
        self.branches = self.branches.max(other.branches);
        self.branches_covered = self.branches_covered.max(other.branches_covered);
    }
}

/// A file's line records by number, and the counters taken where it has none.
#[derive(Default)]
struct File {
    lines: BTreeMap<u64, Line>,
    counted: Figures,
}

/// An open element, as far as the `<counter>`s and `<line>`s directly inside it matter.
enum Scope {
    /// A `<package>`, by name (`com/acme`).
    Package(String),
    /// A `<sourcefile>`: its line records and its own counters.
    SourceFile {
        path: String,
        lines: BTreeMap<u64, Line>,
        counters: Figures,
    },
    /// A `<class>` without `sourcefilename`: only its own counters count.
    Sourceless { path: String, counters: Figures },
    /// Anything else (`<report>`, `<group>`, a class with a source file, a `<method>`).
    Other,
}

/// Parses a JaCoCo XML report.
pub fn parse_jacoco(doc: &[u8]) -> Result<CoverageSummary, ParseError> {
    let mut xml = Xml::new(doc, FORMAT)?;
    let mut files: BTreeMap<String, File> = BTreeMap::new();
    let mut stack: Vec<Scope> = Vec::new();
    let mut root = false;
    let mut records = 0u64;
    // Instructions the files' counters count: code that a report without lines still has.
    let mut instructions = 0u64;
    loop {
        let event = xml.next()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name();
                let name = name.as_ref();
                if !root {
                    if name != "report" {
                        return Err(
                            xml.malformed(format!("the root element is <{name}>, not <report>"))
                        );
                    }
                    root = true;
                }
                let scope = match name {
                    "package" => Scope::Package(required(&xml, e, "package", "name")?),
                    "sourcefile" | "class" => file_scope(&xml, e, name, stack.last())?,
                    "line" => {
                        records += 1;
                        if records > MAX_LINE_RECORDS {
                            return Err(
                                xml.refused(format!("more than {MAX_LINE_RECORDS} <line> records"))
                            );
                        }
                        let Some(Scope::SourceFile { lines, .. }) = stack.last_mut() else {
                            return Err(xml.malformed("a <line> outside a <sourcefile>"));
                        };
                        let (nr, line) = line_record(&xml, e)?;
                        lines.entry(nr).or_default().merge(line);
                        Scope::Other
                    }
                    "counter" => {
                        let (kind, missed, covered) = counter(&xml, e)?;
                        let total = missed.saturating_add(covered);
                        if let Some(
                            Scope::SourceFile { counters, .. } | Scope::Sourceless { counters, .. },
                        ) = stack.last_mut()
                        {
                            match kind.as_str() {
                                "LINE" => counters.add(Figures {
                                    lines: total,
                                    lines_covered: covered,
                                    ..Figures::default()
                                }),
                                "BRANCH" => counters.add(Figures {
                                    branches: total,
                                    branches_covered: covered,
                                    ..Figures::default()
                                }),
                                "INSTRUCTION" => instructions = instructions.saturating_add(total),
                                _ => {}
                            }
                        }
                        Scope::Other
                    }
                    _ => Scope::Other,
                };
                if matches!(event, Event::Empty(_)) {
                    close(scope, &mut files);
                } else {
                    stack.push(scope);
                }
            }
            Event::End(_) => {
                if let Some(scope) = stack.pop() {
                    close(scope, &mut files);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root {
        return Err(crate::xml::no_root(FORMAT));
    }
    let list: Vec<FileCoverage> = files.into_iter().map(file_coverage).collect();
    if instructions > 0 && list.iter().all(|f| f.lines_total == 0) {
        return Err(ParseError::Malformed {
            format: FORMAT,
            line: 0,
            message: format!(
                "the report counts {instructions} instructions but no lines: its classes were \
                 compiled without line numbers (javac -g:none or -g:source); compile them with \
                 -g or -g:lines for line coverage"
            ),
        });
    }
    Ok(summary("jacoco", list))
}

/// The scope a `<sourcefile>` or `<class>` opens; both must be directly inside a `<package>`.
fn file_scope(
    xml: &Xml<'_>,
    e: &BytesStart<'_>,
    element: &str,
    parent: Option<&Scope>,
) -> Result<Scope, ParseError> {
    let name = required(xml, e, element, "name")?;
    let Some(Scope::Package(package)) = parent else {
        return Err(xml.malformed(format!("a <{element}> outside a <package>")));
    };
    if element == "class" {
        if attr(e, "sourcefilename").is_some() {
            return Ok(Scope::Other);
        }
        // A class's name is already qualified: `com/acme/Cart`.
        return Ok(Scope::Sourceless {
            path: name,
            counters: Figures::default(),
        });
    }
    let path = if package.is_empty() {
        name
    } else {
        format!("{package}/{name}")
    };
    Ok(Scope::SourceFile {
        path,
        lines: BTreeMap::new(),
        counters: Figures::default(),
    })
}

/// Adds a closed file's figures: its line records, else its counters.
fn close(scope: Scope, files: &mut BTreeMap<String, File>) {
    match scope {
        Scope::SourceFile {
            path,
            lines,
            counters,
        } => {
            let file = files.entry(path).or_default();
            if lines.is_empty() {
                file.counted.add(counters);
            }
            for (nr, line) in lines {
                file.lines.entry(nr).or_default().merge(line);
            }
        }
        Scope::Sourceless { path, counters } => {
            files.entry(path).or_default().counted.add(counters)
        }
        Scope::Package(_) | Scope::Other => {}
    }
}

/// A file's figures: its line records and the counters taken in their place.
fn file_coverage((path, file): (String, File)) -> FileCoverage {
    let mut f = file.counted;
    for line in file.lines.values() {
        f.add(Figures {
            lines: 1,
            lines_covered: u64::from(line.covered),
            branches: line.branches,
            branches_covered: line.branches_covered,
        });
    }
    FileCoverage {
        path,
        lines_total: f.lines,
        lines_covered: f.lines_covered,
        branches_total: f.branches,
        branches_covered: f.branches_covered,
    }
}

/// `<line nr= mi= ci= mb= cb=/>`: its number and figures.
fn line_record(xml: &Xml<'_>, e: &BytesStart<'_>) -> Result<(u64, Line), ParseError> {
    let nr = number(xml, e, "line", "nr")?;
    number(xml, e, "line", "mi")?;
    let ci = number(xml, e, "line", "ci")?;
    let mb = number(xml, e, "line", "mb")?;
    let cb = number(xml, e, "line", "cb")?;
    Ok((
        nr,
        Line {
            covered: ci > 0,
            branches: mb.saturating_add(cb),
            branches_covered: cb,
        },
    ))
}

/// `<counter type= missed= covered=/>`: its type and figures.
fn counter(xml: &Xml<'_>, e: &BytesStart<'_>) -> Result<(String, u64, u64), ParseError> {
    let kind = required(xml, e, "counter", "type")?;
    let missed = number(xml, e, "counter", "missed")?;
    let covered = number(xml, e, "counter", "covered")?;
    Ok((kind, missed, covered))
}

/// An attribute every such element has.
fn required(
    xml: &Xml<'_>,
    e: &BytesStart<'_>,
    element: &str,
    name: &str,
) -> Result<String, ParseError> {
    attr(e, name).ok_or_else(|| xml.malformed(format!("a <{element}> without {name}")))
}

/// An attribute that must be a whole number of at least 0.
fn number(xml: &Xml<'_>, e: &BytesStart<'_>, element: &str, name: &str) -> Result<u64, ParseError> {
    attr(e, name)
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            xml.malformed(format!(
                "a <{element}> whose {name} is missing or not a whole number"
            ))
        })
}
