//! Hardening scans of an environment, and what changed since the previous scan.
//!
//! Three forms are read, told apart by their content:
//!
//! - Nmap XML (`nmap -oX`, root `<nmaprun>`): the hosts scanned, the hosts up and every port
//!   in state `open` (not `filtered`, `closed` or `open|filtered`), with the service name
//!   Nmap gives, if any;
//! - XCCDF 1.2 or 1.1 results: a `<Benchmark>` holding `<TestResult>`s (`oscap xccdf eval
//!   --results`), a bare `<TestResult>`, or an ARF `<arf:asset-report-collection>` whose
//!   reports are XCCDF TestResults (`oscap xccdf eval --results-arf`);
//! - Chef InSpec JSON (`inspec exec --reporter json`, and the `json-min` reporter): the
//!   controls of every profile and the status of their results.
//!
//! A compliance rule (an XCCDF rule, an InSpec control) fails when any of its results fails
//! (XCCDF `fail` or `error`; InSpec `failed`, or `error` with enhanced outcomes), passes when
//! it has results and all pass, and is otherwise neither (not applicable, not checked,
//! skipped). A control that has no result (not run) is not counted. [`diff`] compares two summaries of the same environment: the ports opened and
//! closed, the rules newly failing and newly passing.

mod inspec;
mod nmap;
mod xccdf;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::ParseError;
use crate::xml::Xml;

/// Documents larger than this are refused (an OpenSCAP ARF of a large benchmark is tens of
/// MiB).
const MAX_BYTES: usize = 128 * 1024 * 1024;
/// Rule ids listed (failing, passing) and targets listed at most; counts cover all.
const MAX_LISTED: usize = 1000;
/// Open ports listed at most; `open_ports_total` counts all.
const MAX_PORTS_LISTED: usize = 10_000;
/// Rule results (XCCDF rule-results, InSpec results) read at most.
const MAX_RULE_RESULTS: usize = 500_000;

/// What a hardening scan says about an environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardeningSummary {
    /// `nmap`, `xccdf` or `inspec`.
    pub format: String,
    /// The scanner: `nmap`, the XCCDF `test-system`'s product (`openscap`), `inspec`;
    /// `unknown` when the document does not say.
    pub tool: String,
    /// The scanner's version, when given.
    pub tool_version: Option<String>,
    /// The hosts scanned: Nmap's host addresses, XCCDF `<target>` names, InSpec's
    /// `platform.target_id`; sorted (names, then addresses in address order), at most 1000.
    pub targets: Vec<String>,
    /// Hosts Nmap found up (0 for compliance scans).
    pub hosts_up: u64,
    /// Open ports as `"<host> <protocol>/<port>[ <service>]"`, e.g. `"127.0.0.1 tcp/22
    /// ssh"`, sorted by host, protocol and port number, one per host and port, at most
    /// 10000. The service is Nmap's name for it (`ssl/` in front when tunnelled), left out
    /// when Nmap has none or says `unknown`.
    pub open_ports: Vec<String>,
    /// Open ports, all of them (`open_ports` may list fewer).
    pub open_ports_total: u64,
    /// Compliance rules with a result (XCCDF rule-results other than `notselected`; InSpec
    /// controls with results), counted once per rule id.
    pub rules_total: u64,
    /// Rules that passed (XCCDF `pass` or `fixed`; InSpec all results `passed`).
    pub rules_pass: u64,
    /// Rules that failed (XCCDF `fail` or `error`; InSpec any result `failed`).
    pub rules_fail: u64,
    /// Failing rule ids, sorted, at most 1000 (`rules_fail` counts all).
    pub failing: Vec<String>,
    /// Passing rule ids, sorted, at most 1000 (`rules_pass` counts all).
    pub passing: Vec<String>,
    /// The XCCDF profile evaluated, or the InSpec profile(s) run (top-level ones, `, `
    /// between).
    pub profile: Option<String>,
    /// The XCCDF benchmark id.
    pub benchmark: Option<String>,
}

/// What changed between two scans of the same environment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardeningDiff {
    /// Ports open now and not before (host, protocol and port compared, not the service
    /// name), as the current scan lists them.
    pub new_open_ports: Vec<String>,
    /// Ports open before and not now, as the previous scan listed them.
    pub closed_ports: Vec<String>,
    /// Rules failing now that did not fail before (including rules not evaluated before),
    /// sorted.
    pub newly_failing: Vec<String>,
    /// Rules that failed before and pass now, sorted.
    pub newly_passing: Vec<String>,
}

impl HardeningDiff {
    /// Whether the environment gained exposure: a port newly open or a rule newly failing.
    pub fn exposure_gained(&self) -> bool {
        !self.new_open_ports.is_empty() || !self.newly_failing.is_empty()
    }
}

/// Parses a hardening scan: Nmap XML, XCCDF results (plain or in ARF), or InSpec JSON.
pub fn parse(doc: &[u8]) -> Result<HardeningSummary, ParseError> {
    const FORMAT: &str = "hardening scan";
    if doc.len() > MAX_BYTES {
        return Err(ParseError::Refused {
            format: FORMAT,
            message: format!("larger than {MAX_BYTES} bytes"),
        });
    }
    let doc = &*crate::encoding::utf8(doc, FORMAT)?;
    if !crate::is_xml(doc) {
        return inspec::parse(doc);
    }
    match root_element(doc, FORMAT)?.as_str() {
        "nmaprun" => nmap::parse(doc),
        "Benchmark" | "TestResult" | "asset-report-collection" => xccdf::parse(doc),
        other => Err(ParseError::Malformed {
            format: FORMAT,
            line: 0,
            message: format!(
                "the root element is <{other}>; a hardening scan is Nmap XML (<nmaprun>), \
                 XCCDF results (<Benchmark> or <TestResult>), an ARF report \
                 (<asset-report-collection>) or InSpec JSON"
            ),
        }),
    }
}

/// Compares a scan with the previous scan of the same environment.
pub fn diff(previous: &HardeningSummary, current: &HardeningSummary) -> HardeningDiff {
    let before: BTreeSet<&str> = previous.open_ports.iter().map(|p| port_key(p)).collect();
    let after: BTreeSet<&str> = current.open_ports.iter().map(|p| port_key(p)).collect();
    let failed_before: BTreeSet<&str> = previous.failing.iter().map(String::as_str).collect();
    let passing_now: BTreeSet<&str> = current.passing.iter().map(String::as_str).collect();
    let mut newly_failing: Vec<String> = current
        .failing
        .iter()
        .filter(|r| !failed_before.contains(r.as_str()))
        .cloned()
        .collect();
    newly_failing.sort();
    let mut newly_passing: Vec<String> = previous
        .failing
        .iter()
        .filter(|r| passing_now.contains(r.as_str()))
        .cloned()
        .collect();
    newly_passing.sort();
    HardeningDiff {
        new_open_ports: current
            .open_ports
            .iter()
            .filter(|p| !before.contains(port_key(p)))
            .cloned()
            .collect(),
        closed_ports: previous
            .open_ports
            .iter()
            .filter(|p| !after.contains(port_key(p)))
            .cloned()
            .collect(),
        newly_failing,
        newly_passing,
    }
}

/// `"<host> <protocol>/<port>"` of an open-port entry, without the service name.
fn port_key(entry: &str) -> &str {
    let mut spaces = entry.match_indices(' ').map(|(i, _)| i);
    match (spaces.next(), spaces.next()) {
        (Some(_), Some(end)) => &entry[..end],
        _ => entry,
    }
}

/// Host names first, then addresses in address order (so `127.0.0.2` before `127.0.0.10`).
fn host_order(host: &str) -> (Option<IpAddr>, &str) {
    (host.parse().ok(), host)
}

/// Targets sorted and deduplicated, at most [`MAX_LISTED`].
fn sorted_targets(targets: BTreeSet<String>) -> Vec<String> {
    let mut list: Vec<String> = targets.into_iter().collect();
    list.sort_by(|a, b| host_order(a).cmp(&host_order(b)));
    list.truncate(MAX_LISTED);
    list
}

/// The local name of the document's root element.
fn root_element(doc: &[u8], format: &'static str) -> Result<String, ParseError> {
    let mut xml = Xml::new(doc, format)?;
    loop {
        match xml.next()? {
            Event::Start(e) | Event::Empty(e) => {
                return Ok(e.local_name().as_ref().to_owned());
            }
            Event::Eof => return Err(xml.malformed("the document has no root element")),
            _ => {}
        }
    }
}

/// A rule's outcome; a rule reported more than once (several results of an InSpec control,
/// several TestResults) takes its worst: failing, else neither, else passing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Passed.
    Pass,
    /// Evaluated, neither passing nor failing (not applicable, not checked, skipped).
    Other,
    /// Failed, or its check ended in error.
    Fail,
}

/// Rule outcomes by id, bounded.
#[derive(Default)]
struct Rules {
    outcomes: BTreeMap<String, Outcome>,
    read: usize,
}

impl Rules {
    /// Records one result of rule `id`.
    fn add(&mut self, format: &'static str, id: &str, outcome: Outcome) -> Result<(), ParseError> {
        self.read += 1;
        if self.read > MAX_RULE_RESULTS {
            return Err(ParseError::Refused {
                format,
                message: format!("more than {MAX_RULE_RESULTS} rule results"),
            });
        }
        let o = self.outcomes.entry(id.to_owned()).or_insert(outcome);
        *o = (*o).max(outcome);
        Ok(())
    }

    /// Puts the counts and the listed ids into `s`.
    fn fill(self, s: &mut HardeningSummary) {
        s.rules_total = self.outcomes.len() as u64;
        for (id, outcome) in self.outcomes {
            let (count, list) = match outcome {
                Outcome::Pass => (&mut s.rules_pass, &mut s.passing),
                Outcome::Fail => (&mut s.rules_fail, &mut s.failing),
                Outcome::Other => continue,
            };
            *count += 1;
            if list.len() < MAX_LISTED {
                list.push(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_keyed_without_its_service() {
        assert_eq!(port_key("127.0.0.1 tcp/22 ssh"), "127.0.0.1 tcp/22");
        assert_eq!(port_key("::1 udp/53"), "::1 udp/53");
        assert_eq!(port_key("host"), "host");
    }

    #[test]
    fn a_rule_takes_its_worst_outcome_and_lists_are_bounded() {
        let mut rules = Rules::default();
        for i in 0..1500 {
            rules
                .add("t", &format!("r{i:04}"), Outcome::Fail)
                .expect("adds");
        }
        rules.add("t", "r0000", Outcome::Pass).expect("adds");
        rules.add("t", "p", Outcome::Pass).expect("adds");
        rules.add("t", "z", Outcome::Pass).expect("adds");
        rules.add("t", "z", Outcome::Other).expect("adds");
        let mut s = HardeningSummary::default();
        rules.fill(&mut s);
        assert_eq!((s.rules_total, s.rules_fail, s.rules_pass), (1502, 1500, 1));
        assert_eq!(s.failing.len(), 1000);
        assert_eq!(s.failing[0], "r0000");
        assert_eq!(s.passing, vec!["p"]);
    }

    #[test]
    fn targets_sort_names_then_addresses_in_order() {
        let set: BTreeSet<String> = ["127.0.0.10", "web", "127.0.0.2", "::1"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            sorted_targets(set),
            vec!["web", "127.0.0.2", "127.0.0.10", "::1"]
        );
    }
}
