//! Evidence intake and search.
//!
//! Intake checks everything before anything is written: the body size, the envelope, the
//! statement and its subject digests, the signing key (known, not revoked, registered to an
//! identity allowed for the application) and the signature. Only then does the fact go to
//! the sequencer. A rejected request therefore leaves no row, document or ledger entry.

use andon_domain::api::{EvidencePage, EvidenceView, Receipt};
use andon_domain::scm::{
    PIPELINE_DEFINITION_PREDICATE_V1, REVIEW_PREDICATE_V1, SourceFacts, normalize_sha,
};
use andon_domain::{
    AppName, Envelope, EvidenceFact, KeyId, REPORT_PREDICATES, ReportPredicate, Role, Sha256Digest,
    Statement, SubjectRef, VerifyingKey, report_kind,
};
use andon_evidence::tickets::TicketPatterns;
use andon_evidence::{provenance, review};
use andon_store::{EvidenceFilter, EvidenceRow, IdentityRow, KeyRow};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::body_error;
use crate::routes::query_error;
use andon_app::Fact;
use andon_app::input::query_time as parse_time;

/// The predicate types a typed submission (`?type=`) accepts. `generic` takes any.
/// The predicate type cosign and others use for a CycloneDX document as the predicate.
const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
/// The predicate type for an SPDX document as the predicate.
const SPDX_PREDICATE: &str = "https://spdx.dev/Document";

fn typed_predicates(kind: &str) -> Option<Vec<&'static str>> {
    if kind == "sbom" {
        return Some(vec![
            andon_domain::SBOM_PREDICATE_V1,
            CYCLONEDX_PREDICATE,
            SPDX_PREDICATE,
        ]);
    }
    if let Some((_, p)) = REPORT_PREDICATES.iter().find(|(k, _)| *k == kind) {
        return Some(vec![*p]);
    }
    Some(match kind {
        "generic" => vec![],
        "review" => vec![REVIEW_PREDICATE_V1],
        "pipeline-definition" => vec![PIPELINE_DEFINITION_PREDICATE_V1],
        "provenance" => vec![
            "https://slsa.dev/provenance/v1",
            "https://slsa.dev/provenance/v0.2",
        ],
        _ => return None,
    })
}

/// The evidence types `?type=` accepts, for error messages.
const KNOWN_TYPES: &str = "generic, junit, coverage, sarif, sbom, vulnerabilities, provenance, review, pipeline-definition";

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct SubmitQuery {
    app: String,
    run: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// What a submission request says about all its envelopes, checked once.
struct Intake {
    application: AppName,
    run: Option<String>,
    kind: Option<(String, Vec<&'static str>)>,
}

fn check_request(caller: &Caller, q: SubmitQuery) -> Result<Intake, ApiError> {
    caller.require(&[Role::Pipeline])?;
    let application: AppName = q.app.parse()?;
    if !caller
        .applications
        .iter()
        .any(|a| a == application.as_str())
    {
        return Err(ApiError::forbidden(
            "application_not_allowed",
            format!(
                "{} may not submit evidence for application {application}",
                caller.name
            ),
        ));
    }
    if let Some(run) = &q.run
        && (run.is_empty() || run.len() > 256)
    {
        return Err(ApiError::bad_request(
            "invalid_run",
            "a run id is 1 to 256 characters",
        ));
    }
    let kind = match q.kind {
        None => None,
        Some(k) => {
            let types = typed_predicates(&k).ok_or_else(|| {
                ApiError::bad_request(
                    "unknown_type",
                    format!("unknown evidence type {k:?}; known: {KNOWN_TYPES}"),
                )
            })?;
            Some((k, types))
        }
    };
    Ok(Intake {
        application,
        run: q.run,
        kind,
    })
}

/// Checks one envelope completely (statement, predicate type, key, scope, signature) and
/// returns the fact to append. Writes nothing.
async fn check_envelope(
    app: &App,
    caller: &Caller,
    intake: &Intake,
    body: &[u8],
) -> Result<Fact, ApiError> {
    let envelope = Envelope::parse(body)?;
    let statement = Statement::parse(&envelope.payload_type, &envelope.payload)?;
    if let Some((kind, types)) = &intake.kind
        && !types.is_empty()
        && !types.contains(&statement.predicate_type.as_str())
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_predicate_type",
            format!(
                "predicate type {:?} is not one of the {kind} types: {}",
                statement.predicate_type,
                types.join(", ")
            ),
        ));
    }
    let derived = derive(&statement, &app.config().ticket_patterns)?;
    let application = &intake.application;
    let (key, owner, verifying) = signing_key(app, &envelope).await?;
    if owner.role != "pipeline" || !owner.applications.iter().any(|a| a == application.as_str()) {
        return Err(ApiError::forbidden(
            "key_not_allowed",
            format!(
                "key {} belongs to {}, which is not allowed for application {application}",
                key.keyid, owner.name
            ),
        ));
    }
    envelope.verify(&verifying)?;
    let document = Sha256Digest::of(body);
    let fact = EvidenceFact {
        document,
        application: application.clone(),
        run: intake.run.clone(),
        predicate_type: statement.predicate_type.clone(),
        subjects: statement
            .subject_digests()
            .into_iter()
            .map(|(name, digest)| SubjectRef { name, digest })
            .collect(),
        keyid: key.keyid.parse::<KeyId>()?,
        signer: owner.name,
        summary: derived.summary,
    };
    Ok(Fact::Evidence {
        id: document.hex(),
        fact,
        document: body.to_vec(),
        actor: caller.name.clone(),
        commits: derived.commits,
        scm: derived.scm,
    })
}

/// What Andon derives from a typed statement.
#[derive(Default)]
struct Derived {
    /// The summary recorded with the evidence.
    summary: Option<serde_json::Value>,
    /// Commits the evidence names, for traceability.
    commits: Vec<String>,
    /// Source-control facts (review attestations).
    scm: Option<SourceFacts>,
}

fn with_kind<T: serde::Serialize>(kind: &str, s: &T) -> Result<serde_json::Value, ApiError> {
    let mut v = serde_json::to_value(s).map_err(|e| unparseable(e.to_string()))?;
    v["kind"] = kind.into();
    Ok(v)
}

fn unparseable(m: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unparseable_report", m)
}

/// Derives the summary of a typed report from the report itself. A typed predicate whose
/// report does not parse is refused (422), naming the line where the parser can.
fn derive(statement: &Statement, tickets: &TicketPatterns) -> Result<Derived, ApiError> {
    let pt = statement.predicate_type.as_str();
    let p = &statement.predicate;
    if pt == provenance::SLSA_V1 || pt == provenance::SLSA_V02 {
        let s = provenance::parse(pt, p).map_err(|e| unparseable(e.to_string()))?;
        let commits = s
            .source_commit
            .iter()
            .filter_map(|c| normalize_sha(c))
            .collect();
        return Ok(Derived {
            summary: Some(with_kind("provenance", &s)?),
            commits,
            scm: None,
        });
    }
    // SBOMs attested the way cosign does it: the predicate is the document itself.
    if pt == CYCLONEDX_PREDICATE || pt == SPDX_PREDICATE {
        let s = if pt == CYCLONEDX_PREDICATE {
            andon_evidence::sbom::parse_cyclonedx_json(p)
        } else {
            andon_evidence::sbom::parse_spdx_json(p)
        }
        .map_err(|e| unparseable(e.to_string()))?;
        return Ok(Derived {
            summary: Some(with_kind("sbom", &s)?),
            ..Default::default()
        });
    }
    if pt == REVIEW_PREDICATE_V1 {
        let mut facts = review::parse_review(p).map_err(|e| unparseable(e.to_string()))?;
        tickets.link(&mut facts);
        return Ok(Derived {
            summary: Some(with_kind("review", &facts)?),
            commits: Vec::new(),
            scm: Some(facts),
        });
    }
    if pt == PIPELINE_DEFINITION_PREDICATE_V1 {
        let bytes = ReportPredicate::decode(p).map_err(|e| unparseable(e.to_string()))?;
        let s =
            review::parse_pipeline_definition(p, &bytes).map_err(|e| unparseable(e.to_string()))?;
        return Ok(Derived {
            commits: s.commit.iter().cloned().collect(),
            summary: Some(with_kind("pipeline-definition", &s)?),
            scm: None,
        });
    }
    let Some(kind) = report_kind(pt) else {
        return Ok(Derived::default());
    };
    let bytes = ReportPredicate::decode(p).map_err(|e| unparseable(e.to_string()))?;
    match andon_evidence::summarize(kind, &bytes) {
        Some(Ok(v)) => Ok(Derived {
            summary: Some(v),
            ..Default::default()
        }),
        Some(Err(e)) => Err(unparseable(e.to_string())),
        None => Ok(Derived::default()),
    }
}

/// `POST /v1/evidence`: one DSSE envelope as the body.
pub(crate) async fn submit(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    // Who first: a caller that may not submit learns nothing about its request.
    caller.require(&[Role::Pipeline])?;
    let Query(q) = query.map_err(query_error)?;
    let intake = check_request(&caller, q)?;
    let body = body.map_err(|e| body_error(&app, e))?;
    let fact = check_envelope(&app, &caller, &intake, &body).await?;
    let receipt = app.append(fact).await?;
    let status = if receipt.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)))
}

/// The most envelopes one batch request may carry.
const MAX_BATCH_ENVELOPES: usize = 1000;

/// `POST /v1/evidence/batch`: a JSON array of DSSE envelopes, as a CI job sends the
/// attestations of one run together. Every envelope is checked before any is written; one
/// bad envelope refuses the whole request, naming its position. Each envelope keeps its own
/// identity (the sha256 of its exact JSON text), so re-sending is idempotent per envelope.
pub(crate) async fn submit_batch(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<SubmitQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<BatchReceipts>), ApiError> {
    // Who first: a caller that may not submit learns nothing about its request.
    caller.require(&[Role::Pipeline])?;
    let Query(q) = query.map_err(query_error)?;
    let intake = check_request(&caller, q)?;
    let body = body.map_err(|e| body_error(&app, e))?;
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "malformed_envelope",
            format!("the body is not a JSON array of envelopes: {e}"),
        )
    })?;
    if items.is_empty() || items.len() > MAX_BATCH_ENVELOPES {
        return Err(ApiError::bad_request(
            "bad_batch_size",
            format!(
                "a batch holds 1 to {MAX_BATCH_ENVELOPES} envelopes, not {}",
                items.len()
            ),
        ));
    }
    let mut facts = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let fact = check_envelope(&app, &caller, &intake, raw.get().as_bytes())
            .await
            .map_err(|e| ApiError {
                message: format!("envelope {i}: {}", e.message),
                ..e
            })?;
        facts.push(fact);
    }
    let receipts = app.append_all(facts).await?;
    let status = if receipts.iter().all(|r| r.existing) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(BatchReceipts { receipts })))
}

/// The answer to a batch: one receipt per envelope, in order.
#[derive(serde::Serialize)]
pub(crate) struct BatchReceipts {
    receipts: Vec<Receipt>,
}

/// Finds the registered, unrevoked key named by one of the envelope's signatures, and the
/// identity that owns it. Both are cached: intake is the hot path.
async fn signing_key(
    app: &App,
    env: &andon_domain::VerifiedEnvelope,
) -> Result<(KeyRow, IdentityRow, VerifyingKey), ApiError> {
    let mut named = Vec::new();
    for keyid in env.key_ids() {
        if keyid.is_empty() {
            continue;
        }
        named.push(keyid.to_owned());
        if let Some(hit) = app.0.keys.read().ok().and_then(|m| m.get(keyid).cloned()) {
            return Ok(hit);
        }
        match app.store().key(keyid).await? {
            Some(r) if r.revoked_at.is_some() => {
                return Err(ApiError::forbidden(
                    "key_revoked",
                    format!("key {keyid} was revoked"),
                ));
            }
            Some(r) => {
                let owner = app.store().identity(&r.identity).await?.ok_or_else(|| {
                    ApiError::forbidden("unknown_key", format!("key {keyid} has no identity"))
                })?;
                let verifying = VerifyingKey::from_bytes(&r.public_key)?;
                if let Ok(mut m) = app.0.keys.write() {
                    m.insert(keyid.to_owned(), (r.clone(), owner.clone(), verifying));
                }
                return Ok((r, owner, verifying));
            }
            None => {}
        }
    }
    if named.is_empty() {
        return Err(ApiError::bad_request(
            "missing_keyid",
            "every signature must name its key in keyid",
        ));
    }
    Err(ApiError::forbidden(
        "unknown_key",
        format!("no registered key {}", named.join(", ")),
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct ListQuery {
    app: Option<String>,
    /// Only evidence this control relied on in the application's decisions of the period
    /// (`since`/`until`; default the last 90 days). Needs `app`.
    control: Option<String>,
    subject: Option<String>,
    predicate_type: Option<String>,
    run: Option<String>,
    signer: Option<String>,
    since: Option<String>,
    until: Option<String>,
    before: Option<u64>,
    limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    format: Option<super::Format>,
}

pub(crate) async fn list(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let format = q.format;
    let subject = q
        .subject
        .as_deref()
        .map(|s| s.parse::<Sha256Digest>().map(|d| d.hex()))
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    if let Some(control) = &q.control {
        let app_name = q.app.as_deref().ok_or_else(|| {
            ApiError::bad_request(
                "bad_query",
                "control needs app: the decisions of which application?",
            )
        })?;
        let until = parse_time("until", &q.until)?.unwrap_or(app.now());
        let since = parse_time("since", &q.since)?.unwrap_or(until - 90 * 86_400_000);
        let cited = cited(&app, app_name, control, since, until).await?;
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
        let page = EvidencePage {
            evidence: rows,
            next_before,
        };
        return Ok(super::listing(format, &page, &page.evidence, "evidence"));
    }
    let filter = EvidenceFilter {
        application: q.app,
        subject_digest: subject,
        predicate_type: q.predicate_type,
        run: q.run,
        signer: q.signer,
        since_ms: parse_time("since", &q.since)?,
        until_ms: parse_time("until", &q.until)?,
        before_index: q.before,
        limit,
    };
    let rows = app.store().list_evidence(&filter).await?;
    let next_before = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.ledger_index))
        .flatten();
    let page = EvidencePage {
        evidence: rows.into_iter().map(view).collect(),
        next_before,
    };
    Ok(super::listing(format, &page, &page.evidence, "evidence"))
}

/// The evidence `control` relied on in `application`'s decisions of `[since, until)`, as
/// each decision's input recorded it: ledger index -> (id, subject digests in hex).
async fn cited(
    app: &App,
    application: &str,
    control: &str,
    since: i64,
    until: i64,
) -> Result<std::collections::BTreeMap<u64, (String, Vec<String>)>, ApiError> {
    let decisions = app
        .store()
        .decisions_between(application, None, since, until, 100_000)
        .await?;
    let mut out = std::collections::BTreeMap::new();
    for d in decisions {
        let Some(doc) = Envelope::parse(&d.envelope)
            .ok()
            .and_then(|e| serde_json::from_slice::<serde_json::Value>(&e.payload).ok())
        else {
            continue;
        };
        let ids: Vec<&str> = doc["controls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["id"] == control)
            .flat_map(|c| c["evidence"].as_array().into_iter().flatten())
            .filter_map(serde_json::Value::as_str)
            .collect();
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
                    .map(|d| d.trim_start_matches("sha256:").to_owned())
                    .collect();
                out.insert(index, (id.to_owned(), subjects));
            }
        }
    }
    Ok(out)
}

fn view(r: EvidenceRow) -> EvidenceView {
    EvidenceView {
        accepted_at: jiff::Timestamp::from_millisecond(r.created_at)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        subjects: r
            .subjects
            .iter()
            .map(|(n, d)| format!("{n}@sha256:{d}"))
            .collect(),
        id: r.id,
        ledger_index: r.ledger_index,
        application: r.application,
        run: r.run,
        predicate_type: r.predicate_type,
        signer: r.signer,
        keyid: r.keyid,
        summary: r
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        statement: None,
    }
}

fn evidence_id(id: &str) -> Result<String, ApiError> {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    Ok(Sha256Digest::from_hex(hex)?.hex())
}

pub(crate) async fn show(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<EvidenceView>, ApiError> {
    let id = evidence_id(&id)?;
    let row = app
        .store()
        .evidence(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no evidence {id}")))?;
    let doc = app
        .store()
        .document(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("the document of {id} is missing")))?;
    let statement = Envelope::parse(&doc)
        .ok()
        .and_then(|e| serde_json::from_slice::<serde_json::Value>(&e.payload).ok());
    let mut v = view(row);
    v.statement = statement;
    Ok(Json(v))
}

pub(crate) async fn document(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = evidence_id(&id)?;
    let doc = app
        .store()
        .document(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no document {id}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], doc))
}
