//! Release gates: policies, decisions, waivers and the Risk Control Matrix.

pub mod change;
pub mod context;
pub mod decide;
pub mod gathered;
pub mod hardening;
pub mod input;
pub mod kept;
pub mod matrix;
pub mod policies;
pub mod waivers;

use andon_domain::AppName;

use crate::{App, AppError};

/// Refuses an application that was never created (`not_found`).
pub(crate) async fn require_known(app: &App, application: &AppName) -> Result<(), AppError> {
    if app.store().application_exists(application.as_str()).await? {
        Ok(())
    } else {
        Err(AppError::not_found(format!("no application {application}")))
    }
}
