//! Dynamic application security testing: the alerts of an OWASP ZAP scan, from its
//! traditional reports, JSON (`traditional-json`, `traditional-json-plus`, `zap.sh -cmd
//! ... -J report.json`, the packaged scans' `-J`) or XML (`traditional-xml`,
//! `traditional-xml-plus`, `<OWASPZAPReport>`, back to ZAP 2.4's).
//!
//! ZAP lists each alert type once per site, with its risk (`riskcode` 0 informational, 1 low,
//! 2 medium, 3 high), its confidence (0 false positive, 1 low, 2 medium, 3 high, 4 confirmed
//! by a user), and its instances (the URLs where it was raised). ZAP caps the instances it
//! lists per alert; `count` gives them all, and the larger of the two is taken, so a report
//! cannot claim fewer instances than it lists. Alerts marked false positive are counted apart.

use std::collections::{BTreeMap, BTreeSet};

use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ParseError;
use crate::xml::{Xml, attr};

const FORMAT: &str = "ZAP report";
const ACCEPTS: &str = "ZAP's traditional-json or traditional-xml report";
/// Alerts listed in full at most; the counts always cover them all.
const MAX_LISTED: usize = 1000;
/// Alert entries (an alert type on a site) read at most.
const MAX_ALERTS: usize = 200_000;
/// Distinct sites read at most.
const MAX_SITES: usize = 10_000;

/// ZAP's risk levels by `riskcode`.
pub const RISKS: [&str; 4] = ["informational", "low", "medium", "high"];
/// ZAP's confidence levels by `confidence` code.
const CONFIDENCES: [&str; 5] = ["false positive", "low", "medium", "high", "confirmed"];

/// What a ZAP scan found.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DastSummary {
    /// `zap`.
    pub format: String,
    /// The ZAP version that wrote the report (`@version`; `Dev Build` for a development
    /// build).
    pub tool_version: Option<String>,
    /// The sites scanned, in report order.
    pub sites: Vec<String>,
    /// Distinct alert types (plugin and alert reference, name, risk) over all sites, false
    /// positives left out; ZAP's own summary counts alerts the same way.
    pub alerts: u64,
    /// Instances of those alerts over all sites (`count`, or the instances listed).
    pub instances: u64,
    /// Distinct alert types by risk: `high`, `medium`, `low`, `informational`.
    pub by_risk: BTreeMap<String, u64>,
    /// The highest risk of any alert, if any.
    pub max_risk: Option<String>,
    /// Alert entries (an alert type on a site) marked false positive (confidence 0).
    pub false_positives: u64,
    /// One entry per alert type and site, most risky first (at most 1000; the counts above
    /// cover all).
    pub listed: Vec<DastAlert>,
}

/// One alert type raised on one site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DastAlert {
    /// The scan rule (`pluginid`).
    pub plugin_id: String,
    /// The alert reference (`alertRef`: the plugin id, or `<plugin>-<n>` for one of a rule's
    /// several alerts), when the report has one (ZAP 2.11 on).
    pub alert_ref: Option<String>,
    /// The alert's name.
    pub name: String,
    /// `high`, `medium`, `low` or `informational`.
    pub risk: String,
    /// `confirmed`, `high`, `medium`, `low`, or `unknown` when not given.
    pub confidence: String,
    /// The CWE id, when one is given (ZAP writes -1 or 0 for none).
    pub cwe: Option<u64>,
    /// The WASC threat id, when one is given.
    pub wasc: Option<u64>,
    /// The site it was raised on.
    pub site: String,
    /// How many times it was raised there.
    pub instances: u64,
}

/// An alert entry as read, before its codes are checked.
#[derive(Default)]
struct Raw {
    site: String,
    plugin_id: Option<String>,
    alert_ref: Option<String>,
    alert: Option<String>,
    name: Option<String>,
    riskcode: Option<String>,
    confidence: Option<String>,
    count: Option<String>,
    listed_instances: u64,
    cwe: Option<String>,
    wasc: Option<String>,
}

fn malformed(message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: FORMAT,
        line: 0,
        message: message.into(),
    }
}

fn refused(message: impl Into<String>) -> ParseError {
    ParseError::Refused {
        format: FORMAT,
        message: message.into(),
    }
}

/// Parses a ZAP traditional report, JSON or XML, told apart by its first byte.
pub fn parse(doc: &[u8]) -> Result<DastSummary, ParseError> {
    let doc = &*crate::encoding::utf8(doc, FORMAT)?;
    if crate::is_xml(doc) {
        parse_xml(doc)
    } else {
        parse_json(&crate::json_doc(doc, FORMAT, ACCEPTS)?)
    }
}

/// A JSON string or number as text (ZAP writes its codes as strings).
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One value, or the items of an array (a single site may be written bare).
fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        Some(v @ Value::Object(_)) => std::slice::from_ref(v),
        _ => &[],
    }
}

fn parse_json(v: &Value) -> Result<DastSummary, ParseError> {
    let Some(sites) = v.get("site") else {
        return Err(if v.get("runs").is_some() {
            malformed(format!(
                "this is SARIF, which is not read here; reads {ACCEPTS}"
            ))
        } else {
            malformed(format!("no \"site\": not a ZAP report; reads {ACCEPTS}"))
        });
    };
    if !matches!(sites, Value::Array(_) | Value::Object(_)) {
        return Err(malformed("\"site\" is neither an array nor an object"));
    }
    let mut names = Vec::new();
    let mut raws = Vec::new();
    for (i, site) in items(Some(sites)).iter().enumerate() {
        let name =
            text(site.get("@name")).ok_or_else(|| malformed(format!("site {i} has no @name")))?;
        names.push(name.clone());
        for a in items(site.get("alerts")) {
            if raws.len() >= MAX_ALERTS {
                return Err(refused(format!("more than {MAX_ALERTS} alerts")));
            }
            raws.push(Raw {
                site: name.clone(),
                plugin_id: text(a.get("pluginid")),
                alert_ref: text(a.get("alertRef")),
                alert: text(a.get("alert")),
                name: text(a.get("name")),
                riskcode: text(a.get("riskcode")),
                confidence: text(a.get("confidence")),
                count: text(a.get("count")),
                listed_instances: items(a.get("instances")).len() as u64,
                cwe: text(a.get("cweid")),
                wasc: text(a.get("wascid")),
            });
        }
    }
    finish(text(v.get("@version")), names, raws)
}

/// The field of a `<alertitem>` a child element fills.
fn field<'a>(raw: &'a mut Raw, element: &str) -> Option<&'a mut Option<String>> {
    Some(match element {
        "pluginid" => &mut raw.plugin_id,
        "alertRef" => &mut raw.alert_ref,
        "alert" => &mut raw.alert,
        "name" => &mut raw.name,
        "riskcode" => &mut raw.riskcode,
        "confidence" => &mut raw.confidence,
        "count" => &mut raw.count,
        "cweid" => &mut raw.cwe,
        "wascid" => &mut raw.wasc,
        _ => return None,
    })
}

fn parse_xml(doc: &[u8]) -> Result<DastSummary, ParseError> {
    let mut xml = Xml::new(doc, FORMAT)?;
    let mut version = None;
    let mut root = false;
    let mut sites = Vec::new();
    let mut site = String::new();
    let mut raws: Vec<Raw> = Vec::new();
    let mut current: Option<Raw> = None;
    // Nesting below the current <alertitem> (1: one of its own fields).
    let mut depth = 0usize;
    // The field being read and its text so far.
    let mut reading: Option<(String, String)> = None;
    loop {
        let event = xml.next()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let local = e.local_name();
                let name: &str = local.as_ref();
                if !root {
                    if name != "OWASPZAPReport" {
                        return Err(xml.malformed(format!(
                            "the root element is <{name}>, not <OWASPZAPReport>; reads {ACCEPTS}"
                        )));
                    }
                    root = true;
                    version = attr(e, "version");
                    continue;
                }
                if let Some(raw) = current.as_mut() {
                    if name == "instance" {
                        raw.listed_instances += 1;
                    }
                    if depth == 0 && !empty && field(raw, name).is_some() {
                        reading = Some((name.to_owned(), String::new()));
                    }
                    if !empty {
                        depth += 1;
                    }
                } else if name == "site" {
                    site = attr(e, "name").ok_or_else(|| xml.malformed("a <site> without name"))?;
                    sites.push(site.clone());
                } else if name == "alertitem" {
                    if raws.len() >= MAX_ALERTS {
                        return Err(xml.refused(format!("more than {MAX_ALERTS} alerts")));
                    }
                    let raw = Raw {
                        site: site.clone(),
                        ..Default::default()
                    };
                    if empty {
                        raws.push(raw);
                    } else {
                        current = Some(raw);
                    }
                }
            }
            Event::Text(ref t) => {
                if let Some((_, buf)) = reading.as_mut() {
                    buf.push_str(&t.xml10_content());
                }
            }
            Event::CData(ref c) => {
                if let Some((_, buf)) = reading.as_mut() {
                    buf.push_str(c.as_ref());
                }
            }
            Event::GeneralRef(ref r) => {
                if let Some((_, buf)) = reading.as_mut() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        buf.push(c);
                    } else {
                        let name = r.as_ref().to_owned();
                        let s = quick_xml::escape::resolve_predefined_entity(&name).ok_or_else(
                            || xml.malformed(format!("an undefined entity &{name};")),
                        )?;
                        buf.push_str(s);
                    }
                }
            }
            Event::End(_) => {
                if let Some(raw) = current.as_mut() {
                    if depth == 0 {
                        // The </alertitem> itself.
                        raws.extend(current.take());
                        continue;
                    }
                    depth -= 1;
                    if depth == 0
                        && let Some((element, value)) = reading.take()
                        && let Some(slot) = field(raw, &element)
                    {
                        *slot = Some(value);
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root {
        return Err(crate::xml::no_root(FORMAT));
    }
    finish(version, sites, raws)
}

/// A code in `0..=max`, or an error naming the field.
fn code(value: Option<&str>, what: &str, max: usize, alert: &str) -> Result<usize, ParseError> {
    let v = value.map(str::trim).unwrap_or_default();
    v.parse::<usize>()
        .ok()
        .filter(|c| *c <= max)
        .ok_or_else(|| malformed(format!("alert {alert:?}: {what} {v:?} is not 0 to {max}")))
}

/// A positive id, or none (ZAP writes -1 or 0 for none).
fn id(value: Option<&str>) -> Option<u64> {
    value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|v| *v > 0)
}

fn finish(
    version: Option<String>,
    names: Vec<String>,
    raws: Vec<Raw>,
) -> Result<DastSummary, ParseError> {
    let mut s = DastSummary {
        format: "zap".into(),
        tool_version: version,
        ..Default::default()
    };
    let mut seen = BTreeSet::new();
    for n in names {
        if seen.insert(n.clone()) {
            if s.sites.len() >= MAX_SITES {
                return Err(refused(format!("more than {MAX_SITES} sites")));
            }
            s.sites.push(n);
        }
    }
    let mut listed = Vec::new();
    let mut types = BTreeSet::new();
    for raw in raws {
        let name = raw
            .alert
            .or(raw.name)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| malformed(format!("an alert on {:?} has no name", raw.site)))?;
        let plugin_id = raw
            .plugin_id
            .map(|p| p.trim().to_owned())
            .ok_or_else(|| malformed(format!("alert {name:?} has no pluginid")))?;
        let risk = code(raw.riskcode.as_deref(), "riskcode", 3, &name)?;
        let confidence = match raw.confidence.as_deref() {
            None => "unknown",
            c => CONFIDENCES[code(c, "confidence", 4, &name)?],
        };
        if confidence == "false positive" {
            s.false_positives += 1;
            continue;
        }
        let counted = raw
            .count
            .as_deref()
            .and_then(|c| c.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let alert = DastAlert {
            plugin_id,
            alert_ref: raw.alert_ref.map(|r| r.trim().to_owned()),
            name,
            risk: RISKS[risk].to_owned(),
            confidence: confidence.to_owned(),
            cwe: id(raw.cwe.as_deref()),
            wasc: id(raw.wasc.as_deref()),
            site: raw.site,
            instances: counted.max(raw.listed_instances),
        };
        s.instances = s.instances.saturating_add(alert.instances);
        let kind = alert.alert_ref.clone().unwrap_or(alert.plugin_id.clone());
        if types.insert((kind, alert.name.clone(), risk)) {
            *s.by_risk.entry(alert.risk.clone()).or_default() += 1;
        }
        listed.push((risk, alert));
    }
    s.alerts = types.len() as u64;
    s.max_risk = types.iter().map(|t| t.2).max().map(|r| RISKS[r].to_owned());
    let confidence_rank = |c: &str| CONFIDENCES.iter().position(|x| *x == c).unwrap_or(0);
    listed.sort_by(|(ra, a), (rb, b)| {
        rb.cmp(ra)
            .then_with(|| confidence_rank(&b.confidence).cmp(&confidence_rank(&a.confidence)))
            .then_with(|| b.instances.cmp(&a.instances))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.plugin_id.cmp(&b.plugin_id))
            .then_with(|| a.alert_ref.cmp(&b.alert_ref))
            .then_with(|| a.site.cmp(&b.site))
    });
    s.listed = listed
        .into_iter()
        .take(MAX_LISTED)
        .map(|(_, a)| a)
        .collect();
    Ok(s)
}
