//! Release gates: policies, decisions and waivers.
//!
//! `POST /v1/gate` gathers everything Andon knows about an artifact (the evidence naming it,
//! the commits that evidence names with their pull requests and reviews, deployments, the
//! waivers in force) into the versioned gate input, evaluates the policy that applies to the
//! application and environment, signs the decision with the log key and appends it to the
//! ledger. The signed decision embeds its whole input, so it replays without the server.

use andon_domain::oscal::{ControlMatrix, ControlRow};
use std::collections::BTreeSet;

use andon_domain::api::{DecisionView, GateRequest, PublishedPolicy, WaiverRequest};
use andon_domain::gate::{DECISION_PAYLOAD_TYPE, DECISION_VERSION, DecisionDoc, PolicyRef};
use andon_domain::{AppName, ArtifactRef, EntryKind, Envelope, Role, Sha256Digest};
use andon_policy::Bundle;
use andon_store::{Effect, EvidenceFilter, EvidenceRow, WaiverRow};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::json_error;
use crate::routes::query_error;
use andon_app::Fact;
use andon_app::gates::policies::*;
use andon_app::input::*;

/// The longest a waiver may last: 90 days.
const MAX_WAIVER_HOURS: u32 = 24 * 90;
/// Evidence records read per gate, at most.
const MAX_GATE_EVIDENCE: u32 = 1000;

/// `POST /v1/policies` (admin): a bundle, validated (syntax, metadata, its unit tests).
pub(crate) async fn publish(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<Bundle>, JsonRejection>,
) -> Result<(StatusCode, Json<PublishedPolicy>), ApiError> {
    caller.require(&[Role::Admin])?;
    let Json(bundle) = body.map_err(json_error)?;
    if bundle.name == BUILTIN_NAME {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_policy",
            format!("the name {BUILTIN_NAME:?} is reserved for the built-in library"),
        ));
    }
    let p = publish_bundle(&app, &caller.name, bundle).await?;
    let status = if p.existing {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(p)))
}

/// `GET /v1/policies`.
pub(crate) async fn list_policies(
    State(app): State<App>,
    _caller: Caller,
) -> Result<Json<Vec<andon_store::PolicyRow>>, ApiError> {
    Ok(Json(app.store().policies().await?))
}

/// `GET /v1/policies/{version}`: the bundle's exact bytes (their SHA-256 is the version).
pub(crate) async fn policy_bundle(
    State(app): State<App>,
    _caller: Caller,
    Path(version): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let bytes = app
        .store()
        .policy_bundle(&version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no policy version {version}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes))
}

/// The summary a policy sees: long listings that no control reads are dropped, so that the
/// input (kept in every decision) stays small.
fn policy_summary(summary: Option<&str>) -> Value {
    let mut v: Value = summary
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        match o.get("kind").and_then(Value::as_str) {
            Some("sbom") => {
                o.remove("listed");
            }
            Some("coverage") => {
                o.remove("files");
            }
            _ => {}
        }
    }
    v
}

fn evidence_input(r: &EvidenceRow, summary: Value) -> Value {
    json!({
        "id": r.id,
        "ledger_index": r.ledger_index,
        "kind": summary.get("kind").and_then(Value::as_str).unwrap_or("generic"),
        "predicate_type": r.predicate_type,
        "signer": r.signer,
        "run": r.run,
        "accepted_at": rfc3339(Some(r.created_at)).unwrap_or_default(),
        "subjects": r.subjects.iter().map(|(n, d)| json!({"name": n, "digest": format!("sha256:{d}")})).collect::<Vec<_>>(),
        "summary": summary,
    })
}

fn waiver_input(w: &WaiverRow) -> Value {
    json!({
        "id": w.id, "control": w.control, "vulnerability": w.vulnerability, "reason": w.reason,
        "ticket": w.ticket, "requested_by": w.requested_by, "approved_by": w.approved_by,
        "expires_at": rfc3339(w.expires_at),
    })
}

/// Builds the gate input (`andon.gate/v1`, see docs/gates.md).
async fn gate_input(
    app: &App,
    application: &AppName,
    artifact: &ArtifactRef,
    environment: &str,
    production: bool,
    now: jiff::Timestamp,
) -> Result<Value, ApiError> {
    let store = app.store();
    let mut rows = store
        .list_evidence(&EvidenceFilter {
            application: Some(application.to_string()),
            subject_digest: Some(artifact.digest.hex()),
            limit: MAX_GATE_EVIDENCE,
            ..Default::default()
        })
        .await?;
    rows.reverse();
    let indexes: Vec<u64> = rows.iter().map(|r| r.ledger_index).collect();
    let shas = store.commits_of_evidence_set(&indexes).await?;
    // The artifact was built from its provenance's source commits: their deployments are
    // the artifact's (a pipeline definition's commit says nothing about where it ran).
    let summaries: Vec<Value> = rows
        .iter()
        .map(|r| policy_summary(r.summary.as_deref()))
        .collect();
    let sources: BTreeSet<String> = summaries
        .iter()
        .filter(|s| s["kind"] == "provenance")
        .filter_map(|s| s["source_commit"].as_str().map(str::to_ascii_lowercase))
        .collect();
    let mut commits = Vec::new();
    let mut deployments = Vec::new();
    for sha in &shas {
        let c = andon_app::trace::commit_with(app, sha, false).await?;
        let tickets: BTreeSet<&str> = c.tickets.iter().map(|t| t.ticket.as_str()).collect();
        for d in c.deployments.iter().filter(|_| sources.contains(sha)) {
            deployments.push(json!({
                "environment": d.environment, "state": d.state, "sha": d.sha,
                "production": is_production(&d.environment), "source": "scm", "at": d.at,
            }));
        }
        commits.push(json!({
            "sha": c.sha,
            "repository": c.commit.as_ref().map(|p| p.repository.clone()),
            "author": c.commit.as_ref().and_then(|p| p.author.clone()),
            "message": c.commit.as_ref().map(|p| p.message.clone()),
            "tickets": tickets,
            "pull_requests": c.pull_requests.iter().map(|pr| json!({
                "repository": pr.repository, "number": pr.number, "title": pr.title,
                "source_branch": pr.source_branch, "target_branch": pr.target_branch,
                "author": pr.review.author, "state": pr.review.state, "review": pr.review,
            })).collect::<Vec<_>>(),
        }));
    }
    let waivers: Vec<Value> = store
        .active_waivers(application.as_str(), now.as_millisecond())
        .await?
        .iter()
        .map(waiver_input)
        .collect();
    Ok(json!({
        "version": andon_policy::INPUT_VERSION,
        "time": now.to_string(),
        "application": application.as_str(),
        "artifact": {"name": artifact.name, "digest": artifact.digest.to_string()},
        "environment": {"name": environment, "production": production},
        "evidence": rows.iter().zip(summaries).map(|(r, s)| evidence_input(r, s)).collect::<Vec<_>>(),
        "commits": commits,
        "deployments": deployments,
        "waivers": waivers,
        "change": Value::Null,
    }))
}

/// `POST /v1/gate`.
pub(crate) async fn gate(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<GateRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<DecisionView>), ApiError> {
    caller.require(&[Role::Pipeline, Role::Admin, Role::Approver])?;
    let Json(req) = body.map_err(json_error)?;
    let application: AppName = req.application.parse()?;
    caller.require_application(application.as_str(), "gate")?;
    if !app
        .store()
        .applications()
        .await?
        .iter()
        .any(|a| a.name == application.as_str())
    {
        return Err(ApiError::not_found(format!("no application {application}")));
    }
    let artifact: ArtifactRef = req.artifact.parse()?;
    check_environment(&req.environment)?;
    let production = req
        .production
        .unwrap_or_else(|| is_production(&req.environment));
    let now = jiff::Timestamp::now();
    let began = std::time::Instant::now();
    let input = gate_input(
        &app,
        &application,
        &artifact,
        &req.environment,
        production,
        now,
    )
    .await?;
    let gathered = began.elapsed();
    let policy = select_policy(&app, application.as_str(), &req.environment).await?;
    let mut input = input;
    let mut change = None;
    if production {
        let c = andon_app::changes::gate::change_for_gate(
            &app,
            &caller,
            &policy,
            &application,
            &artifact,
            &req,
        )
        .await?;
        input["change"] = andon_app::changes::gate::change_input(&c);
        change = Some(c.id);
    } else if req.emergency.is_some() {
        return Err(ApiError::bad_request(
            "invalid_emergency",
            "emergency changes are for production environments",
        ));
    }
    let selected = began.elapsed();
    let evaluation = policy.evaluate(&input);
    let evaluated = began.elapsed();
    let doc = DecisionDoc {
        version: DECISION_VERSION.into(),
        application: application.to_string(),
        environment: req.environment.clone(),
        artifact: req.artifact.clone(),
        policy: PolicyRef {
            name: policy.name.clone(),
            version: policy.version.clone(),
        },
        allow: evaluation.allow,
        controls: evaluation.controls,
        input,
        decided_at: now.to_string(),
        requested_by: caller.name.clone(),
    };
    let payload = serde_json::to_vec(&doc).map_err(|e| ApiError::unavailable(e.to_string()))?;
    let envelope = serde_json::to_vec(&Envelope::sign(
        DECISION_PAYLOAD_TYPE,
        &payload,
        &app.0.decision_key,
    ))
    .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let id = Sha256Digest::of(&envelope).hex();
    let body = json!({
        "id": id, "application": doc.application, "environment": doc.environment,
        "artifact": doc.artifact, "allow": doc.allow, "policy": doc.policy,
        "denied_by": doc.controls.iter().filter(|c| !c.verdict.allows()).map(|c| c.id.clone()).collect::<Vec<_>>(),
    });
    let effect = Effect::Decision {
        id: id.clone(),
        application: doc.application.clone(),
        environment: doc.environment.clone(),
        artifact_digest: artifact.digest.to_string(),
        allow: doc.allow,
        policy_version: doc.policy.version.clone(),
        envelope: envelope.clone(),
    };
    let signed = began.elapsed();
    let receipt = app
        .append(Fact::admin(
            EntryKind::GateDecision,
            &caller.name,
            body,
            effect,
        ))
        .await?;
    tracing::debug!(
        gather_ms = gathered.as_secs_f64() * 1e3,
        select_ms = (selected - gathered).as_secs_f64() * 1e3,
        evaluate_ms = (evaluated - selected).as_secs_f64() * 1e3,
        sign_ms = (signed - evaluated).as_secs_f64() * 1e3,
        append_ms = (began.elapsed() - signed).as_secs_f64() * 1e3,
        "gate decided"
    );
    Ok((
        StatusCode::CREATED,
        Json(DecisionView {
            id,
            ledger_index: receipt.ledger_index,
            // The input stays in the signed, stored decision: answering with it would send
            // tens of kilobytes back to every pipeline.
            decision: DecisionDoc {
                input: Value::Null,
                ..doc
            },
            envelope: None,
            receipt: Some(receipt),
            change,
        }),
    ))
}

/// `GET /v1/decisions/{id}`.
pub(crate) async fn decision(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<DecisionView>, ApiError> {
    let row = app
        .store()
        .decision(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no decision {id}")))?;
    let env = Envelope::parse(&row.envelope)
        .map_err(|e| ApiError::unavailable(format!("stored decision {id} is unreadable: {e}")))?;
    let doc: DecisionDoc = serde_json::from_slice(&env.payload)
        .map_err(|e| ApiError::unavailable(format!("stored decision {id} is unreadable: {e}")))?;
    let change = doc.input["change"]["id"].as_str().map(str::to_owned);
    Ok(Json(DecisionView {
        id: row.id,
        ledger_index: row.ledger_index,
        decision: doc,
        envelope: Some(String::from_utf8_lossy(&row.envelope).into_owned()),
        receipt: None,
        change,
    }))
}

/// `POST /v1/waivers`: anyone but an auditor may ask.
pub(crate) async fn request_waiver(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<WaiverRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<WaiverRow>), ApiError> {
    caller.require(&[Role::Admin, Role::Approver, Role::Pipeline])?;
    let Json(req) = body.map_err(json_error)?;
    let application: AppName = req.application.parse()?;
    if !app
        .store()
        .applications()
        .await?
        .iter()
        .any(|a| a.name == application.as_str())
    {
        return Err(ApiError::not_found(format!("no application {application}")));
    }
    let policy = select_policy(&app, application.as_str(), "production").await?;
    if !policy.controls().iter().any(|c| c.id == req.control) {
        return Err(ApiError::bad_request(
            "unknown_control",
            format!("no control {:?} in policy {}", req.control, policy.name),
        ));
    }
    let text_ok = |s: &str, max: usize| !s.trim().is_empty() && s.len() <= max;
    if !text_ok(&req.reason, 2000) || !text_ok(&req.ticket, 128) {
        return Err(ApiError::bad_request(
            "invalid_waiver",
            "a waiver needs a reason (up to 2000 characters) and a ticket (up to 128)",
        ));
    }
    if req.hours == 0 || req.hours > MAX_WAIVER_HOURS {
        return Err(ApiError::bad_request(
            "invalid_waiver",
            format!("a waiver lasts 1 to {MAX_WAIVER_HOURS} hours"),
        ));
    }
    if let Some(v) = &req.vulnerability
        && (v.is_empty() || v.len() > 128)
    {
        return Err(ApiError::bad_request(
            "invalid_waiver",
            "a vulnerability id is 1 to 128 characters",
        ));
    }
    let id = andon_app::input::random_id("W")?;
    let duration_ms = i64::from(req.hours) * 3_600_000;
    let body = json!({
        "id": id, "application": application.as_str(), "control": req.control,
        "vulnerability": req.vulnerability, "reason": req.reason, "ticket": req.ticket,
        "hours": req.hours,
    });
    let effect = Effect::WaiverRequested {
        id: id.clone(),
        application: application.to_string(),
        control: req.control.clone(),
        vulnerability: req.vulnerability.clone(),
        reason: req.reason.clone(),
        ticket: req.ticket.clone(),
        requested_by: caller.name.clone(),
        duration_ms,
    };
    let row = record_waiver_step(
        &app,
        EntryKind::WaiverRequested,
        &caller.name,
        body,
        effect,
        &id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(row)))
}

/// Ledgers a waiver request or approval and answers with the waiver as it now stands.
async fn record_waiver_step(
    app: &App,
    kind: EntryKind,
    actor: &str,
    body: Value,
    effect: Effect,
    id: &str,
) -> Result<WaiverRow, ApiError> {
    app.append(Fact::admin(kind, actor, body, effect)).await?;
    app.store()
        .waiver(id)
        .await?
        .ok_or_else(|| ApiError::unavailable(format!("waiver {id} was not stored")))
}

/// `POST /v1/waivers/{id}/approve`: an approver or admin other than the requester.
pub(crate) async fn approve_waiver(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WaiverRow>, ApiError> {
    caller.require(&[Role::Admin, Role::Approver])?;
    let w = app
        .store()
        .waiver(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no waiver {id}")))?;
    if w.requested_by == caller.name {
        return Err(ApiError::forbidden(
            "self_approval",
            format!(
                "{} requested waiver {id} and may not approve it",
                caller.name
            ),
        ));
    }
    if w.approved_by.is_some() {
        return Err(ApiError::conflict(format!(
            "waiver {id} is already approved"
        )));
    }
    let expires_at = jiff::Timestamp::now().as_millisecond() + w.duration_ms;
    let body = json!({
        "id": id, "approved_by": caller.name,
        "expires_at": rfc3339(Some(expires_at)),
    });
    let effect = Effect::WaiverApproved {
        id: id.clone(),
        approved_by: caller.name.clone(),
        expires_at,
    };
    let row = record_waiver_step(
        &app,
        EntryKind::WaiverApproved,
        &caller.name,
        body,
        effect,
        &id,
    )
    .await?;
    Ok(Json(row))
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct WaiverQuery {
    app: Option<String>,
}

/// `GET /v1/waivers[?app=]`.
pub(crate) async fn list_waivers(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<WaiverQuery>, QueryRejection>,
) -> Result<Json<Vec<WaiverRow>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(app.store().waivers(q.app.as_deref()).await?))
}

/// `GET /v1/controls`: the query.
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct ControlsQuery {
    /// The application.
    application: String,
    /// The environment whose policy applies (default `production`).
    environment: Option<String>,
    /// From this time (RFC 3339), inclusive; default 90 days ago.
    since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    until: Option<String>,
    /// `csv` for a spreadsheet; JSON by default.
    format: Option<super::Format>,
}

/// `GET /v1/controls/oscal/*`: the query (the matrix's, without a format: OSCAL is JSON).
#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct OscalQuery {
    /// The application.
    application: String,
    /// The environment whose policy applies (default `production`).
    environment: Option<String>,
    /// From this time (RFC 3339), inclusive; default 90 days ago.
    since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    until: Option<String>,
}

impl From<OscalQuery> for ControlsQuery {
    fn from(q: OscalQuery) -> Self {
        Self {
            application: q.application,
            environment: q.environment,
            since: q.since,
            until: q.until,
            format: None,
        }
    }
}

/// `GET /v1/controls?application=&environment=&since=&until=`: the Risk Control Matrix of
/// the policy that applies, each control with its risk, framework references and evidence,
/// and its effectiveness over the period: how many of the period's decisions it ran in,
/// and how each came out.
pub(crate) async fn controls(
    State(app): State<App>,
    _caller: Caller,
    q: Result<Query<ControlsQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let m = matrix(&app, &q).await?;
    let body = json!({
        "application": m.application, "environment": m.environment,
        "policy": {"name": m.policy_name, "version": m.policy_version},
        "since": m.since, "until": m.until, "controls": m.controls,
    });
    Ok(super::listing(
        q.format,
        &body,
        &m.controls,
        "risk-control-matrix",
    ))
}

/// `GET /v1/controls/oscal/component-definition`: the matrix's controls as an OSCAL 1.2.3
/// component definition.
pub(crate) async fn oscal_component_definition(
    State(app): State<App>,
    _caller: Caller,
    q: Result<Query<OscalQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let m = matrix(&app, &q.into()).await?;
    Ok(oscal_file(
        andon_domain::oscal::component_definition(&m),
        &format!("{}-component-definition.json", m.application),
    ))
}

/// `GET /v1/controls/oscal/assessment-results`: the matrix's effectiveness over the
/// period as OSCAL 1.2.3 assessment results.
pub(crate) async fn oscal_assessment_results(
    State(app): State<App>,
    _caller: Caller,
    q: Result<Query<OscalQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    let m = matrix(&app, &q.into()).await?;
    let href = format!(
        "/v1/controls/oscal/component-definition?application={}&environment={}",
        m.application, m.environment
    );
    Ok(oscal_file(
        andon_domain::oscal::assessment_results(&m, &href),
        &format!("{}-assessment-results.json", m.application),
    ))
}

fn oscal_file(doc: Value, name: &str) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    (
        [(
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )],
        Json(doc),
    )
        .into_response()
}

/// The Risk Control Matrix of a query: the controls of the policy that applies, and the
/// verdicts of the period's decisions counted per control (controls only older policies
/// had still count).
async fn matrix(app: &App, q: &ControlsQuery) -> Result<ControlMatrix, ApiError> {
    let (mut m, since, until) = uncounted_matrix(app, q).await?;
    let decisions = app
        .store()
        .decisions_between(&m.application, Some(&m.environment), since, until, 100_000)
        .await?;
    let rows = &mut m.controls;
    for d in decisions {
        let Some(doc) = Envelope::parse(&d.envelope)
            .ok()
            .and_then(|e| serde_json::from_slice::<DecisionDoc>(&e.payload).ok())
        else {
            continue;
        };
        for c in doc.controls {
            let i = match rows.iter().position(|r| r.id == c.id) {
                Some(i) => i,
                None => {
                    rows.push(ControlRow::new(&c.id, &c.title));
                    rows.len() - 1
                }
            };
            let r = &mut rows[i];
            r.decisions += 1;
            match serde_json::to_value(c.verdict)
                .ok()
                .as_ref()
                .and_then(Value::as_str)
            {
                Some("pass") => r.pass += 1,
                Some("fail") => r.fail += 1,
                Some("missing") => r.missing += 1,
                Some("waived") => r.waived += 1,
                Some("not_applicable") => r.not_applicable += 1,
                _ => r.error += 1,
            }
        }
    }
    Ok(m)
}

/// The Risk Control Matrix of a query before anything is counted: the period (also as
/// Unix ms, `[since, until)`), the environment and the controls of the policy that applies
/// there, each at zero. The web page of one control's cases starts from it and reads the
/// decisions itself, once.
pub(crate) async fn uncounted_matrix(
    app: &App,
    q: &ControlsQuery,
) -> Result<(ControlMatrix, i64, i64), ApiError> {
    let application: AppName = q.application.parse()?;
    let environment = q.environment.clone().unwrap_or_else(|| "production".into());
    check_environment(&environment)?;
    let parse = andon_app::input::query_time;
    let until = parse("until", &q.until)?.unwrap_or(app.now());
    let since = parse("since", &q.since)?.unwrap_or(until - 90 * 86_400_000);
    let policy = select_policy(app, application.as_str(), &environment).await?;
    let rows: Vec<ControlRow> = policy
        .controls()
        .into_iter()
        .map(|c| ControlRow {
            risk: c.risk.clone(),
            stage: c.stage.clone(),
            evidence: c.evidence.clone(),
            frameworks: c.frameworks.clone(),
            ..ControlRow::new(&c.id, &c.title)
        })
        .collect();
    let rfc = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    let m = ControlMatrix {
        application: application.as_str().to_owned(),
        environment,
        policy_name: policy.name.clone(),
        policy_version: policy.version.clone(),
        since: rfc(since),
        until: rfc(until),
        controls: rows,
    };
    Ok((m, since, until))
}
