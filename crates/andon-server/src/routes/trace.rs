//! `GET /v1/trace?commit=<sha>` or `?artifact=sha256:<hex>`: the links an auditor follows,
//! artifact -> provenance -> commit -> pull request -> reviews -> tickets -> deployments
//! (`andon_app::trace`).

use andon_domain::api::TraceView;
use andon_domain::query::evidence::TraceQuery;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::http::query_error;

pub(crate) async fn trace(
    State(app): State<App>,
    caller: Caller,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Json<TraceView>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    Ok(Json(andon_app::trace::trace(&app, &caller, q).await?))
}
