//! What the pages share: queries for the API, dates, the page frame, listings.

pub(super) use andon_web::{ControlCase, EvidenceSearch, InclusionCheck, Section, query};
pub(super) use axum::extract::rejection::QueryRejection;
pub(super) use axum::extract::{Path, Query, State};
pub(super) use axum::http::Uri;
pub(super) use axum::response::Response;
pub(super) use serde::de::DeserializeOwned;
pub(super) use serde_json::Value;

pub(super) use crate::ApiError;
pub(super) use crate::App;
pub(super) use crate::web::view::{Viewer, html};

/// The period pages look back over by default.
pub(super) const DEFAULT_DAYS: i64 = 90;
pub(super) const DAY_MS: i64 = 86_400_000;

/// An API handler's query, from a query string built with [`andon_web::query`].
pub(super) fn api_query<T: DeserializeOwned>(qs: &str) -> Result<Query<T>, QueryRejection> {
    let uri: Uri = format!("/q{qs}")
        .parse()
        .unwrap_or_else(|_| Uri::from_static("/q"));
    Query::try_from_uri(&uri)
}

/// A query the application takes, from a query string built with [`andon_web::query`].
pub(super) fn app_query<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    api_query::<T>(qs)
        .map(|Query(q)| q)
        .map_err(crate::http::query_error)
}

/// An operation's answer as the JSON the API serves for it.
pub(super) fn json<T: serde::Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v)
        .map_err(|e| ApiError::unavailable(format!("an answer that is not JSON: {e}")))
}

/// The listings a listing page shows.
pub(super) enum Listing {
    /// Change records.
    Changes,
    /// Deployments.
    Deployments,
}

/// A page, or the error page in the layout when gathering its data failed.
pub(super) fn page(
    viewer: &Viewer,
    section: Section,
    r: Result<maud::Markup, ApiError>,
) -> Response {
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
pub(super) fn day(field: &str, v: &str, end: bool) -> Result<String, ApiError> {
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

pub(super) async fn application_names(app: &App, viewer: &Viewer) -> Result<Vec<String>, ApiError> {
    let apps = json(andon_app::admin::list_applications(app, &viewer.caller).await?)?;
    Ok(apps
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["name"].as_str().map(str::to_owned))
        .collect())
}

pub(super) fn date_of(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A decision envelope's document (`andon.decision/v1`).
pub(super) fn decision_doc(envelope: &[u8]) -> Option<Value> {
    let e = andon_domain::Envelope::parse(envelope).ok()?;
    serde_json::from_slice(&e.payload).ok()
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct AppForm {
    #[serde(default)]
    pub(crate) application: String,
    #[serde(default)]
    pub(crate) environment: String,
    #[serde(default)]
    pub(crate) since: String,
    #[serde(default)]
    pub(crate) until: String,
    #[serde(default)]
    pub(crate) state: String,
    #[serde(default)]
    pub(crate) verdict: String,
    #[serde(default)]
    pub(crate) sort: String,
    #[serde(default)]
    pub(crate) order: String,
    pub(super) before: Option<u64>,
}

/// A listing page's order: the key and direction the form asks for, or the default
/// (`recorded`, newest first), as the page's headers show it.
fn sorting(f: &AppForm, page: &'static str) -> andon_web::Sorting {
    use andon_domain::query::{SortKey, SortOrder};
    let key = SortKey::parse(&f.sort).unwrap_or(SortKey::Recorded);
    let descending = key.descending(SortOrder::parse(&f.order));
    andon_web::Sorting {
        page,
        filters: [
            ("application", &f.application),
            ("environment", &f.environment),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect(),
        key: key.as_str().to_owned(),
        descending,
    }
}

/// A listing page's rows from the application's listing, paged by ledger index: the API
/// query (for the exports), the rows, the query string of the next page and the order.
/// A sort key or order the listing does not take is the application's `bad_query`.
pub(super) async fn listed(
    app: &App,
    viewer: &Viewer,
    f: &AppForm,
    limit: u32,
    listing: Listing,
) -> Result<(String, Vec<Value>, Option<String>, andon_web::Sorting), ApiError> {
    let filters = [
        ("application", f.application.as_str()),
        ("environment", f.environment.as_str()),
        ("sort", f.sort.as_str()),
        ("order", f.order.as_str()),
    ];
    let api = query(&filters);
    let q: andon_domain::query::changes::ListQuery = app_query(&paged(&api, limit, f.before))?;
    let rows = match listing {
        Listing::Changes => {
            json(andon_app::changes::list::changes(app, &viewer.caller, &q).await?)?
        }
        Listing::Deployments => {
            json(andon_app::changes::list::deployments(app, &viewer.caller, &q).await?)?
        }
    };
    let rows = rows.as_array().cloned().unwrap_or_default();
    let next = older(&rows, limit as usize, &filters);
    let page = match listing {
        Listing::Changes => "/ui/changes",
        Listing::Deployments => "/ui/deployments",
    };
    Ok((api, rows, next, sorting(f, page)))
}

/// An API query string with a page size and where the page starts.
pub(super) fn paged(api: &str, limit: u32, before: Option<u64>) -> String {
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
pub(super) fn older(rows: &[Value], limit: usize, filters: &[(&str, &str)]) -> Option<String> {
    let last = rows.last()?["ledger_index"].as_u64()?;
    (rows.len() == limit).then(|| {
        let before = last.to_string();
        let mut pairs = filters.to_vec();
        pairs.push(("before", &before));
        query(&pairs)
    })
}

/// The application a page is about: the one asked for, or the first there is.
pub(super) async fn chosen(
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
