//! Evidence search: listings with their filters, the evidence a control relied on, one
//! record with its statement, and the stored document.

use std::collections::BTreeMap;

use andon_domain::api::{EvidencePage, EvidenceView};
use andon_domain::query::evidence::ListQuery;
use andon_domain::{Envelope, Sha256Digest};
use andon_store::{EvidenceFilter, EvidenceRow};

use crate::input::query_time;
use crate::{Actor, App, AppError};

/// `GET /v1/evidence`: evidence newest first, filtered, a page at a time. With `control`,
/// only the evidence that control relied on in the application's decisions of the period.
pub async fn list(app: &App, _actor: &Actor, q: ListQuery) -> Result<EvidencePage, AppError> {
    let subject = q
        .subject
        .as_deref()
        .map(|s| s.parse::<andon_domain::SubjectDigest>().map(|d| d.stored()))
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    if let Some(control) = &q.control {
        let app_name = q.app.as_deref().ok_or_else(|| {
            AppError::bad_request(
                "bad_query",
                "control needs app: the decisions of which application?",
            )
        })?;
        let until = query_time("until", &q.until)?.unwrap_or(app.now());
        let since = query_time("since", &q.since)?.unwrap_or(until - 90 * 86_400_000);
        let cited = cited(app, app_name, control, since, until).await?;
        let mut rows = Vec::new();
        let mut next_before = None;
        for (index, (id, subjects)) in cited.iter().rev() {
            if q.before.is_some_and(|b| *index >= b)
                || subject.as_ref().is_some_and(|s| !subjects.contains(s))
            {
                continue;
            }
            let Some(row) = app.store().evidence(id).await? else {
                continue;
            };
            if q.predicate_type
                .as_ref()
                .is_some_and(|t| *t != row.predicate_type)
                || q.signer.as_ref().is_some_and(|s| *s != row.signer)
                || q.run.as_ref().is_some_and(|r| Some(r) != row.run.as_ref())
            {
                continue;
            }
            if rows.len() == limit as usize {
                next_before = rows.last().map(|r: &EvidenceView| r.ledger_index);
                break;
            }
            rows.push(view(row));
        }
        return Ok(EvidencePage {
            evidence: rows,
            next_before,
        });
    }
    let filter = EvidenceFilter {
        application: q.app,
        subject_digest: subject,
        predicate_type: q.predicate_type,
        run: q.run,
        signer: q.signer,
        since_ms: query_time("since", &q.since)?,
        until_ms: query_time("until", &q.until)?,
        before_index: q.before,
        limit,
    };
    let rows = app.store().list_evidence(&filter).await?;
    let next_before = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.ledger_index))
        .flatten();
    Ok(EvidencePage {
        evidence: rows.into_iter().map(view).collect(),
        next_before,
    })
}

/// The statement a stored DSSE envelope carries, as JSON; `None` when it does not parse.
fn statement_json(envelope: &[u8]) -> Option<serde_json::Value> {
    Envelope::parse(envelope)
        .ok()
        .and_then(|e| serde_json::from_slice(&e.payload).ok())
}

/// The evidence `control` relied on in `application`'s decisions of `[since, until)`, as
/// each decision's input recorded it: ledger index -> (id, subject digests in hex).
async fn cited(
    app: &App,
    application: &str,
    control: &str,
    since: i64,
    until: i64,
) -> Result<BTreeMap<u64, (String, Vec<String>)>, AppError> {
    let decisions = app
        .store()
        .decisions_between(application, None, since, until, 100_000)
        .await?;
    let mut out = BTreeMap::new();
    for d in decisions {
        if let Some(doc) = statement_json(&d.envelope) {
            out.extend(cited_by(&doc, control));
        }
    }
    Ok(out)
}

/// The evidence one decision statement says `control` relied on: ledger index -> (id,
/// subject digests in hex), from the decision's recorded input.
fn cited_by(doc: &serde_json::Value, control: &str) -> Vec<(u64, (String, Vec<String>))> {
    let ids: Vec<&str> = doc["controls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["id"] == control)
        .flat_map(|c| c["evidence"].as_array().into_iter().flatten())
        .filter_map(serde_json::Value::as_str)
        .collect();
    let mut out = Vec::new();
    for e in doc["input"]["evidence"].as_array().into_iter().flatten() {
        let (Some(id), Some(index)) = (e["id"].as_str(), e["ledger_index"].as_u64()) else {
            continue;
        };
        if ids.contains(&id) {
            let subjects = e["subjects"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["digest"].as_str())
                .map(|d| {
                    d.parse::<andon_domain::SubjectDigest>().map_or_else(
                        |_| d.trim_start_matches("sha256:").to_owned(),
                        |d| d.stored(),
                    )
                })
                .collect();
            out.push((index, (id.to_owned(), subjects)));
        }
    }
    out
}

/// An evidence row as the API shows it (without its statement).
fn view(r: EvidenceRow) -> EvidenceView {
    EvidenceView {
        accepted_at: jiff::Timestamp::from_millisecond(r.created_at)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        subjects: r
            .subjects
            .iter()
            .map(|(n, d)| format!("{n}@{}", andon_domain::SubjectDigest::shown(d)))
            .collect(),
        id: r.id,
        ledger_index: r.ledger_index,
        application: r.application,
        run: r.run,
        predicate_type: r.predicate_type,
        signer: r.signer,
        keyid: r.keyid,
        cosigners: Vec::new(),
        unverified_signatures: Vec::new(),
        keyless: None,
        summary: r
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        statement: None,
    }
}

/// An evidence id as given (`sha256:<hex>` or the hex alone) as the stored hex.
fn evidence_id(id: &str) -> Result<String, AppError> {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    Ok(Sha256Digest::from_hex(hex)?.hex())
}

/// `GET /v1/evidence/{id}`: one record with the statement its envelope carries.
pub async fn show(app: &App, _actor: &Actor, id: &str) -> Result<EvidenceView, AppError> {
    let id = evidence_id(id)?;
    let row = app
        .store()
        .evidence(&id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no evidence {id}")))?;
    let doc = app
        .store()
        .document(&id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("the document of {id} is missing")))?;
    let index = row.ledger_index;
    let mut v = view(row);
    v.statement = statement_json(&doc);
    // Who else signed is in the ledger entry only: the entry is the record, and the listing
    // has no use for it.
    if let Some(entry) = app.store().entries(index, 1).await?.first()
        && let Ok(e) = serde_json::from_slice::<andon_domain::LedgerEntry>(&entry.entry)
        && let Ok(fact) = serde_json::from_value::<andon_domain::EvidenceFact>(e.body)
    {
        v.cosigners = fact.cosigners.iter().map(ToString::to_string).collect();
        v.unverified_signatures = fact.unverified_signatures;
        v.keyless = fact.keyless;
    }
    Ok(v)
}

/// `GET /v1/evidence/{id}/document`: the envelope exactly as it was submitted (JSON).
pub async fn document(app: &App, _actor: &Actor, id: &str) -> Result<Vec<u8>, AppError> {
    let id = evidence_id(id)?;
    app.store()
        .document(&id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no document {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_evidence_id_is_its_hex_with_or_without_the_prefix() {
        let hex = Sha256Digest::of(b"envelope").hex();
        assert_eq!(evidence_id(&hex).expect("hex"), hex);
        assert_eq!(
            evidence_id(&format!("sha256:{hex}")).expect("prefixed"),
            hex
        );
        for bad in ["sha256:1234", hex.to_uppercase().as_str()] {
            let e = evidence_id(bad).expect_err("not 64 lower-case hex digits");
            assert_eq!(e.code, "malformed_digest", "{bad}");
        }
    }

    #[test]
    fn a_decision_cites_only_the_evidence_its_control_relied_on() {
        let doc = serde_json::json!({
            "controls": [
                {"id": "tests", "evidence": ["e1"]},
                {"id": "review", "evidence": ["e2"]}
            ],
            "input": {"evidence": [
                {"id": "e1", "ledger_index": 7,
                 "subjects": [{"name": "app", "digest": "sha256:ab"}]},
                {"id": "e2", "ledger_index": 9, "subjects": []},
                {"id": "e3", "subjects": []}
            ]}
        });
        assert_eq!(
            cited_by(&doc, "tests"),
            vec![(7, ("e1".to_owned(), vec!["ab".to_owned()]))]
        );
        assert_eq!(
            cited_by(&doc, "review"),
            vec![(9, ("e2".to_owned(), vec![]))]
        );
        assert!(cited_by(&doc, "sbom").is_empty());
    }
}
