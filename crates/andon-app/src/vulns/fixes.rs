//! Where a vulnerability item's fix was built: the first artifact of the application whose
//! evidence no longer has the vulnerability, after the newest that had it. An item an
//! advisory found is judged by SBOMs (the package upgraded out of the affected ranges); one
//! only a scan found, by later scans.

use std::collections::{BTreeMap, BTreeSet};

use andon_domain::vuln_items::VulnItem;
use andon_store::{EvidenceFilter, StoredAdvisory};

use super::findings::Judge;
use crate::{App, AppError};

/// The first SBOM of the application recorded after its newest affected one that lists a
/// package of the advisories at a version none of them affects (the dependency upgraded):
/// its artifact, evidence and recording time.
pub(crate) async fn by_sbom(
    app: &App,
    item: &VulnItem,
    advisories: &[StoredAdvisory],
) -> Result<Option<(String, String, i64)>, AppError> {
    // evidence index -> (affected, evidence id, digests, recorded at)
    let mut sboms: BTreeMap<u64, (bool, String, Vec<String>, i64)> = BTreeMap::new();
    let keys: BTreeSet<(String, String, String)> = advisories
        .iter()
        .flat_map(|a| &a.advisory.packages)
        .filter(|p| !p.purl_type.is_empty())
        .map(|p| {
            (
                p.purl_type.clone(),
                p.purl_namespace.clone(),
                p.purl_name.clone(),
            )
        })
        .collect();
    let judges = advisories
        .iter()
        .map(|a| Judge::of(&a.advisory))
        .collect::<Result<Vec<_>, _>>()?;
    for key in &keys {
        let hits = app
            .store()
            .package_components(&key.0, &key.1, &key.2)
            .await?;
        for hit in hits.iter().filter(|h| h.application == item.application) {
            let hit_affected = judges.iter().any(|j| j.affects(key, &hit.component));
            let e = sboms.entry(hit.evidence_idx).or_insert_with(|| {
                (
                    false,
                    hit.evidence.clone(),
                    hit.digests.clone(),
                    hit.recorded_at,
                )
            });
            e.0 |= hit_affected;
        }
    }
    let newest_affected = sboms.iter().filter(|(_, s)| s.0).map(|(i, _)| *i).max();
    let Some(newest_affected) = newest_affected else {
        return Ok(None);
    };
    Ok(sboms
        .range(newest_affected + 1..)
        .find(|(_, s)| !s.0)
        .and_then(|(_, (_, evidence, digests, at))| {
            digests
                .iter()
                .find(|d| d.len() == 64)
                .map(|d| (format!("sha256:{d}"), evidence.clone(), *at))
        }))
}

/// The first vulnerability scan of the application recorded after its newest scan that
/// reports the item's vulnerability, and that does not report it: its artifact, evidence
/// and recording time.
pub(crate) async fn by_scan(
    app: &App,
    item: &VulnItem,
) -> Result<Option<(String, String, i64)>, AppError> {
    let filter = EvidenceFilter {
        application: Some(item.application.clone()),
        predicate_type: Some(andon_domain::VULNERABILITIES_PREDICATE_V1.to_owned()),
        limit: 1_000,
        ..EvidenceFilter::default()
    };
    let mut rows = app.store().list_evidence(&filter).await?;
    rows.reverse();
    let names: BTreeSet<String> = item.names().map(str::to_ascii_lowercase).collect();
    // (reports it, artifact, evidence, recorded at), oldest first.
    let scans: Vec<(bool, Option<String>, String, i64)> = rows
        .iter()
        .filter_map(|r| {
            let s: andon_evidence::vulnerabilities::VulnerabilitySummary =
                serde_json::from_str(r.summary.as_deref()?).ok()?;
            super::findings::is_scan(&s).then(|| {
                let reports = s
                    .listed
                    .iter()
                    .any(|f| names.contains(&f.id.to_ascii_lowercase()));
                let artifact = r
                    .subjects
                    .iter()
                    .find(|(_, d)| d.len() == 64)
                    .map(|(_, d)| format!("sha256:{d}"));
                (reports, artifact, r.id.clone(), r.created_at)
            })
        })
        .collect();
    let Some(newest) = scans.iter().rposition(|s| s.0) else {
        return Ok(None);
    };
    Ok(scans[newest + 1..]
        .iter()
        .find(|s| !s.0 && s.1.is_some())
        .map(|(_, a, e, at)| (a.clone().unwrap_or_default(), e.clone(), *at)))
}
