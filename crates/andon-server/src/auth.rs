//! Authentication (bearer tokens) as an extractor, and the role checks.

use andon_domain::Role;
use andon_store::IdentityRow;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::ApiError;
use crate::app::{App, token_hash};

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Identity name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Applications a pipeline is scoped to.
    pub applications: Vec<String>,
    /// Approver groups it belongs to.
    pub groups: Vec<String>,
}

impl Caller {
    /// Refuses unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(
                "forbidden",
                format!(
                    "{} has role {}; this needs {}",
                    self.name,
                    self.role,
                    wanted.join(" or ")
                ),
            ))
        }
    }
}

impl Caller {
    /// Refuses a pipeline acting for an application it is not scoped to.
    pub fn require_application(&self, application: &str, verb: &str) -> Result<(), ApiError> {
        if self.role == Role::Pipeline && !self.applications.iter().any(|a| a == application) {
            return Err(ApiError::forbidden(
                "application_not_allowed",
                format!("{} may not {verb} application {application}", self.name),
            ));
        }
        Ok(())
    }
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("the Authorization header is not a bearer token"))?;
        // Looking up the SHA-256 of the token compares hashes, not the secret itself, so the
        // lookup's timing reveals nothing useful about the token.
        let hash = token_hash(token.trim());
        let cached = app.0.tokens.read().ok().and_then(|m| m.get(&hash).cloned());
        let row = match cached {
            Some(r) => r,
            None => {
                let r = app
                    .store()
                    .identity_by_token(&hash)
                    .await?
                    .ok_or_else(|| unauthorized("unknown token"))?;
                if let Ok(mut m) = app.0.tokens.write() {
                    m.insert(hash, r.clone());
                }
                r
            }
        };
        caller_of(row)
    }
}

fn caller_of(row: IdentityRow) -> Result<Caller, ApiError> {
    let role = row.role.parse::<Role>()?;
    Ok(Caller {
        name: row.name,
        role,
        applications: row.applications,
        groups: row.groups,
    })
}
