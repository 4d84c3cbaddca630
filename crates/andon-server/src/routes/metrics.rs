//! `GET /v1/metrics`: DORA's four keys per period for an application or a team
//! (docs/metrics.md).

use andon_metrics::{Deploy, Period, Report};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::query_error;
use andon_app::input::instant;

/// The default range: the last 90 days.
const DEFAULT_DAYS: i64 = 90;
/// The longest range, in days (a year of daily periods and some margin).
const MAX_DAYS: i64 = 800;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct MetricsQuery {
    application: Option<String>,
    team: Option<String>,
    period: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// `GET /v1/metrics?application=|team=&period=day|week|month|quarter&since=&until=`.
pub(crate) async fn metrics(
    State(app): State<App>,
    _caller: Caller,
    q: Result<Query<MetricsQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    if q.application.is_some() == q.team.is_some() {
        return Err(ApiError::bad_request(
            "invalid_scope",
            "name either an application or a team",
        ));
    }
    let period = match q.period.as_deref() {
        None => Period::Week,
        Some(p) => Period::parse(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_period",
                format!("period {p:?} is not one of day, week, month, quarter"),
            )
        })?,
    };
    let until = match &q.until {
        Some(u) => instant(u)?,
        None => jiff::Timestamp::now().as_millisecond(),
    };
    let since = match &q.since {
        Some(s) => instant(s)?,
        None => until - DEFAULT_DAYS * 86_400_000,
    };
    if since >= until || until - since > MAX_DAYS * 86_400_000 {
        return Err(ApiError::bad_request(
            "invalid_range",
            format!("since must be before until, at most {MAX_DAYS} days apart"),
        ));
    }
    let apps = app.store().applications().await?;
    let known = match (&q.application, &q.team) {
        (Some(a), _) => apps.iter().any(|x| &x.name == a),
        (_, Some(t)) => apps.iter().any(|x| &x.team == t),
        _ => false,
    };
    if !known {
        return Err(ApiError::not_found(match (&q.application, &q.team) {
            (Some(a), _) => format!("no application {a}"),
            (_, t) => format!("no team {}", t.as_deref().unwrap_or("")),
        }));
    }
    let rows = app
        .store()
        .metric_deployments(q.application.as_deref(), q.team.as_deref(), since, until)
        .await?;
    let deploys: Vec<Deploy> = rows
        .into_iter()
        .map(|d| Deploy {
            at: d.deployed_at,
            failed_at: d.failed_at,
            restored_at: d.restored_at,
            commit_times: d.commit_times,
        })
        .collect();
    Ok(Json(andon_metrics::report(&deploys, since, until, period)))
}
