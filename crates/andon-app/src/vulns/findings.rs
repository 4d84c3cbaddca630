//! What runs in production with a known vulnerability: the components of every artifact
//! running in a production environment (its SBOMs) judged against the imported advisories
//! on their packages, and the open findings of the newest vulnerability scan attested for
//! it (Trivy, Grype, any SARIF or CycloneDX report), grouped by application and
//! vulnerability.

use std::collections::{BTreeMap, BTreeSet};

use andon_domain::VULNERABILITIES_PREDICATE_V1;
use andon_domain::components::ComponentRow;
use andon_evidence::vulnerabilities::VulnerabilitySummary;
use andon_store::{AdvisoryEffect, ArtifactComponent, EvidenceRow};
use andon_vuln::Verdict;

use super::impact::Ranges;
use super::running::running;
use crate::input::is_production;
use crate::{App, AppError};

/// One vulnerability of one application, running in production.
#[derive(Clone, Debug, Default)]
pub(crate) struct Finding {
    pub(crate) team: String,
    /// The CVE id when an advisory names one, else the advisory's own.
    pub(crate) vulnerability: String,
    pub(crate) aliases: BTreeSet<String>,
    pub(crate) advisories: BTreeSet<String>,
    /// The scans that report it (evidence ids).
    pub(crate) scans: BTreeSet<String>,
    pub(crate) severity: String,
    /// The affected artifacts running in production (`sha256:<hex>`).
    pub(crate) artifacts: BTreeSet<String>,
}

/// An artifact running in production that an SBOM describes.
#[derive(Clone, Debug)]
pub(crate) struct Described {
    pub(crate) evidence: String,
    pub(crate) recorded_at: i64,
}

/// What runs in production, judged.
#[derive(Default)]
pub(crate) struct Scan {
    /// (application, vulnerability) -> the finding.
    pub(crate) findings: BTreeMap<(String, String), Finding>,
    /// application -> its artifacts running in production with an SBOM.
    pub(crate) described: BTreeMap<String, BTreeMap<String, Described>>,
    /// application -> its artifacts running in production with a vulnerability scan (the
    /// newest scan of each).
    pub(crate) scanned: BTreeMap<String, BTreeMap<String, Described>>,
}

/// Judges what runs in production, for every application or `only` one.
pub(crate) async fn scan(app: &App, only: Option<&str>) -> Result<Scan, AppError> {
    // Only production's snapshots are read: the sweep runs after every production
    // deployment and every minute.
    let now = running(app, is_production).await?;
    let production: Vec<String> = now.by_digest.keys().cloned().collect();
    let components = app.store().artifact_components(&production, only).await?;
    let mut out = Scan::default();
    let mut by_key: BTreeMap<&(String, String, String), Vec<&ArtifactComponent>> = BTreeMap::new();
    for c in &components {
        by_key.entry(&c.key).or_default().push(c);
        out.described
            .entry(c.application.clone())
            .or_default()
            .entry(c.digest.clone())
            .or_insert_with(|| Described {
                evidence: c.evidence.clone(),
                recorded_at: c.recorded_at,
            });
    }
    let keys: Vec<(String, String, String)> = by_key.keys().map(|k| (*k).clone()).collect();
    for stored in app.store().advisories_on(&keys).await? {
        let a = &stored.advisory;
        if a.withdrawn.is_some() {
            continue;
        }
        let judge = Judge::of(a)?;
        for c in &components {
            if !judge.affects(&c.key, &c.component) {
                continue;
            }
            let vulnerability = canonical(a);
            let f = out
                .findings
                .entry((c.application.clone(), vulnerability.clone()))
                .or_insert_with(|| Finding {
                    team: c.team.clone(),
                    vulnerability,
                    severity: "unknown".into(),
                    ..Finding::default()
                });
            f.advisories.insert(a.id.clone());
            f.aliases
                .extend(std::iter::once(&a.id).chain(&a.aliases).cloned());
            f.artifacts.insert(c.digest.clone());
            if rank(&a.severity) > rank(&f.severity) {
                f.severity = a.severity.clone();
            }
        }
    }
    scan_findings(app, only, &production, &mut out).await?;
    for f in out.findings.values_mut() {
        let v = f.vulnerability.clone();
        f.aliases.remove(&v);
    }
    Ok(out)
}

/// Whether a vulnerability report is a scan (a VEX document only says what does not apply).
pub(crate) fn is_scan(s: &VulnerabilitySummary) -> bool {
    !matches!(s.format.as_str(), "openvex" | "csaf")
}

/// The newest scan each application attested for each of `digests` (`sha256:<hex>`), of
/// one application or all: (digest, record, what it says), in one query per 500 digests.
pub(crate) async fn newest_scans(
    app: &App,
    digests: &[String],
    only: Option<&str>,
) -> Result<Vec<(String, EvidenceRow, VulnerabilitySummary)>, AppError> {
    let rows = app
        .store()
        .evidence_on_digests(VULNERABILITIES_PREDICATE_V1, digests)
        .await?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (digest, r) in rows {
        if only.is_some_and(|o| o != r.application) {
            continue;
        }
        let Some(s) = r
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str::<VulnerabilitySummary>(s).ok())
        else {
            continue;
        };
        if is_scan(&s) && seen.insert((digest.clone(), r.application.clone())) {
            out.push((digest, r, s));
        }
    }
    Ok(out)
}

/// Each application's team, by application.
pub(crate) async fn teams(app: &App) -> Result<BTreeMap<String, String>, AppError> {
    Ok(app
        .store()
        .applications()
        .await?
        .into_iter()
        .map(|a| (a.name, a.team))
        .collect())
}

/// Adds the open findings of the newest scan each application attested for each artifact
/// running in production: to the advisories' finding of the same vulnerability (by id or
/// alias), or as a finding of their own, named by the scanner's id.
async fn scan_findings(
    app: &App,
    only: Option<&str>,
    production: &[String],
    out: &mut Scan,
) -> Result<(), AppError> {
    if production.is_empty() {
        return Ok(());
    }
    let teams = teams(app).await?;
    // (application, any name in lower case) -> the finding's key.
    let mut names: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for (key, f) in &out.findings {
        for n in std::iter::once(&f.vulnerability).chain(&f.aliases) {
            names.insert((key.0.clone(), n.to_ascii_lowercase()), key.clone());
        }
    }
    for (digest, r, s) in newest_scans(app, production, only).await? {
        out.scanned
            .entry(r.application.clone())
            .or_default()
            .entry(digest.clone())
            .or_insert_with(|| Described {
                evidence: r.id.clone(),
                recorded_at: r.created_at,
            });
        for found in &s.listed {
            let lower = (r.application.clone(), found.id.to_ascii_lowercase());
            let key = names
                .entry(lower)
                .or_insert_with(|| (r.application.clone(), found.id.clone()))
                .clone();
            let f = out.findings.entry(key).or_insert_with(|| Finding {
                team: teams.get(&r.application).cloned().unwrap_or_default(),
                vulnerability: found.id.clone(),
                severity: "unknown".into(),
                ..Finding::default()
            });
            f.scans.insert(r.id.clone());
            f.artifacts.insert(digest.clone());
            if rank(&found.severity) > rank(&f.severity) {
                f.severity = found.severity.clone();
            }
        }
    }
    Ok(())
}

/// An advisory's affected packages with their ranges read once: (package key, ranges).
pub(crate) struct Judge(Vec<((String, String, String), Ranges)>);

impl Judge {
    /// The packages of `a` Andon can match.
    pub(crate) fn of(a: &AdvisoryEffect) -> Result<Self, AppError> {
        let mut out = Vec::new();
        for p in a.packages.iter().filter(|p| !p.purl_type.is_empty()) {
            let key = (
                p.purl_type.clone(),
                p.purl_namespace.clone(),
                p.purl_name.clone(),
            );
            out.push((key, Ranges::of(&a.id, p)?));
        }
        Ok(Judge(out))
    }

    /// Whether a component of package `key` is affected by the ranges (a version that
    /// cannot be judged is not counted: the impact query lists those as unevaluated).
    pub(crate) fn affects(&self, key: &(String, String, String), c: &ComponentRow) -> bool {
        let Some(version) = c.version.as_deref() else {
            return false;
        };
        self.0.iter().any(|(k, r)| {
            k == key && !r.other_release(c) && matches!(r.evaluate(version), Verdict::Affected(_))
        })
    }
}

/// The name a vulnerability is tracked by: the first CVE id among the advisory's own and
/// its aliases, else the advisory's id.
pub(crate) fn canonical(a: &AdvisoryEffect) -> String {
    std::iter::once(&a.id)
        .chain(&a.aliases)
        .filter(|n| n.starts_with("CVE-"))
        .min()
        .unwrap_or(&a.id)
        .clone()
}

/// Severity words in order.
pub(crate) fn rank(severity: &str) -> u8 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}
