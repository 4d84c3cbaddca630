//! The one alert model (docs/alerts.md): every source's alerts listed and filtered,
//! acknowledged and resolved by people, each step a ledger entry.

use andon_domain::Role;
use andon_domain::change::Alert;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::query_error;
use andon_app::alerts::*;
use andon_app::input::check_text;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListQuery {
    state: Option<String>,
    kind: Option<String>,
    application: Option<String>,
    severity: Option<String>,
    limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    format: Option<super::Format>,
}

/// `GET /v1/alerts?state=&kind=&application=&severity=&limit=`, newest first.
pub(crate) async fn list(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    if let Some(s) = &q.state
        && !["open", "acknowledged", "resolved"].contains(&s.as_str())
    {
        return Err(ApiError::bad_request(
            "invalid_state",
            "state is open, acknowledged or resolved",
        ));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, 1000) as usize;
    let filtered =
        q.state.is_some() || q.kind.is_some() || q.application.is_some() || q.severity.is_some();
    let all = app
        .store()
        .alerts(if filtered { 10_000 } else { limit as u32 })
        .await?;
    let rows: Vec<Alert> = all
        .into_iter()
        .filter(|a| q.state.as_ref().is_none_or(|s| &a.state == s))
        .filter(|a| q.kind.as_ref().is_none_or(|k| &a.kind == k))
        .filter(|a| q.severity.as_ref().is_none_or(|k| &a.severity == k))
        .filter(|a| {
            q.application
                .as_ref()
                .is_none_or(|x| a.application.as_ref() == Some(x))
        })
        .take(limit)
        .collect();
    Ok(super::listing(q.format, &rows, &rows, "alerts"))
}

/// `GET /v1/alerts/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Alert>, ApiError> {
    Ok(Json(find(&app, &id).await?))
}

/// A note on an acknowledgement or resolution.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub(crate) struct NoteInput {
    note: Option<String>,
}

async fn act(
    app: &App,
    caller: &Caller,
    id: &str,
    action: &str,
    body: Result<Option<Json<NoteInput>>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    caller.require(&[Role::Admin, Role::Approver])?;
    let note = super::optional_json(body)?.and_then(|b| b.note);
    if let Some(n) = &note {
        check_text(n, "a note")?;
    }
    let a = find(app, id).await?;
    if a.state == "resolved" || (action == "acknowledged" && a.state == "acknowledged") {
        return Err(ApiError::conflict(format!("{id} is already {}", a.state)));
    }
    update(app, &caller.name, id, action, note).await?;
    Ok(Json(find(app, id).await?))
}

/// `POST /v1/alerts/{id}/acknowledge`: someone is on it.
pub(crate) async fn acknowledge(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<NoteInput>>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    act(&app, &caller, &id, "acknowledged", body).await
}

/// `POST /v1/alerts/{id}/resolve`: dealt with.
pub(crate) async fn resolve(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<NoteInput>>, JsonRejection>,
) -> Result<Json<Alert>, ApiError> {
    act(&app, &caller, &id, "resolved", body).await
}
