//! Production access (docs/access.md): break-glass requests, approvals, grants, expiry and
//! revocation; the standing access register; Production Access Debt.

use std::collections::BTreeSet;

use andon_domain::access::{AccessLevel, AccessRequest, AccessStatus, AccountUse, StandingAccount};
use andon_domain::api::{AccessDecisionInput, AccessRequestInput, AccountInput, AccountUseInput};
use andon_domain::{AppName, EntryKind, Role};
use andon_metrics::Period;
use andon_metrics::debt::{Access, DebtReport};
use andon_store::{AccessEffect, Effect};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use crate::routes::json_error;
use crate::routes::query_error;
use andon_app::Fact;
use andon_app::access::*;
use andon_app::input::instant;
use andon_app::input::{check_environment, is_production, rfc3339};
use andon_app::input::{check_text, random_id};
use andon_app::jobs::expiries::record as record_expiries;

/// A request as read: the stored fact plus what it is at the clock's now.
fn view(r: &AccessRequest, now: i64) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    v["state"] = r.state_at(now).into();
    v["valid"] = r.valid_at(now).into();
    for (k, t) in [
        ("requested", Some(r.requested_at)),
        ("decided", r.decided_at),
        ("expires", r.expires_at),
        ("revoked", r.revoked_at),
    ] {
        if let Some(s) = rfc3339(t) {
            v[format!("{k}_time")] = s.into();
        }
    }
    v
}

async fn known_application(app: &App, name: &str) -> Result<(), ApiError> {
    if app
        .store()
        .applications()
        .await?
        .iter()
        .any(|a| a.name == name)
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no application {name}")))
    }
}

async fn find(app: &App, id: &str) -> Result<AccessRequest, ApiError> {
    app.store()
        .access_request(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no access request {id}")))
}

fn required(s: &str, what: &str) -> Result<String, ApiError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ApiError::bad_request(
            "missing_field",
            format!("an access request needs a {what}"),
        ));
    }
    check_text(s, what)?;
    Ok(s.to_owned())
}

/// `POST /v1/access/requests`.
pub(crate) async fn request(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<AccessRequestInput>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin, Role::Approver, Role::Pipeline])?;
    let Json(req) = body.map_err(json_error)?;
    let application: AppName = req.application.parse()?;
    caller.require_application(application.as_str(), "request access to")?;
    check_environment(&req.environment)?;
    let level = AccessLevel::parse(&req.level)
        .ok_or_else(|| ApiError::bad_request("invalid_level", "the level is `read` or `write`"))?;
    let reason = required(&req.reason, "reason")?;
    let ticket = required(&req.ticket, "ticket")?;
    let max = app.config().access_max_minutes;
    if req.minutes == 0 || req.minutes > max {
        return Err(ApiError::bad_request(
            "duration_too_long",
            format!(
                "a grant lasts 1 to {max} minutes, not {}; ask again when it ends",
                req.minutes
            ),
        ));
    }
    known_application(&app, application.as_str()).await?;
    let r = AccessRequest {
        id: random_id("AR")?,
        ledger_index: 0,
        application: application.to_string(),
        production: is_production(&req.environment),
        environment: req.environment,
        level,
        reason,
        ticket,
        requested_by: caller.name.clone(),
        minutes: req.minutes,
        requested_at: app.now(),
        status: AccessStatus::Pending,
        decided_by: None,
        decided_at: None,
        comment: None,
        expires_at: None,
        revoked_by: None,
        revoked_at: None,
        expired_index: None,
    };
    let receipt = app
        .append(Fact::admin(
            EntryKind::AccessRequested,
            &caller.name,
            serde_json::to_value(&r).map_err(|e| ApiError::unavailable(e.to_string()))?,
            Effect::Access(AccessEffect::Requested(Box::new(r.clone()))),
        ))
        .await?;
    let r = AccessRequest {
        ledger_index: receipt.ledger_index,
        ..r
    };
    Ok((StatusCode::CREATED, Json(view(&r, app.now()))))
}

async fn decide(
    app: &App,
    caller: &Caller,
    id: &str,
    approve: bool,
    comment: Option<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Approver])?;
    if let Some(c) = &comment {
        check_text(c, "a comment")?;
    }
    let r = find(app, id).await?;
    if r.requested_by == caller.name {
        return Err(ApiError::forbidden(
            "self_approval",
            format!("{} asked for {id}; someone else decides on it", caller.name),
        ));
    }
    if r.status != AccessStatus::Pending {
        return Err(ApiError::conflict(format!(
            "{id} is already {}",
            r.status.as_str()
        )));
    }
    let now = app.now();
    let expires_at = approve.then(|| now + i64::from(r.minutes) * 60_000);
    let (kind, body) = if approve {
        (
            EntryKind::AccessGranted,
            json!({"request": id, "grant": {
                "application": r.application, "environment": r.environment, "production": r.production,
                "level": r.level, "holder": r.requested_by, "ticket": r.ticket, "reason": r.reason,
                "starts_at": rfc3339(Some(now)), "expires_at": rfc3339(expires_at),
            }, "approved_by": caller.name, "comment": comment}),
        )
    } else {
        (
            EntryKind::AccessRejected,
            json!({"request": id, "rejected_by": caller.name, "comment": comment}),
        )
    };
    app.append(Fact::admin(
        kind,
        &caller.name,
        body,
        Effect::Access(AccessEffect::Decided {
            id: id.to_owned(),
            approve,
            by: caller.name.clone(),
            at: now,
            comment,
            expires_at,
        }),
    ))
    .await?;
    if approve && r.production {
        check_debt(app, &r.application).await?;
    }
    Ok(Json(view(&find(app, id).await?, app.now())))
}

/// `POST /v1/access/requests/{id}/approve`: the grant starts now.
pub(crate) async fn approve(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<AccessDecisionInput>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Approver])?;
    let comment = super::optional_json(body)?.and_then(|b| b.comment);
    decide(&app, &caller, &id, true, comment).await
}

/// `POST /v1/access/requests/{id}/reject`.
pub(crate) async fn reject(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Option<Json<AccessDecisionInput>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Approver])?;
    let comment = super::optional_json(body)?.and_then(|b| b.comment);
    decide(&app, &caller, &id, false, comment).await
}

/// `POST /v1/access/requests/{id}/revoke`: ends a valid grant now (an admin, an approver,
/// or its holder).
pub(crate) async fn revoke(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    // Read, not ignored: a body left unread makes the HTTP server close the connection
    // after answering, and a client that pooled it fails its next request.
    body: Result<Option<Json<AccessDecisionInput>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    // Auditors never revoke; pipelines and approvers may hold grants.
    caller.require(&[Role::Admin, Role::Approver, Role::Pipeline])?;
    let comment = super::optional_json(body)?.and_then(|b| b.comment);
    let r = find(&app, &id).await?;
    if !(matches!(caller.role, Role::Admin | Role::Approver) || r.requested_by == caller.name) {
        return Err(ApiError::forbidden(
            "forbidden",
            format!("{} may not revoke {id}", caller.name),
        ));
    }
    let now = app.now();
    if !r.valid_at(now) {
        return Err(ApiError::conflict(format!(
            "{id} is {}, not an active grant",
            r.state_at(now)
        )));
    }
    app.append(Fact::admin(
        EntryKind::AccessRevoked,
        &caller.name,
        json!({"request": id, "revoked_by": caller.name, "at": rfc3339(Some(now)), "comment": comment,
               "grant": {"application": r.application, "environment": r.environment,
                         "level": r.level, "holder": r.requested_by}}),
        Effect::Access(AccessEffect::Revoked {
            id: id.clone(),
            by: caller.name.clone(),
            at: now,
        }),
    ))
    .await?;
    Ok(Json(view(&find(&app, &id).await?, app.now())))
}

/// `POST /v1/access/check` (admin): records due expiries now.
pub(crate) async fn check(State(app): State<App>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(Json(json!({"expired": record_expiries(&app).await?})))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct ListQuery {
    application: Option<String>,
    environment: Option<String>,
    state: Option<String>,
    limit: Option<u32>,
    /// `csv` for a spreadsheet; JSON by default.
    format: Option<super::Format>,
}

/// `GET /v1/access/requests?application=&environment=&state=`.
pub(crate) async fn list(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let now = app.now();
    let rows = app
        .store()
        .access_requests(
            q.application.as_deref(),
            q.environment.as_deref(),
            q.limit.unwrap_or(100),
        )
        .await?;
    let views: Vec<Value> = rows
        .iter()
        .filter(|r| q.state.as_deref().is_none_or(|s| r.state_at(now) == s))
        .map(|r| view(r, now))
        .collect();
    Ok(super::listing(q.format, &views, &views, "access-requests"))
}

/// `GET /v1/access/requests/{id}`.
pub(crate) async fn show(
    State(app): State<App>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(view(&find(&app, &id).await?, app.now())))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct GrantsQuery {
    environment: Option<String>,
    application: Option<String>,
}

/// `GET /v1/access/grants?environment=`: exactly the grants valid now, for an access system
/// to pull.
pub(crate) async fn grants(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<GrantsQuery>, QueryRejection>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    let now = app.now();
    let rows = app
        .store()
        .access_requests(q.application.as_deref(), q.environment.as_deref(), 1000)
        .await?;
    Ok(Json(
        rows.iter()
            .filter(|r| r.valid_at(now))
            .map(|r| {
                json!({"request": r.id, "application": r.application, "environment": r.environment,
                       "level": r.level, "holder": r.requested_by, "ticket": r.ticket,
                       "approved_by": r.decided_by, "starts_at": rfc3339(r.decided_at),
                       "expires_at": rfc3339(r.expires_at)})
            })
            .collect(),
    ))
}

/// `POST /v1/access/accounts` (admin): registers a persistent account and its owners.
pub(crate) async fn register_account(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<AccountInput>, JsonRejection>,
) -> Result<(StatusCode, Json<StandingAccount>), ApiError> {
    caller.require(&[Role::Admin])?;
    let Json(a) = body.map_err(json_error)?;
    let name = a.name.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "an account name is 1 to 128 characters",
        ));
    }
    check_environment(&a.environment)?;
    if let Some(application) = &a.application {
        known_application(&app, application).await?;
    }
    let owners: BTreeSet<String> = a
        .owners
        .iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
    if owners.is_empty() || owners.iter().any(|o| o.len() > 128) {
        return Err(ApiError::bad_request(
            "missing_owner",
            "a standing account has at least one owner, a person who answers for it",
        ));
    }
    let account = StandingAccount {
        name: name.to_owned(),
        ledger_index: 0,
        production: is_production(&a.environment),
        environment: a.environment,
        application: a.application,
        owners: owners.into_iter().collect(),
        registered_at: app.now(),
        retired_at: None,
        uses: 0,
    };
    let receipt = app
        .append(Fact::admin(
            EntryKind::AccountRegistered,
            &caller.name,
            serde_json::to_value(&account).map_err(|e| ApiError::unavailable(e.to_string()))?,
            Effect::Access(AccessEffect::AccountRegistered(Box::new(account.clone()))),
        ))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(StandingAccount {
            ledger_index: receipt.ledger_index,
            ..account
        }),
    ))
}

async fn find_account(app: &App, name: &str) -> Result<StandingAccount, ApiError> {
    app.store()
        .standing_account(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no standing account {name}")))
}

/// `POST /v1/access/accounts/{name}/uses` (a pipeline or admin: the environment or an
/// access system reporting).
pub(crate) async fn account_used(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<AccountUseInput>, JsonRejection>,
) -> Result<(StatusCode, Json<StandingAccount>), ApiError> {
    caller.require(&[Role::Admin, Role::Pipeline])?;
    let Json(u) = body.map_err(json_error)?;
    let account = find_account(&app, &name).await?;
    if let Some(a) = &account.application {
        caller.require_application(a, "report uses of accounts of")?;
    }
    let at = match u.at.as_deref() {
        Some(t) => instant(t)?,
        None => app.now(),
    };
    for t in [&u.actor, &u.source].into_iter().flatten() {
        check_text(t, "an actor or source")?;
    }
    let used = AccountUse {
        account: name.clone(),
        at,
        actor: u.actor,
        source: u.source.unwrap_or_else(|| caller.name.clone()),
    };
    app.append(Fact::admin(
        EntryKind::AccountUsed,
        &caller.name,
        json!({"account": name, "environment": account.environment, "application": account.application,
               "at": rfc3339(Some(at)), "actor": used.actor, "source": used.source}),
        Effect::Access(AccessEffect::AccountUsed(used)),
    ))
    .await?;
    if let (true, Some(a)) = (account.production, &account.application) {
        check_debt(&app, a).await?;
    }
    Ok((StatusCode::CREATED, Json(find_account(&app, &name).await?)))
}

/// `POST /v1/access/accounts/{name}/retire` (admin).
pub(crate) async fn retire_account(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<StandingAccount>, ApiError> {
    caller.require(&[Role::Admin])?;
    let account = find_account(&app, &name).await?;
    if account.retired_at.is_some() {
        return Err(ApiError::conflict(format!("{name} is already retired")));
    }
    let at = app.now();
    app.append(Fact::admin(
        EntryKind::AccountRetired,
        &caller.name,
        json!({"account": name, "at": rfc3339(Some(at))}),
        Effect::Access(AccessEffect::AccountRetired {
            name: name.clone(),
            at,
        }),
    ))
    .await?;
    Ok(Json(find_account(&app, &name).await?))
}

/// `GET /v1/access/accounts`: the register.
pub(crate) async fn accounts(
    State(app): State<App>,
    _caller: Caller,
) -> Result<Json<Vec<StandingAccount>>, ApiError> {
    Ok(Json(app.store().standing_accounts().await?))
}

/// `GET /v1/access/standing`: the people with standing access to production (owners of
/// every active account in a production environment), with their accounts. Empty is the
/// goal.
pub(crate) async fn standing(
    State(app): State<App>,
    _caller: Caller,
) -> Result<Json<Vec<Value>>, ApiError> {
    let mut people: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in app.store().standing_accounts().await? {
        if a.production && a.retired_at.is_none() {
            for o in &a.owners {
                people.entry(o.clone()).or_default().push(a.name.clone());
            }
        }
    }
    Ok(Json(
        people
            .into_iter()
            .map(|(person, accounts)| json!({"person": person, "accounts": accounts}))
            .collect(),
    ))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub(crate) struct DebtQuery {
    application: Option<String>,
    team: Option<String>,
    period: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

/// `GET /v1/access/debt?application=|team=&period=&since=&until=`: Production Access Debt
/// per period, with its trend. Neither application nor team: the whole organisation.
pub(crate) async fn debt(
    State(app): State<App>,
    _caller: Caller,
    query: Result<Query<DebtQuery>, QueryRejection>,
) -> Result<Json<DebtReport>, ApiError> {
    let Query(q) = query.map_err(query_error)?;
    if q.application.is_some() && q.team.is_some() {
        return Err(ApiError::bad_request(
            "invalid_scope",
            "ask for an application or a team, not both",
        ));
    }
    let store = app.store();
    if let Some(a) = &q.application {
        known_application(&app, a).await?;
    }
    if let Some(t) = &q.team
        && !store.applications().await?.iter().any(|a| &a.team == t)
    {
        return Err(ApiError::not_found(format!("no team {t}")));
    }
    let period = match q.period.as_deref() {
        None => Period::Week,
        Some(p) => Period::parse(p).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_period",
                format!("period is day, week, month or quarter, not {p:?}"),
            )
        })?,
    };
    let until = match q.until.as_deref() {
        Some(u) => instant(u)?,
        None => app.now(),
    };
    let since = match q.since.as_deref() {
        Some(s) => instant(s)?,
        None => until - 90 * 86_400_000,
    };
    if since >= until || until - since > 800 * 86_400_000 {
        return Err(ApiError::bad_request(
            "invalid_range",
            "since is before until, at most 800 days apart",
        ));
    }
    let rows = store
        .debt_rows(q.application.as_deref(), q.team.as_deref(), since, until)
        .await?;
    let accesses: Vec<Access> = rows.iter().map(access_of).collect();
    Ok(Json(andon_metrics::debt::debt(
        &accesses, since, until, period,
    )))
}
