//! Applications, identities, tokens and keys: administration, every change a ledger entry.

use andon_domain::api::{IssuedToken, KeyView, NewApplication, NewIdentity, NewKey, WhoAmI};
use andon_domain::{AppName, EntryKind, IdentityName, KeyId, Role, VerifyingKey};
use andon_store::{ApplicationRow, Effect, IdentityRow};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::ApiError;
use crate::App;
use crate::auth::Caller;
use andon_app::Fact;

fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b)
        .map_err(|e| ApiError::bad_request("malformed_json", e.body_text()))
}

pub(crate) async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: caller.0.name,
        role: caller.0.role.to_string(),
        applications: caller.0.applications,
    })
}

pub(crate) async fn create_application(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<NewApplication>, JsonRejection>,
) -> Result<(StatusCode, Json<andon_domain::api::Receipt>), ApiError> {
    caller.require(&[Role::Admin])?;
    let req = json_body(body)?;
    let name: AppName = req.name.parse()?;
    if req.team.trim().is_empty()
        || req.team.chars().count() > 128
        || req.team.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "invalid_team",
            "an application needs an owning team: 1 to 128 characters, no control characters",
        ));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::ApplicationCreated,
            &caller.name,
            serde_json::json!({ "name": name, "team": req.team }),
            Effect::Application {
                name: name.to_string(),
                team: req.team,
            },
        ))
        .await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}

pub(crate) async fn list_applications(
    State(app): State<App>,
    _caller: Caller,
) -> Result<Json<Vec<ApplicationRow>>, ApiError> {
    Ok(Json(app.store().applications().await?))
}

pub(crate) async fn create_identity(
    State(app): State<App>,
    caller: Caller,
    body: Result<Json<NewIdentity>, JsonRejection>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    caller.require(&[Role::Admin])?;
    let req = json_body(body)?;
    let name: IdentityName = req.name.parse()?;
    let role: Role = req.role.parse()?;
    let mut apps = Vec::new();
    for a in &req.applications {
        apps.push(a.parse::<AppName>()?.to_string());
    }
    if role == Role::Pipeline && apps.is_empty() {
        return Err(ApiError::bad_request(
            "missing_applications",
            "a pipeline identity is scoped to at least one application",
        ));
    }
    if role != Role::Pipeline && !apps.is_empty() {
        return Err(ApiError::bad_request(
            "unexpected_applications",
            "only pipeline identities are scoped to applications",
        ));
    }
    let known: Vec<String> = app
        .store()
        .applications()
        .await?
        .into_iter()
        .map(|a| a.name)
        .collect();
    if let Some(missing) = apps.iter().find(|a| !known.contains(a)) {
        return Err(ApiError::bad_request(
            "unknown_application",
            format!("no application {missing}"),
        ));
    }
    for g in &req.groups {
        let ok = !g.is_empty()
            && g.len() <= 64
            && g.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(ApiError::bad_request(
                "invalid_group",
                format!("group {g:?} must be 1 to 64 lowercase letters, digits or '-'"),
            ));
        }
    }
    if role != Role::Approver && !req.groups.is_empty() {
        return Err(ApiError::bad_request(
            "unexpected_groups",
            "only approvers belong to approver groups",
        ));
    }
    let (token, receipt) = app
        .create_identity(&caller.name, &name, role, apps, req.groups.clone())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            identity: name.to_string(),
            token,
            receipt,
        }),
    ))
}

pub(crate) async fn list_identities(
    State(app): State<App>,
    caller: Caller,
) -> Result<Json<Vec<IdentityRow>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    Ok(Json(app.store().identities().await?))
}

async fn existing_identity(app: &App, name: &str) -> Result<IdentityName, ApiError> {
    let name: IdentityName = name.parse()?;
    if app.store().identity(name.as_str()).await?.is_none() {
        return Err(ApiError::not_found(format!("no identity {name}")));
    }
    Ok(name)
}

pub(crate) async fn issue_token(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    caller.require(&[Role::Admin])?;
    let name = existing_identity(&app, &name).await?;
    let (token, receipt) = app.issue_token(&caller.name, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            identity: name.to_string(),
            token,
            receipt,
        }),
    ))
}

pub(crate) async fn register_key(
    State(app): State<App>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<NewKey>, JsonRejection>,
) -> Result<(StatusCode, Json<KeyView>), ApiError> {
    caller.require(&[Role::Admin])?;
    let req = json_body(body)?;
    let name = existing_identity(&app, &name).await?;
    let key = VerifyingKey::parse(&req.public_key)?;
    let keyid = key.key_id();
    let receipt = app
        .append(Fact::admin(
            EntryKind::KeyRegistered,
            &caller.name,
            serde_json::json!({ "identity": name, "keyid": keyid, "public_key": key.to_base64() }),
            Effect::Key {
                keyid: keyid.to_string(),
                identity: name.to_string(),
                public_key: key.to_bytes().to_vec(),
            },
        ))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyView {
            keyid: keyid.to_string(),
            identity: name.to_string(),
            receipt,
        }),
    ))
}

pub(crate) async fn revoke_key(
    State(app): State<App>,
    caller: Caller,
    Path(keyid): Path<String>,
) -> Result<Json<andon_domain::api::Receipt>, ApiError> {
    caller.require(&[Role::Admin])?;
    let keyid: KeyId = keyid.parse()?;
    let receipt = app
        .append(Fact::admin(
            EntryKind::KeyRevoked,
            &caller.name,
            serde_json::json!({ "keyid": keyid }),
            Effect::KeyRevoked {
                keyid: keyid.to_string(),
            },
        ))
        .await?;
    Ok(Json(receipt))
}
