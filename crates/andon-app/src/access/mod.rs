//! Production access (docs/access.md): break-glass requests, their decisions, grants,
//! expiry and revocation ([`requests`]); the register of standing accounts and their uses
//! ([`accounts`]); Production Access Debt, the sum of both ([`debt`]).

pub mod accounts;
pub mod debt;
pub mod requests;

pub use debt::{access_of, check_debt};

use crate::{App, AppError};

/// Refuses (`not_found`) an application Andon does not know.
pub(crate) async fn known_application(app: &App, name: &str) -> Result<(), AppError> {
    if app
        .store()
        .applications()
        .await?
        .iter()
        .any(|a| a.name == name)
    {
        Ok(())
    } else {
        Err(AppError::not_found(format!("no application {name}")))
    }
}
