//! The blast radius of a package or a vulnerability: every artifact whose SBOM lists the
//! package (at the version asked, any version, or a version an imported advisory's ranges
//! name), where each runs now, and who owns it; for a vulnerability, also what the newest
//! scan attested for each running artifact reports.

use std::collections::{BTreeMap, BTreeSet};

use andon_domain::components::ComponentRow;
use andon_domain::query::vulns::ImpactQuery;
use andon_domain::vulns::{
    AdvisoryBrief, Affected, AffectedComponent, Impact, Reported, RunningArtifact, Unevaluated,
};
use andon_store::PackageHit;
use andon_vuln::osv::Affected as OsvAffected;
use andon_vuln::purl::{self, PackageKey, Purl};
use andon_vuln::{Verdict, evaluate};

use super::running::running;
use crate::input::check_environment;
use crate::{Actor, App, AppError};

/// `GET /v1/vulnerabilities/impact`: any identity may ask, by package URL or by the id of
/// an imported advisory.
pub async fn impact(app: &App, _actor: &Actor, q: &ImpactQuery) -> Result<Impact, AppError> {
    if let Some(env) = &q.environment {
        check_environment(env)?;
    }
    let mut found = Found::default();
    let mut answer = match (q.purl.as_deref(), q.id.as_deref()) {
        (Some(text), None) => by_purl(app, text, &mut found).await?,
        (None, Some(id)) => by_id(app, id, &mut found).await?,
        _ => {
            return Err(AppError::bad_request(
                "missing_query",
                "ask for one package URL (purl=pkg:type/name@version) or one vulnerability id (id=CVE-…)",
            ));
        }
    };
    let only = q.environment.as_deref();
    let running = running(app, |env| only.is_none_or(|o| o == env)).await?;
    if let Some(id) = &q.id {
        answer.reported = reported(app, id.trim(), &answer.advisories, &running).await?;
        if answer.advisories.is_empty() && answer.reported.is_empty() {
            return Err(AppError::not_found(format!(
                "no imported advisory is or names {id} (andon vuln import), and no scan of what runs reports it"
            )));
        }
    }
    answer.environments = running.environments;
    answer.unevaluated = found.blind;
    for (artifact, a) in found.artifacts {
        match running.by_digest.get(&artifact) {
            Some(envs) => {
                for (env, workloads) in envs {
                    answer.affected.push(Affected {
                        environment: Some(env.clone()),
                        workloads: workloads.clone(),
                        ..a.clone()
                    });
                }
            }
            None if q.environment.is_none() => answer.built.push(a),
            None => {}
        }
    }
    let running_digests: Vec<String> = running.by_digest.keys().cloned().collect();
    let described = app
        .store()
        .digests_with_components(&running_digests)
        .await?;
    for (digest, envs) in &running.by_digest {
        if described.contains(digest) {
            continue;
        }
        for (env, workloads) in envs {
            answer.running_without_sbom.push(RunningArtifact {
                environment: env.clone(),
                artifact: digest.clone(),
                workloads: workloads.clone(),
            });
        }
    }
    answer
        .running_without_sbom
        .sort_by(|x, y| (&x.environment, &x.artifact).cmp(&(&y.environment, &y.artifact)));
    answer.affected.sort_by(|x, y| {
        (&x.environment, &x.application, &x.artifact).cmp(&(
            &y.environment,
            &y.application,
            &y.artifact,
        ))
    });
    Ok(answer)
}

/// What the newest scan of each running artifact reports of the vulnerability `id`, by
/// that id or an alias the advisories give.
async fn reported(
    app: &App,
    id: &str,
    advisories: &[AdvisoryBrief],
    running: &super::running::Running,
) -> Result<Vec<Reported>, AppError> {
    let names: BTreeSet<String> = std::iter::once(id)
        .chain(
            advisories
                .iter()
                .flat_map(|a| std::iter::once(&a.id).chain(&a.aliases))
                .map(String::as_str),
        )
        .map(str::to_ascii_lowercase)
        .collect();
    let digests: Vec<String> = running.by_digest.keys().cloned().collect();
    let scans = super::findings::newest_scans(app, &digests, None).await?;
    if scans.is_empty() {
        return Ok(Vec::new());
    }
    let teams = super::findings::teams(app).await?;
    let mut out = Vec::new();
    for (digest, r, s) in &scans {
        for f in s
            .listed
            .iter()
            .filter(|f| names.contains(&f.id.to_ascii_lowercase()))
        {
            for (env, workloads) in running.by_digest.get(digest).into_iter().flatten() {
                out.push(Reported {
                    application: r.application.clone(),
                    team: teams.get(&r.application).cloned().unwrap_or_default(),
                    environment: env.clone(),
                    artifact: digest.clone(),
                    workloads: workloads.clone(),
                    evidence: r.id.clone(),
                    id: f.id.clone(),
                    severity: f.severity.clone(),
                    component: f.component.clone(),
                    version: f.version.clone(),
                    fixed_version: f.fixed_version.clone(),
                });
            }
        }
    }
    out.sort_by(|x, y| {
        (&x.environment, &x.application, &x.artifact, &x.component).cmp(&(
            &y.environment,
            &y.application,
            &y.artifact,
            &y.component,
        ))
    });
    Ok(out)
}

/// The components of one package, at the version the purl names or any.
async fn by_purl(app: &App, text: &str, found: &mut Found) -> Result<Impact, AppError> {
    let wanted =
        purl::parse(text).map_err(|e| AppError::bad_request("invalid_purl", e.to_string()))?;
    let hits = app
        .store()
        .package_components(&wanted.key.ty, &wanted.key.namespace, &wanted.key.name)
        .await?;
    for hit in hits {
        match judge(&wanted, &hit.component) {
            Judged::Skip => {}
            Judged::Affected(matched) => found.add(
                &hit,
                AffectedComponent {
                    component: hit.component.clone(),
                    matched,
                    fixed: None,
                    advisory: None,
                },
            ),
            Judged::Unevaluated(reason) => found.unevaluated(&hit, reason),
        }
    }
    Ok(Impact {
        query: text.to_owned(),
        packages: vec![wanted.key.purl()],
        ..Impact::default()
    })
}

/// The components each imported advisory naming `id` affects, by its ranges.
async fn by_id(app: &App, id: &str, found: &mut Found) -> Result<Impact, AppError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 128 {
        return Err(AppError::bad_request(
            "invalid_id",
            "a vulnerability id is 1 to 128 characters",
        ));
    }
    let advisories = app.store().advisories_named(id).await?;
    let mut answer = Impact {
        query: id.to_owned(),
        ..Impact::default()
    };
    for stored in &advisories {
        let a = &stored.advisory;
        answer.advisories.push(AdvisoryBrief {
            id: a.id.clone(),
            aliases: a.aliases.clone(),
            severity: a.severity.clone(),
            summary: a.summary.clone(),
            modified: a.modified.clone(),
            withdrawn: a.withdrawn.clone(),
            ledger_index: stored.ledger_idx,
        });
        if a.withdrawn.is_some() {
            continue;
        }
        for p in &a.packages {
            if p.purl_type.is_empty() {
                continue;
            }
            let key = PackageKey {
                ty: p.purl_type.clone(),
                namespace: p.purl_namespace.clone(),
                name: p.purl_name.clone(),
            };
            if !answer.packages.contains(&key.purl()) {
                answer.packages.push(key.purl());
            }
            let ranges = Ranges::of(&a.id, p)?;
            let hits = app
                .store()
                .package_components(&key.ty, &key.namespace, &key.name)
                .await?;
            for hit in hits {
                if ranges.other_release(&hit.component) {
                    continue;
                }
                let Some(version) = hit.component.version.as_deref() else {
                    found.unevaluated(&hit, "the SBOM gives no version".into());
                    continue;
                };
                match ranges.evaluate(version) {
                    Verdict::Affected(h) => found.add(
                        &hit,
                        AffectedComponent {
                            component: hit.component.clone(),
                            matched: h.matched,
                            fixed: h.fixed,
                            advisory: Some(a.id.clone()),
                        },
                    ),
                    Verdict::NotAffected => {}
                    Verdict::Unevaluated(why) => {
                        found.unevaluated(&hit, format!("{}: {why}", a.id))
                    }
                }
            }
        }
    }
    Ok(answer)
}

/// One affected package of an advisory, its ranges read once, judged component by
/// component (the impact query and the items share it).
pub(crate) struct Ranges {
    affected: OsvAffected,
    ecosystem: Option<purl::Ecosystem>,
}

impl Ranges {
    /// The stored package's ranges, read.
    pub(crate) fn of(advisory: &str, p: &andon_store::AdvisoryPackage) -> Result<Self, AppError> {
        let affected = serde_json::from_str(&p.affected).map_err(|e| {
            AppError::unavailable(format!(
                "advisory {advisory}'s stored ranges do not read: {e}"
            ))
        })?;
        Ok(Ranges {
            affected,
            ecosystem: purl::ecosystem(&p.ecosystem),
        })
    }

    /// Whether `c` is a Debian package of another release: another package.
    pub(crate) fn other_release(&self, c: &ComponentRow) -> bool {
        let release = self.ecosystem.as_ref().and_then(|e| e.release.as_deref());
        other_release(release, c)
    }

    /// The verdict on one version.
    pub(crate) fn evaluate(&self, version: &str) -> Verdict {
        evaluate(&self.affected, self.ecosystem.as_ref(), version)
    }
}

/// Whether a component is a Debian package of another release than `release`.
fn other_release(release: Option<&str>, c: &ComponentRow) -> bool {
    let have = c
        .purl
        .as_deref()
        .and_then(|p| purl::parse(p).ok())
        .and_then(|p| p.release);
    matches!((release, have), (Some(want), Some(have)) if want != have)
}

/// What a component is, for the version asked.
enum Judged {
    Skip,
    Affected(String),
    Unevaluated(String),
}

fn judge(wanted: &Purl, c: &ComponentRow) -> Judged {
    // A Debian package of another release is another package.
    if let (Some(want), Some(have)) = (
        &wanted.release,
        c.purl
            .as_deref()
            .and_then(|p| purl::parse(p).ok())
            .and_then(|p| p.release),
    ) && want != &have
    {
        return Judged::Skip;
    }
    let Some(version) = &wanted.version else {
        return Judged::Affected("any version".into());
    };
    match &c.version {
        None => Judged::Unevaluated("the SBOM gives no version".into()),
        Some(v) if purl::same_version(&wanted.key.ty, v, version) => {
            Judged::Affected(format!("= {version}"))
        }
        Some(_) => Judged::Skip,
    }
}

/// Affected artifacts by digest, and the components that could not be judged.
#[derive(Default)]
struct Found {
    artifacts: BTreeMap<String, Affected>,
    blind: Vec<Unevaluated>,
}

impl Found {
    fn add(&mut self, hit: &PackageHit, component: AffectedComponent) {
        for d in artifact_digests(hit) {
            let a = self.artifacts.entry(d.clone()).or_insert_with(|| Affected {
                application: hit.application.clone(),
                team: hit.team.clone(),
                environment: None,
                artifact: d,
                workloads: Vec::new(),
                components: Vec::new(),
                evidence: hit.evidence.clone(),
            });
            // The newest SBOM of the artifact names it (hits come oldest first).
            if a.evidence != hit.evidence {
                a.evidence = hit.evidence.clone();
                a.components.clear();
            }
            if !a.components.contains(&component) {
                a.components.push(component.clone());
            }
        }
    }

    fn unevaluated(&mut self, hit: &PackageHit, reason: String) {
        for d in artifact_digests(hit) {
            self.blind.push(Unevaluated {
                application: hit.application.clone(),
                artifact: d,
                component: hit.component.clone(),
                reason: reason.clone(),
            });
        }
    }
}

/// The SHA-256 subjects of an SBOM's evidence, as `sha256:<hex>` (artifacts run by
/// SHA-256 digest; subjects by other algorithms name no running artifact).
fn artifact_digests(hit: &PackageHit) -> Vec<String> {
    hit.digests
        .iter()
        .filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|d| format!("sha256:{d}"))
        .collect()
}
