//! The open change record a production gate finds for its artifact and environment, kept
//! per (application, environment, artifact) between gates ([`super::kept`]) and checked
//! before each use by the same statement that checks the gather and the context
//! ([`andon_store::Store::gathered_since`]), which watches the artifact's change records
//! and their approvals: every write of a change record sets its `updated_idx`, and an
//! approval writes a row of its own. Debug builds read again on every hit and assert that
//! both agree.

use std::sync::Arc;

use andon_domain::change::Change;
use andon_domain::{AppName, ArtifactRef};

use super::kept::{Check, Keep, Key};
use crate::{App, AppError};

/// The artifact's open change in one environment, if any, as
/// [`andon_store::Store::open_change`] reads it.
pub type OpenChange = Option<Change>;

/// The key an open change is kept under.
pub(crate) fn key(application: &AppName, environment: &str, artifact: &ArtifactRef) -> Key {
    (
        application.to_string(),
        format!("{environment} {}", artifact.digest.hex()),
    )
}

/// The open change: `kept` (from the last production gate of the same artifact and
/// environment) when `check` says no change record of the artifact was written since, read
/// otherwise; with what to keep once the decision is durable.
pub(crate) async fn open_change(
    app: &App,
    application: &AppName,
    environment: &str,
    artifact: &ArtifactRef,
    kept: Option<Arc<OpenChange>>,
    check: &Check<'_>,
) -> Result<(Arc<OpenChange>, Keep<OpenChange>), AppError> {
    super::kept::kept_or_read(
        app,
        key(application, environment, artifact),
        kept,
        check,
        |m| m.change_changed,
        async {
            Ok(app
                .store()
                .open_change(
                    application.as_str(),
                    environment,
                    &artifact.digest.to_string(),
                )
                .await?)
        },
    )
    .await
}
