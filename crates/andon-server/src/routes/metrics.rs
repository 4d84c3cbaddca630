//! `GET /v1/metrics`: DORA's four keys per period for an application or a team
//! (docs/metrics.md; `andon_app::metrics`).

use andon_domain::query::metrics::MetricsQuery;
use andon_metrics::Report;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::query_error;

/// `GET /v1/metrics?application=|team=&period=day|week|month|quarter&since=&until=`.
pub(crate) async fn metrics(
    State(app): State<App>,
    caller: Caller,
    q: Result<Query<MetricsQuery>, QueryRejection>,
) -> Result<Json<Report>, ApiError> {
    let Query(q) = q.map_err(query_error)?;
    Ok(Json(andon_app::metrics::metrics(&app, &caller, q).await?))
}
