//! The page handlers: gather a page's data from the API handlers, render it.

use andon_web::{ControlCase, EvidenceSearch, InclusionCheck, Section, query};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Viewer, answer, html};
use crate::ApiError;
use crate::app::App;
use crate::routes::{access, admin, alerts, changes, evidence, gates, ledger, metrics, trace};

/// The period pages look back over by default.
const DEFAULT_DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;

/// An API handler's query, from a query string built with [`andon_web::query`].
fn api_query<T: DeserializeOwned>(qs: &str) -> Result<Query<T>, QueryRejection> {
    let uri: Uri = format!("/q{qs}")
        .parse()
        .unwrap_or_else(|_| Uri::from_static("/q"));
    Query::try_from_uri(&uri)
}

/// A page, or the error page in the layout when gathering its data failed.
fn page(viewer: &Viewer, section: Section, r: Result<maud::Markup, ApiError>) -> Response {
    match r {
        Ok(m) => html(m),
        Err(e) => {
            let status = e.status;
            let mut resp = html(andon_web::error_page(
                &viewer.shown,
                section,
                status.as_u16(),
                &e.message,
            ));
            *resp.status_mut() = status;
            resp
        }
    }
}

/// A date field of a form (`YYYY-MM-DD`) as the RFC 3339 instant the API takes: the
/// start of that day, or of the next day for an inclusive end.
fn day(field: &str, v: &str, end: bool) -> Result<String, ApiError> {
    if v.is_empty() {
        return Ok(String::new());
    }
    let d: jiff::civil::Date = v.parse().map_err(|_| {
        ApiError::bad_request(
            "bad_query",
            format!("{field} is not a date (YYYY-MM-DD): {v:?}"),
        )
    })?;
    let d = if end {
        d.tomorrow()
            .map_err(|e| ApiError::bad_request("bad_query", e.to_string()))?
    } else {
        d
    };
    Ok(format!("{d}T00:00:00Z"))
}

async fn application_names(app: &App, viewer: &Viewer) -> Result<Vec<String>, ApiError> {
    let apps =
        answer(admin::list_applications(State(app.clone()), viewer.caller.clone()).await).await?;
    Ok(apps
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_owned))
        .collect())
}

fn date_of(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `GET /ui/`.
pub(crate) async fn overview(State(app): State<App>, viewer: Viewer) -> Response {
    let r = async {
        let now = app.now();
        let since = date_of(now - DEFAULT_DAYS * DAY_MS);
        let apps =
            answer(admin::list_applications(State(app.clone()), viewer.caller.clone()).await)
                .await?;
        let mut out = Vec::new();
        for a in apps.as_array().into_iter().flatten() {
            let name = a["name"].as_str().unwrap_or_default();
            let c = || viewer.caller.clone();
            let st = || State(app.clone());
            let last = answer(
                changes::deployments(
                    st(),
                    c(),
                    api_query(&query(&[
                        ("application", name),
                        ("environment", "production"),
                        ("limit", "1"),
                    ])),
                )
                .await,
            )
            .await?;
            let (decisions, allowed) = app
                .store()
                .decision_outcomes(name, Some("production"), now - DEFAULT_DAYS * DAY_MS, now)
                .await?;
            let open = answer(
                alerts::list(
                    st(),
                    c(),
                    api_query(&query(&[
                        ("application", name),
                        ("state", "open"),
                        ("limit", "1000"),
                    ])),
                )
                .await,
            )
            .await?;
            let debt = answer(
                access::debt(
                    st(),
                    c(),
                    api_query(&query(&[("application", name), ("since", &since)])),
                )
                .await,
            )
            .await?;
            let keys = answer(
                metrics::metrics(
                    st(),
                    c(),
                    api_query(&query(&[
                        ("application", name),
                        ("period", "quarter"),
                        ("since", &since),
                    ])),
                )
                .await,
            )
            .await?;
            out.push(andon_web::AppSummary {
                name: name.to_owned(),
                team: a["team"].as_str().unwrap_or_default().to_owned(),
                last_production: last.as_array().and_then(|l| l.first().cloned()),
                decisions,
                allowed,
                open_alerts: open.as_array().map_or(0, |l| l.len() as u64),
                debt: Some(debt),
                metrics: Some(keys["total"].clone()),
            });
        }
        Ok(andon_web::overview(&viewer.shown, &out, DEFAULT_DAYS))
    }
    .await;
    page(&viewer, Section::Overview, r)
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct EvidenceForm {
    #[serde(default)]
    app: String,
    #[serde(default)]
    control: String,
    #[serde(default)]
    predicate_type: String,
    #[serde(default)]
    signer: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    before: Option<u64>,
}

const PAGE: usize = 50;

/// `GET /ui/evidence`: the search form and its answer.
pub(crate) async fn evidence(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<EvidenceForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let since = day("since", &f.since, false)?;
        let until = day("until", &f.until, true)?;
        let before = f.before.map(|b| b.to_string()).unwrap_or_default();
        let mut search = EvidenceSearch {
            applications: application_names(&app, &viewer).await?,
            predicate_types: predicate_types(),
            ..Default::default()
        };
        if !f.app.is_empty() {
            let policy = gates::select_policy(&app, &f.app, "production").await?;
            search.controls = policy
                .controls()
                .into_iter()
                .map(|c| (c.id.clone(), c.title.clone()))
                .collect();
        }
        let api = query(&[
            ("app", &f.app),
            ("control", &f.control),
            ("predicate_type", &f.predicate_type),
            ("signer", &f.signer),
            ("subject", &f.subject),
            ("since", &since),
            ("until", &until),
        ]);
        let paged = format!(
            "{api}{}limit={PAGE}{}",
            if api.is_empty() { "?" } else { "&" },
            if before.is_empty() {
                String::new()
            } else {
                format!("&before={before}")
            }
        );
        let v = answer(
            evidence::list(State(app.clone()), viewer.caller.clone(), api_query(&paged)).await,
        )
        .await?;
        search.rows = v["evidence"].as_array().cloned().unwrap_or_default();
        if let Some(next) = v["next_before"].as_u64() {
            search.next = Some(query(&[
                ("app", &f.app),
                ("control", &f.control),
                ("predicate_type", &f.predicate_type),
                ("signer", &f.signer),
                ("subject", &f.subject),
                ("since", &f.since),
                ("until", &f.until),
                ("before", &next.to_string()),
            ]));
        }
        search.api_query = Some(api);
        search.app = f.app;
        search.control = f.control;
        search.predicate_type = f.predicate_type;
        search.signer = f.signer;
        search.subject = f.subject;
        search.since = f.since;
        search.until = f.until;
        Ok(andon_web::evidence(&viewer.shown, &search))
    }
    .await;
    page(&viewer, Section::Evidence, r)
}

fn predicate_types() -> Vec<String> {
    let mut t: Vec<String> = andon_domain::REPORT_PREDICATES
        .iter()
        .map(|(_, p)| (*p).to_owned())
        .collect();
    t.push("https://slsa.dev/provenance/v1".into());
    t.push(andon_domain::scm::REVIEW_PREDICATE_V1.into());
    t.push(andon_domain::scm::PIPELINE_DEFINITION_PREDICATE_V1.into());
    t
}

/// A decision envelope's document (`andon.decision/v1`).
fn decision_doc(envelope: &[u8]) -> Option<Value> {
    let e = andon_domain::Envelope::parse(envelope).ok()?;
    serde_json::from_slice(&e.payload).ok()
}

/// `GET /ui/evidence/{id}`.
pub(crate) async fn evidence_record(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let v = answer(evidence::show(State(app.clone()), viewer.caller.clone(), Path(id)).await)
            .await?;
        Ok(andon_web::evidence_record(&viewer.shown, &v))
    }
    .await;
    page(&viewer, Section::Evidence, r)
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct AppForm {
    #[serde(default)]
    application: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    verdict: String,
    before: Option<u64>,
}

/// A listing page's rows from an API listing handler, paged by ledger index: the API
/// query (for the exports), the rows, and the query string of the next page.
async fn listed<Q, H, F>(
    app: &App,
    viewer: &Viewer,
    f: &AppForm,
    limit: u32,
    handler: H,
) -> Result<(String, Vec<Value>, Option<String>), ApiError>
where
    Q: DeserializeOwned,
    H: FnOnce(State<App>, crate::auth::Caller, Result<Query<Q>, QueryRejection>) -> F,
    F: std::future::Future<Output = Result<Response, ApiError>>,
{
    let filters = [
        ("application", f.application.as_str()),
        ("environment", f.environment.as_str()),
    ];
    let api = query(&filters);
    let rows = answer(
        handler(
            State(app.clone()),
            viewer.caller.clone(),
            api_query(&paged(&api, limit, f.before)),
        )
        .await,
    )
    .await?;
    let rows = rows.as_array().cloned().unwrap_or_default();
    let next = older(&rows, limit as usize, &filters);
    Ok((api, rows, next))
}

/// `GET /ui/deployments`.
pub(crate) async fn deployments(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let (api, rows, next) = listed(&app, &viewer, &f, 100, changes::deployments).await?;
        let apps = application_names(&app, &viewer).await?;
        Ok(andon_web::deployments(
            &viewer.shown,
            &rows,
            &f.application,
            &apps,
            &api,
            next.as_deref(),
        ))
    }
    .await;
    page(&viewer, Section::Deployments, r)
}

/// An API query string with a page size and where the page starts.
fn paged(api: &str, limit: u32, before: Option<u64>) -> String {
    let mut out = format!(
        "{api}{}limit={limit}",
        if api.is_empty() { "?" } else { "&" }
    );
    if let Some(b) = before {
        out.push_str(&format!("&before={b}"));
    }
    out
}

/// The query string of the page after a full one: the same filters, before its last row.
fn older(rows: &[Value], limit: usize, filters: &[(&str, &str)]) -> Option<String> {
    let last = rows.last()?["ledger_index"].as_u64()?;
    (rows.len() == limit).then(|| {
        let before = last.to_string();
        let mut pairs = filters.to_vec();
        pairs.push(("before", &before));
        query(&pairs)
    })
}

/// `GET /ui/deployments/{id}`: the trace.
pub(crate) async fn deployment(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let c = || viewer.caller.clone();
        let st = || State(app.clone());
        let d = answer(changes::deployment(st(), c(), Path(id)).await).await?;
        let decision = match d["decision"].as_str() {
            Some(id) => Some(answer(gates::decision(st(), c(), Path(id.to_owned())).await).await?),
            None => None,
        };
        let change = match d["change"].as_str() {
            Some(id) => Some(answer(changes::show(st(), c(), Path(id.to_owned())).await).await?),
            None => None,
        };
        let digest = d["artifact_digest"].as_str().unwrap_or_default().to_owned();
        let trace = match answer(
            trace::trace(st(), c(), api_query(&query(&[("artifact", &digest)]))).await,
        )
        .await
        {
            Ok(t) => Some(t),
            Err(e) if e.status == StatusCode::NOT_FOUND => None,
            Err(e) => return Err(e),
        };
        Ok(andon_web::deployment(
            &viewer.shown,
            &andon_web::DeploymentTrace {
                deployment: d,
                decision,
                change,
                trace,
            },
        ))
    }
    .await;
    page(&viewer, Section::Deployments, r)
}

/// The application a page is about: the one asked for, or the first there is.
async fn chosen(
    app: &App,
    viewer: &Viewer,
    asked: &str,
) -> Result<(String, Vec<String>), ApiError> {
    let apps = application_names(app, viewer).await?;
    let name = if asked.is_empty() {
        apps.first()
            .cloned()
            .ok_or_else(|| ApiError::not_found("no applications yet"))?
    } else {
        asked.to_owned()
    };
    Ok((name, apps))
}

/// The Risk Control Matrix's API query for a page's form.
fn matrix_query(application: &str, f: &AppForm) -> Result<String, ApiError> {
    Ok(query(&[
        ("application", application),
        ("environment", &f.environment),
        ("since", &day("since", &f.since, false)?),
        ("until", &day("until", &f.until, true)?),
    ]))
}

/// `GET /ui/controls`: the Risk Control Matrix.
pub(crate) async fn controls(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let (application, apps) = chosen(&app, &viewer, &f.application).await?;
        let api = matrix_query(&application, &f)?;
        let m = answer(
            gates::controls(State(app.clone()), viewer.caller.clone(), api_query(&api)).await,
        )
        .await?;
        Ok(andon_web::controls(
            &viewer.shown,
            &m,
            &apps,
            &f.since,
            &f.until,
            &api,
        ))
    }
    .await;
    page(&viewer, Section::Controls, r)
}

/// `GET /ui/controls/{id}`: the decisions behind one control's figures.
pub(crate) async fn control_cases(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let (application, _) = chosen(&app, &viewer, &f.application).await?;
        let m = answer(
            gates::controls(
                State(app.clone()),
                viewer.caller.clone(),
                api_query(&matrix_query(&application, &f)?),
            )
            .await,
        )
        .await?;
        let control = m["controls"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["id"] == id.as_str())
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no control {id} for {application}")))?;
        let environment = m["environment"].as_str().unwrap_or("production").to_owned();
        let from = crate::routes::metrics::instant(m["since"].as_str().unwrap_or_default())?;
        let to = crate::routes::metrics::instant(m["until"].as_str().unwrap_or_default())?;
        let decisions = app
            .store()
            .decisions_between(&application, Some(&environment), from, to, 100_000)
            .await?;
        let mut cases = Vec::new();
        for d in decisions.iter().rev() {
            let Some(doc) = decision_doc(&d.envelope) else {
                continue;
            };
            for c in doc["controls"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["id"] == id.as_str())
            {
                let v = c["verdict"].as_str().unwrap_or("error");
                if !f.verdict.is_empty() && v != f.verdict {
                    continue;
                }
                cases.push(ControlCase {
                    decision: d.id.clone(),
                    ledger_index: d.ledger_index,
                    at: doc["input"]["time"].as_str().unwrap_or_default().to_owned(),
                    artifact: d.artifact_digest.clone(),
                    allow: d.allow,
                    verdict: v.to_owned(),
                    reason: c["reason"].as_str().unwrap_or_default().to_owned(),
                    evidence: c["evidence"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect(),
                });
            }
            if cases.len() >= 500 {
                break;
            }
        }
        Ok(andon_web::control_cases(
            &viewer.shown,
            &control,
            &application,
            &environment,
            &f.since,
            &f.until,
            &cases,
            &f.verdict,
        ))
    }
    .await;
    page(&viewer, Section::Controls, r)
}

/// `GET /ui/changes`.
pub(crate) async fn changes(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let (api, rows, next) = listed(&app, &viewer, &f, 200, changes::list).await?;
        Ok(andon_web::changes(
            &viewer.shown,
            &rows,
            &api,
            next.as_deref(),
        ))
    }
    .await;
    page(&viewer, Section::Changes, r)
}

/// `GET /ui/changes/{id}`: the record and its RFC.
pub(crate) async fn change(
    State(app): State<App>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let r = async {
        let c = answer(
            changes::show(State(app.clone()), viewer.caller.clone(), Path(id.clone())).await,
        )
        .await?;
        let rfc =
            answer(changes::rfc_json(State(app.clone()), viewer.caller.clone(), Path(id)).await)
                .await?;
        Ok(andon_web::change(
            &viewer.shown,
            &c,
            &crate::rfc::markdown(&rfc),
        ))
    }
    .await;
    page(&viewer, Section::Changes, r)
}

/// `GET /ui/access`.
pub(crate) async fn access(State(app): State<App>, viewer: Viewer) -> Response {
    let r = async {
        let c = || viewer.caller.clone();
        let st = || State(app.clone());
        let since = date_of(app.now() - DEFAULT_DAYS * DAY_MS);
        let requests = answer(access::list(st(), c(), api_query("?limit=200")).await).await?;
        let grants = answer(access::grants(st(), c(), api_query("")).await).await?;
        let accounts = answer(access::accounts(st(), c()).await).await?;
        let standing = answer(access::standing(st(), c()).await).await?;
        let debt = answer(
            access::debt(
                st(),
                c(),
                api_query(&query(&[("period", "week"), ("since", &since)])),
            )
            .await,
        )
        .await?;
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        Ok(andon_web::access(
            &viewer.shown,
            &list(&requests),
            &list(&grants),
            &list(&accounts),
            &list(&standing),
            &debt,
        ))
    }
    .await;
    page(&viewer, Section::Access, r)
}

/// `GET /ui/alerts`.
pub(crate) async fn alerts(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let api = query(&[("application", &f.application), ("state", &f.state)]);
        let paged = format!("{api}{}limit=500", if api.is_empty() { "?" } else { "&" });
        let rows = answer(
            alerts::list(State(app.clone()), viewer.caller.clone(), api_query(&paged)).await,
        )
        .await?;
        Ok(andon_web::alerts(
            &viewer.shown,
            rows.as_array().map(Vec::as_slice).unwrap_or_default(),
            &f.state,
            &f.application,
            &api,
        ))
    }
    .await;
    page(&viewer, Section::Alerts, r)
}

/// `GET /ui/metrics`: the charts.
pub(crate) async fn metrics(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<AppForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let (application, apps) = chosen(&app, &viewer, &f.application).await?;
        let c = || viewer.caller.clone();
        let st = || State(app.clone());
        let since = date_of(app.now() - DEFAULT_DAYS * DAY_MS);
        let q = query(&[
            ("application", &application),
            ("period", "week"),
            ("since", &since),
        ]);
        let report = answer(metrics::metrics(st(), c(), api_query(&q)).await).await?;
        let debt = answer(access::debt(st(), c(), api_query(&q)).await).await?;
        let m = answer(
            gates::controls(
                st(),
                c(),
                api_query(&query(&[("application", &application)])),
            )
            .await,
        )
        .await?;
        Ok(andon_web::metrics(
            &viewer.shown,
            &application,
            &apps,
            &report,
            &debt,
            &m,
        ))
    }
    .await;
    page(&viewer, Section::Metrics, r)
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct LedgerForm {
    index: Option<u64>,
}

/// `GET /ui/ledger[?index=]`: the log, and an entry's inclusion checked against the signed
/// checkpoint.
pub(crate) async fn ledger(
    State(app): State<App>,
    viewer: Viewer,
    form: Result<Query<LedgerForm>, QueryRejection>,
) -> Response {
    let r = async {
        let Query(f) = form.map_err(crate::routes::query_error)?;
        let info = answer(Ok::<_, ApiError>(
            ledger::info(State(app.clone()), viewer.caller.clone()).await,
        ))
        .await?;
        let last = app.0.last_check.read().ok().and_then(|l| l.clone());
        let check = match f.index {
            Some(index) => Some(inclusion(&app, &viewer, &info, index).await),
            None => None,
        };
        Ok(andon_web::ledger(
            &viewer.shown,
            &info,
            last.as_ref(),
            check.as_ref(),
        ))
    }
    .await;
    page(&viewer, Section::Ledger, r)
}

/// Checks entry `index` the way a client would: the proof from the API, the root
/// recomputed from the leaf hash and the path, compared with the root of the checkpoint
/// whose signature verifies with the log key.
async fn inclusion(app: &App, viewer: &Viewer, info: &Value, index: u64) -> InclusionCheck {
    let mut check = InclusionCheck {
        index,
        proof: None,
        computed_root: None,
        checkpoint_root: String::new(),
        signature_ok: false,
        error: None,
    };
    let proof = match answer(
        ledger::inclusion(
            State(app.clone()),
            viewer.caller.clone(),
            api_query(&query(&[("index", &index.to_string())])),
        )
        .await,
    )
    .await
    {
        Ok(p) => p,
        Err(e) => {
            check.error = Some(e.message);
            return check;
        }
    };
    let note = proof["checkpoint"].as_str().unwrap_or_default();
    let verified =
        andon_ledger::NoteVerifier::parse(info["verifier_key"].as_str().unwrap_or_default())
            .and_then(|v| v.verify(note));
    let cp = match verified {
        Ok(cp) => cp,
        Err(e) => {
            check.error = Some(format!(
                "the checkpoint does not verify with the log key: {e}"
            ));
            check.proof = Some(proof);
            return check;
        }
    };
    check.signature_ok = true;
    check.checkpoint_root = hex::encode(cp.root);
    let hash = |s: &str| -> Option<[u8; 32]> { hex::decode(s).ok()?.try_into().ok() };
    let leaf = proof["leaf_hash"].as_str().and_then(hash);
    let path: Option<Vec<[u8; 32]>> = proof["proof"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| h.as_str().and_then(hash))
        .collect();
    match (leaf, path) {
        (Some(leaf), Some(path)) => {
            check.computed_root = andon_ledger::root_from_inclusion(&leaf, index, cp.size, &path)
                .ok()
                .map(hex::encode);
            if let Err(e) = andon_ledger::verify_inclusion(&leaf, index, cp.size, &path, &cp.root) {
                check.error = Some(format!(
                    "the proof does not lead to the checkpoint's root: {e}"
                ));
            }
        }
        _ => check.error = Some("the proof is malformed".into()),
    }
    check.proof = Some(proof);
    check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_page_links_to_the_rows_before_its_last() {
        let rows: Vec<Value> = [9u64, 7, 4]
            .iter()
            .map(|i| serde_json::json!({"ledger_index": i}))
            .collect();
        assert_eq!(
            older(&rows, 3, &[("application", "pay"), ("environment", "")]).as_deref(),
            Some("?application=pay&before=4")
        );
        assert_eq!(
            older(&rows, 4, &[]),
            None,
            "a page that is not full is the last"
        );
        assert_eq!(
            paged("?application=pay", 100, Some(4)),
            "?application=pay&limit=100&before=4"
        );
        assert_eq!(paged("", 100, None), "?limit=100");
    }
}
