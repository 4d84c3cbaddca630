//! OSV advisories imported (`POST /v1/advisories`, `andon vuln import`): each record
//! checked against the OSV schema, its affected packages keyed as SBOM components are, and
//! ledgered as `advisory.imported`. Only admins import: a forged advisory would name
//! vulnerabilities that do not exist, and a withdrawn one would hide one that does.

use std::collections::BTreeMap;

use andon_domain::api::Receipt;
use andon_domain::query::vulns::ImpactQuery;
use andon_domain::vulns::{AdvisoryBrief, Affected, ImportAnswer, Imported};
use andon_domain::{EntryKind, Role, Sha256Digest};
use andon_store::{AdvisoryEffect, AdvisoryPackage, Effect};
use andon_vuln::osv::Advisory;
use serde_json::{Value, json};

use crate::alerts::NewAlert;
use crate::input::is_production;
use crate::ledger::admission::newer_than;
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// Records per request at most.
pub const MAX_ADVISORIES: usize = 1000;

/// Imports the OSV records of `body`: one record, a JSON array of them, or
/// `{"advisories": [...]}`. Every record is checked before any is written; one bad record
/// refuses the request, naming it. A record already recorded at the same or a newer
/// `modified` time is left as it is.
pub async fn import(app: &App, actor: &Actor, body: &[u8]) -> Result<ImportAnswer, AppError> {
    actor.require(&[Role::Admin])?;
    let doc: Value = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request("malformed_advisory", format!("the body is not JSON: {e}"))
    })?;
    let records: Vec<Value> = match doc {
        Value::Array(a) => a,
        Value::Object(mut o) if o.contains_key("advisories") => match o.remove("advisories") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(AppError::bad_request(
                    "malformed_advisory",
                    "`advisories` is not an array of OSV records",
                ));
            }
        },
        v @ Value::Object(_) => vec![v],
        _ => {
            return Err(AppError::bad_request(
                "malformed_advisory",
                "send an OSV record, an array of them, or {\"advisories\": [...]}",
            ));
        }
    };
    if records.is_empty() || records.len() > MAX_ADVISORIES {
        return Err(AppError::bad_request(
            "bad_batch_size",
            format!(
                "an import holds 1 to {MAX_ADVISORIES} records, not {}",
                records.len()
            ),
        ));
    }
    let mut read = Vec::with_capacity(records.len());
    for (i, record) in records.iter().enumerate() {
        let name = record["id"].as_str().unwrap_or("(no id)").to_owned();
        andon_evidence::osv::check(record).map_err(|errors| {
            AppError::bad_request(
                "invalid_advisory",
                format!(
                    "record {i} ({name}) breaks the OSV schema: {}",
                    errors.join("; ")
                ),
            )
        })?;
        let advisory: Advisory = serde_json::from_value(record.clone()).map_err(|e| {
            AppError::bad_request(
                "invalid_advisory",
                format!("record {i} ({name}) cannot be read: {e}"),
            )
        })?;
        let bytes = serde_json::to_vec(record).unwrap_or_default();
        read.push((advisory, Sha256Digest::of(&bytes).hex()));
    }
    let ids: Vec<String> = read.iter().map(|(a, _)| a.id.clone()).collect();
    let recorded = app.store().advisory_versions(&ids).await?;
    let mut answer = ImportAnswer::default();
    // One version per id: the newest the request holds, and only if newer than the recorded.
    let mut chosen: Vec<(Advisory, String)> = Vec::new();
    for (advisory, sha256) in read {
        let recorded = recorded
            .iter()
            .find(|(id, _)| *id == advisory.id)
            .map(|(_, m)| m.as_str());
        match chosen.iter_mut().find(|(a, _)| a.id == advisory.id) {
            Some(slot) if newer_than(&advisory.modified, &slot.0.modified) => {
                *slot = (advisory, sha256)
            }
            Some(_) => answer.unchanged.push(advisory.id),
            None if recorded.is_some_and(|m| !newer_than(&advisory.modified, m)) => {
                answer.unchanged.push(advisory.id)
            }
            None => chosen.push((advisory, sha256)),
        }
    }
    let facts = chosen
        .iter()
        .map(|(a, sha256)| fact(actor, a, sha256.clone()))
        .collect::<Result<Vec<Fact>, AppError>>()?;
    let names: Vec<(String, String)> = chosen
        .into_iter()
        .map(|(a, _)| (a.id, a.modified))
        .collect();
    let receipts: Vec<Receipt> = app.append_all(facts).await?;
    for ((id, modified), r) in names.into_iter().zip(receipts) {
        answer.imported.push(Imported {
            id,
            modified,
            ledger_index: r.ledger_index,
        });
    }
    let mut alerts = Vec::new();
    for i in &answer.imported {
        alerts.extend(in_production(app, actor, &i.id).await?);
    }
    answer.alerts = crate::alerts::raise_all(app, alerts).await?;
    if !answer.imported.is_empty() {
        super::items::after(app, None).await;
    }
    Ok(answer)
}

/// `GET /v1/advisories`: any identity; the newest imports first, at most 1,000.
pub async fn list(app: &App, _actor: &Actor) -> Result<Vec<AdvisoryBrief>, AppError> {
    Ok(app
        .store()
        .advisory_list(1000)
        .await?
        .into_iter()
        .map(|s| AdvisoryBrief {
            id: s.advisory.id,
            aliases: s.advisory.aliases,
            severity: s.advisory.severity,
            summary: s.advisory.summary,
            modified: s.advisory.modified,
            withdrawn: s.advisory.withdrawn,
            ledger_index: s.ledger_idx,
        })
        .collect())
}

/// One `vulnerability_in_production` alert per application whose artifacts running in a
/// production environment the advisory `id` affects; an application already alerted about
/// it (an earlier version of the record) is marked seen instead.
async fn in_production(app: &App, actor: &Actor, id: &str) -> Result<Vec<NewAlert>, AppError> {
    let q = ImpactQuery {
        id: Some(id.to_owned()),
        ..ImpactQuery::default()
    };
    let impact = super::impact::impact(app, actor, &q).await?;
    let Some(advisory) = impact.advisories.iter().find(|a| a.id == id) else {
        return Ok(Vec::new());
    };
    let mut by_app: BTreeMap<&str, Vec<&Affected>> = BTreeMap::new();
    for a in &impact.affected {
        if a.environment.as_deref().is_some_and(is_production)
            && a.components
                .iter()
                .any(|c| c.advisory.as_deref() == Some(id))
        {
            by_app.entry(a.application.as_str()).or_default().push(a);
        }
    }
    let mut out = Vec::new();
    for (application, rows) in by_app {
        let subject = format!("vuln:{id}:{application}");
        if let Some(existing) = app
            .store()
            .alert_about("vulnerability_in_production", &subject)
            .await?
        {
            crate::alerts::update(app, "andon", &existing.id, "seen", None).await?;
            continue;
        }
        let places: Vec<String> = rows
            .iter()
            .map(|a| {
                let c = a
                    .components
                    .iter()
                    .find(|c| c.advisory.as_deref() == Some(id));
                format!(
                    "{} {} in {} running in {}{}",
                    c.map_or("", |c| c.component.name.as_str()),
                    c.and_then(|c| c.component.version.as_deref())
                        .unwrap_or("?"),
                    a.artifact,
                    a.environment.as_deref().unwrap_or("?"),
                    c.and_then(|c| c.fixed.as_deref())
                        .map(|f| format!(" (fixed in {f})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let aliases = if advisory.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", advisory.aliases.join(", "))
        };
        let mut links = vec![format!("/v1/vulnerabilities/impact?id={id}")];
        for a in &rows {
            let link = format!("/v1/evidence/{}", a.evidence);
            if !links.contains(&link) {
                links.push(link);
            }
        }
        out.push(NewAlert {
            kind: "vulnerability_in_production".into(),
            severity: if matches!(advisory.severity.as_str(), "critical" | "high") {
                "high".into()
            } else {
                "medium".into()
            },
            application: Some(application.to_owned()),
            environment: rows.first().and_then(|a| a.environment.clone()),
            subject,
            message: format!(
                "{id}{aliases}, {} severity, affects {application} (team {}): {}",
                advisory.severity,
                rows.first().map_or("", |a| a.team.as_str()),
                places.join("; ")
            ),
            links,
            suspect: None,
        });
    }
    Ok(out)
}

/// The fact recording `a`: its body says everything matching reads (the affected entries
/// whole), and its rows are the tables' rows.
fn fact(actor: &Actor, a: &Advisory, sha256: String) -> Result<Fact, AppError> {
    let packages: Vec<AdvisoryPackage> = a
        .affected
        .iter()
        .map(|affected| {
            let (ecosystem, key) = match &affected.package {
                Some(p) => {
                    let key = p
                        .purl
                        .as_deref()
                        .and_then(|u| andon_vuln::purl::parse(u).ok())
                        .map(|u| u.key)
                        .or_else(|| {
                            andon_vuln::purl::ecosystem(&p.ecosystem).map(|e| e.key(&p.name))
                        });
                    (p.ecosystem.clone(), key)
                }
                None => (String::new(), None),
            };
            let key = key.unwrap_or_default();
            AdvisoryPackage {
                ecosystem,
                purl_type: key.ty,
                purl_namespace: key.namespace,
                purl_name: key.name,
                affected: serde_json::to_string(affected).unwrap_or_default(),
            }
        })
        .collect();
    let effect = AdvisoryEffect {
        id: a.id.clone(),
        modified: a.modified.clone(),
        published: a.published.clone(),
        withdrawn: a.withdrawn.clone(),
        summary: a.summary.as_ref().map(|s| s.chars().take(1000).collect()),
        severity: a.severity_word().to_owned(),
        sha256: sha256.clone(),
        aliases: a.aliases.clone(),
        packages,
    };
    let body = json!({
        "id": a.id, "modified": a.modified, "published": a.published,
        "withdrawn": a.withdrawn, "aliases": a.aliases, "summary": effect.summary,
        "severity": effect.severity, "sha256": sha256, "affected": a.affected,
    });
    Ok(Fact::admin(
        EntryKind::AdvisoryImported,
        actor,
        body,
        Effect::Advisory(effect),
    ))
}
