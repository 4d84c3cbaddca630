//! The Risk Control Matrix in OSCAL 1.2.3: Andon's controls as a `component-definition`
//! (which framework requirements each control implements, and how), and their
//! effectiveness over a period as `assessment-results` (an observation per control with
//! its counts, a finding per control that ran).
//!
//! Framework references such as `NIST SP 800-53 SA-11(1)` become OSCAL control ids of the
//! framework's catalog (`sa-11.1`); every document also lists Andon's own controls under
//! the policy that defines them, so nothing is lost for frameworks without an OSCAL
//! catalog. UUIDs are name-based (v5), so exporting the same matrix twice gives the same
//! identifiers, as OSCAL asks of a subject across revisions.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// One row of the Risk Control Matrix: a control, what it answers and relies on, and how
/// it did over a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRow {
    /// The control's id in its policy.
    pub id: String,
    /// Its title.
    pub title: String,
    /// The risk it answers.
    pub risk: String,
    /// The delivery stage it checks.
    pub stage: String,
    /// The kinds of evidence it relies on.
    pub evidence: Vec<String>,
    /// Framework references (`NIST SP 800-53 SR-4`, `SLSA Build L2`).
    pub frameworks: Vec<String>,
    /// Decisions it ran in over the period.
    pub decisions: u64,
    /// Of which it passed.
    pub pass: u64,
    /// Failed.
    pub fail: u64,
    /// Found its evidence missing.
    pub missing: u64,
    /// Were waived.
    pub waived: u64,
    /// Did not apply.
    pub not_applicable: u64,
    /// Could not be evaluated.
    pub error: u64,
}

impl ControlRow {
    /// A control known only by id and title, nothing counted yet.
    pub fn new(id: &str, title: &str) -> Self {
        Self {
            id: id.to_owned(),
            title: title.to_owned(),
            ..Self::default()
        }
    }

    /// Adds another count of the same control (another application's, say).
    pub fn add(&mut self, other: &ControlRow) {
        self.decisions += other.decisions;
        self.pass += other.pass;
        self.fail += other.fail;
        self.missing += other.missing;
        self.waived += other.waived;
        self.not_applicable += other.not_applicable;
        self.error += other.error;
    }

    /// Whether it held every time it ran (it ran at least once, and never failed, lacked
    /// its evidence, errored or needed a waiver).
    pub fn satisfied(&self) -> bool {
        self.decisions > 0 && self.fail + self.missing + self.error + self.waived == 0
    }
}

/// The matrix of one application and environment over a period.
#[derive(Clone, Debug)]
pub struct ControlMatrix {
    /// Application.
    pub application: String,
    /// Environment whose policy applies.
    pub environment: String,
    /// The policy's name.
    pub policy_name: String,
    /// The policy's version (content hash).
    pub policy_version: String,
    /// Start of the period, RFC 3339.
    pub since: String,
    /// End of the period, RFC 3339.
    pub until: String,
    /// The controls.
    pub controls: Vec<ControlRow>,
}

/// The OSCAL version the documents conform to.
pub const OSCAL_VERSION: &str = "1.2.3";

/// Namespace of Andon's OSCAL properties.
pub const NS: &str = "https://andon.dev/ns/oscal";

/// A framework requirement as OSCAL names it: the catalog it comes from and its id there.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Requirement {
    /// The catalog (or standard) the control id belongs to.
    pub source: String,
    /// The framework as written in the policy (`NIST SP 800-53`).
    pub framework: String,
    /// The control id in OSCAL's token form (`sa-11.1`).
    pub control_id: String,
}

const FRAMEWORKS: &[(&str, &str)] = &[
    (
        "NIST SP 800-53",
        "https://raw.githubusercontent.com/usnistgov/oscal-content/main/nist.gov/SP800-53/rev5/json/NIST_SP-800-53_rev5_catalog.json",
    ),
    (
        "NIST SP 800-218",
        "https://csrc.nist.gov/pubs/sp/800/218/final",
    ),
    ("ISO/IEC 27001:2022", "https://www.iso.org/standard/27001"),
    (
        "PCI DSS 4.0",
        "https://www.pcisecuritystandards.org/document_library/",
    ),
    (
        "SOC 2",
        "https://www.aicpa-cima.com/topic/audit-assurance/audit-and-assurance-greater-than-soc-2",
    ),
    ("SLSA", "https://slsa.dev/spec/v1.0/levels"),
];

/// An OSCAL token (`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`) from free text: lower case,
/// `(1)` as `.1`, other separators as `-`, and `req-` before a leading digit.
pub fn token(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        match c {
            '(' => out.push('.'),
            ')' => {}
            c if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') => {
                out.extend(c.to_lowercase())
            }
            _ => {
                if !out.ends_with('-') {
                    out.push('-');
                }
            }
        }
    }
    let out = out.trim_matches('-').to_owned();
    match out.chars().next() {
        Some(c) if c.is_alphabetic() || c == '_' => out,
        _ => format!("req-{out}"),
    }
}

/// A policy's framework reference as an OSCAL requirement.
pub fn requirement(reference: &str) -> Requirement {
    for (framework, source) in FRAMEWORKS {
        if let Some(rest) = reference.strip_prefix(framework) {
            return Requirement {
                source: (*source).to_owned(),
                framework: (*framework).to_owned(),
                control_id: token(rest),
            };
        }
    }
    Requirement {
        source: format!("urn:andon:framework:{}", token(reference)),
        framework: reference.to_owned(),
        control_id: token(reference),
    }
}

fn uuid(parts: &[&str]) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("{NS}/{}", parts.join("/")).as_bytes(),
    )
    .to_string()
}

fn prop(name: &str, value: impl ToString) -> Value {
    json!({"name": name, "ns": NS, "value": value.to_string()})
}

fn metadata(m: &ControlMatrix, title: String) -> Value {
    json!({
        "title": title,
        "last-modified": m.until,
        "version": m.policy_version,
        "oscal-version": OSCAL_VERSION,
        "props": [prop("application", &m.application), prop("environment", &m.environment), prop("policy", &m.policy_name)],
    })
}

/// The policy's own catalog, for the control implementation of Andon's controls.
fn policy_source(m: &ControlMatrix) -> String {
    format!(
        "urn:andon:policy:{}:{}",
        token(&m.policy_name),
        m.policy_version
    )
}

/// Andon's controls as an OSCAL `component-definition`: one software component (the
/// release gate of the application and environment), with a control implementation per
/// framework and one for the policy's own controls.
pub fn component_definition(m: &ControlMatrix) -> Value {
    let mut by_source: std::collections::BTreeMap<(String, String), Vec<(String, &ControlRow)>> =
        Default::default();
    for c in &m.controls {
        by_source
            .entry((policy_source(m), format!("Andon policy {}", m.policy_name)))
            .or_default()
            .push((token(&c.id), c));
        for f in &c.frameworks {
            let r = requirement(f);
            by_source
                .entry((r.source, r.framework))
                .or_default()
                .push((r.control_id, c));
        }
    }
    let component = uuid(&["component", &m.application, &m.environment]);
    let implementations: Vec<Value> = by_source
        .iter()
        .map(|((source, framework), rows)| {
            let mut ids: std::collections::BTreeMap<&str, Vec<&ControlRow>> = Default::default();
            for (id, c) in rows {
                ids.entry(id.as_str()).or_default().push(c);
            }
            let requirements: Vec<Value> = ids
                .iter()
                .map(|(id, controls)| {
                    let how: Vec<String> = controls
                        .iter()
                        .map(|c| format!(
                            "Andon control {} ({}): checked at the release gate, stage {}, from evidence {}. Risk addressed: {}",
                            c.id, c.title, c.stage, if c.evidence.is_empty() { "none".to_owned() } else { c.evidence.join(", ") }, c.risk
                        ))
                        .collect();
                    json!({
                        "uuid": uuid(&["requirement", &m.application, &m.environment, source, id]),
                        "control-id": id,
                        "description": how.join("\n"),
                        "props": controls.iter().map(|c| prop("andon-control", &c.id)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "uuid": uuid(&["implementation", &m.application, &m.environment, source]),
                "source": source,
                "description": format!("{framework} requirements met by Andon's release gate for {} in {}.", m.application, m.environment),
                "implemented-requirements": requirements,
            })
        })
        .collect();
    json!({
        "component-definition": {
            "uuid": uuid(&["component-definition", &m.application, &m.environment, &m.policy_version]),
            "metadata": metadata(m, format!("Andon release gate controls: {} in {}", m.application, m.environment)),
            "components": [{
                "uuid": component,
                "type": "software",
                "title": format!("Andon release gate for {} in {}", m.application, m.environment),
                "description": format!(
                    "Every release of {} to {} is decided by policy {} ({}); each control below is evaluated on signed evidence and every decision is recorded in Andon's ledger.",
                    m.application, m.environment, m.policy_name, m.policy_version
                ),
                "props": [prop("policy-version", &m.policy_version)],
                "control-implementations": implementations,
            }],
        }
    })
}

/// The matrix's effectiveness over its period as OSCAL `assessment-results`: an
/// observation per control (its counts), a finding per control that ran (satisfied when
/// it never failed, lacked evidence, errored or was waived).
pub fn assessment_results(m: &ControlMatrix, component_definition_href: &str) -> Value {
    let mut reviewed: Vec<String> = Vec::new();
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    for c in &m.controls {
        let id = token(&c.id);
        for f in &c.frameworks {
            let r = requirement(f).control_id;
            if !reviewed.contains(&r) {
                reviewed.push(r);
            }
        }
        if !reviewed.contains(&id) {
            reviewed.push(id.clone());
        }
        let observation = uuid(&[
            "observation",
            &m.application,
            &m.environment,
            &m.since,
            &m.until,
            &c.id,
        ]);
        let description = if c.decisions == 0 {
            format!(
                "{} did not run in any release decision of the period.",
                c.id
            )
        } else {
            format!(
                "{} ran in {} release decisions: {} passed, {} failed, {} missing evidence, {} waived, {} not applicable, {} errors.",
                c.id, c.decisions, c.pass, c.fail, c.missing, c.waived, c.not_applicable, c.error
            )
        };
        observations.push(json!({
            "uuid": observation,
            "title": format!("{}: {}", c.id, c.title),
            "description": description,
            "methods": ["TEST"],
            "types": ["control-objective"],
            "collected": m.until,
            "props": [
                prop("andon-control", &c.id), prop("decisions", c.decisions), prop("pass", c.pass),
                prop("fail", c.fail), prop("missing", c.missing), prop("waived", c.waived),
                prop("not-applicable", c.not_applicable), prop("error", c.error),
            ],
        }));
        if c.decisions > 0 {
            let satisfied = c.satisfied();
            findings.push(json!({
                "uuid": uuid(&["finding", &m.application, &m.environment, &m.since, &m.until, &c.id]),
                "title": format!("{} {}", c.id, if satisfied { "held" } else { "did not always hold" }),
                "description": description,
                "target": {
                    "type": "objective-id",
                    "target-id": id,
                    "title": c.title,
                    "status": {"state": if satisfied { "satisfied" } else { "not-satisfied" }, "reason": if satisfied { "pass" } else { "fail" }},
                },
                "related-observations": [{"observation-uuid": observation}],
            }));
        }
    }
    let mut result = json!({
        "uuid": uuid(&["result", &m.application, &m.environment, &m.since, &m.until]),
        "title": format!("Release gate decisions for {} in {}", m.application, m.environment),
        "description": format!(
            "Each control of policy {} as it ran in the release decisions of {} in {} from {} to {}, counted from the decisions recorded in Andon's ledger.",
            m.policy_name, m.application, m.environment, m.since, m.until
        ),
        "start": m.since,
        "end": m.until,
        "reviewed-controls": {"control-selections": [{"include-controls": reviewed.iter().map(|id| json!({"control-id": id})).collect::<Vec<_>>()}]},
        "observations": observations,
    });
    if !findings.is_empty() {
        result["findings"] = Value::from(findings);
    }
    json!({
        "assessment-results": {
            "uuid": uuid(&["assessment-results", &m.application, &m.environment, &m.since, &m.until, &m.policy_version]),
            "metadata": metadata(m, format!("Andon control effectiveness: {} in {}", m.application, m.environment)),
            "import-ap": {
                "href": component_definition_href,
                "remarks": "Andon assesses continuously at every release gate rather than from a separate assessment plan; the controls assessed are those of the referenced component definition.",
            },
            "results": [result],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framework_references_become_oscal_control_ids() {
        let r = requirement("NIST SP 800-53 SA-11(1)");
        assert_eq!(r.control_id, "sa-11.1");
        assert!(r.source.contains("SP800-53/rev5"));
        assert_eq!(requirement("NIST SP 800-218 PS.2").control_id, "ps.2");
        assert_eq!(requirement("PCI DSS 4.0 6.2.3.1").control_id, "req-6.2.3.1");
        assert_eq!(requirement("SLSA Build L2").control_id, "build-l2");
        let unknown = requirement("Internal RC-7");
        assert_eq!(unknown.control_id, "internal-rc-7");
        assert_eq!(unknown.source, "urn:andon:framework:internal-rc-7");
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid(&["x", "y"]);
        assert_eq!(a, uuid(&["x", "y"]));
        assert_ne!(a, uuid(&["x", "z"]));
        assert_eq!(&a[14..15], "5");
    }

    #[test]
    fn a_control_that_needed_a_waiver_is_not_satisfied() {
        let mut c = ControlRow::new("tests", "Tests pass");
        assert!(!c.satisfied(), "never ran");
        c.decisions = 2;
        c.pass = 2;
        assert!(c.satisfied());
        c.waived = 1;
        assert!(!c.satisfied());
    }
}
