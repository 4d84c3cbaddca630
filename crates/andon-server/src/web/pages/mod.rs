//! The page handlers: gather a page's data from the API handlers, render it.

mod activity;
mod changes;
mod controls;
mod deployments;
mod evidence;
mod ledger;
mod overview;

pub(crate) use activity::{access, alerts, metrics};
pub(crate) use changes::{change, changes};
pub(crate) use controls::{control_cases, controls};
pub(crate) use deployments::{deployment, deployments};
pub(crate) use evidence::{evidence, evidence_record};
pub(crate) use ledger::ledger;
pub(crate) use overview::overview;

use andon_web::{ControlCase, EvidenceSearch, InclusionCheck, Section, query};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Viewer, answer, html};
use crate::ApiError;
use crate::App;
use crate::routes;

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
        answer(routes::admin::list_applications(State(app.clone()), viewer.caller.clone()).await)
            .await?;
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

/// A decision envelope's document (`andon.decision/v1`).
fn decision_doc(envelope: &[u8]) -> Option<Value> {
    let e = andon_domain::Envelope::parse(envelope).ok()?;
    serde_json::from_slice(&e.payload).ok()
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
