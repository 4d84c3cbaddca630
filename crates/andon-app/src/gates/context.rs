//! What a gate reads about its application and environment besides the artifact: the
//! policy that applies, the application's approved waivers, its risk level and newest
//! completed drill, and the environment's hardening scans. Kept per (application,
//! environment) between gates ([`super::kept`]) and checked before each use by the same
//! statement that checks the artifact's gather ([`andon_store::Store::gathered_since`]),
//! which watches every table [`read`] reads: a read of any other table added there must be
//! added to the check. What depends on the time (which waivers are still in force, a
//! drill's age) is worked out from the kept rows at each gate. Debug builds read again on
//! every hit and assert that both agree.

use std::sync::Arc;

use andon_domain::AppName;
use andon_store::WaiverRow;
use serde_json::{Value, json};

use super::kept::{Check, Keep, Key};
use crate::input::rfc3339;
use crate::{App, AppError};

/// The application's and environment's part of the gate input, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    /// The version of the policy that applies ([`super::policies::select_policy`]).
    pub policy: String,
    /// The application's approved waivers, in force or not, by id.
    pub waivers: Vec<WaiverRow>,
    /// `hardening` ([`super::hardening::hardening_input`]).
    pub hardening: Value,
    /// The application's risk level.
    pub risk: Option<String>,
    /// The application's newest completed drill: (id, finished at).
    pub last_drill: Option<(String, i64)>,
}

impl Context {
    /// `waivers`: those in force at `now` (Unix ms), by id.
    pub fn waivers_input(&self, now: i64) -> Vec<Value> {
        self.waivers
            .iter()
            .filter(|w| w.expires_at.is_some_and(|e| e > now))
            .map(waiver_input)
            .collect()
    }

    /// `drills`, with the last drill's age at `now` (Unix ms).
    pub fn drills_input(&self, now: i64) -> Value {
        crate::drills::gate_input(
            self.risk.as_deref(),
            self.last_drill.as_ref().map(|(id, at)| (id.as_str(), *at)),
            now,
        )
    }
}

/// One waiver in force as the gate input shows it.
fn waiver_input(w: &WaiverRow) -> Value {
    json!({
        "id": w.id, "control": w.control, "vulnerability": w.vulnerability, "reason": w.reason,
        "ticket": w.ticket, "requested_by": w.requested_by, "approved_by": w.approved_by,
        "expires_at": rfc3339(w.expires_at),
    })
}

/// The key a context is kept under.
pub(crate) fn key(application: &AppName, environment: &str) -> Key {
    (application.to_string(), environment.to_owned())
}

/// The gate's context: `kept` (from the last gate of the same application and environment)
/// when `check` says nothing it read has changed since, read otherwise; with what to keep
/// once the decision is durable.
pub(crate) async fn context(
    app: &App,
    application: &AppName,
    environment: &str,
    kept: Option<Arc<Context>>,
    check: &Check<'_>,
) -> Result<(Arc<Context>, Keep<Context>), AppError> {
    super::kept::kept_or_read(
        app,
        key(application, environment),
        kept,
        check,
        |m| m.context_changed,
        read(app, application, environment),
    )
    .await
}

/// Reads the context from the store: only the tables
/// [`andon_store::Store::gathered_since`] watches for it.
async fn read(app: &App, application: &AppName, environment: &str) -> Result<Context, AppError> {
    let store = app.store();
    let policy = super::policies::select_policy(app, application.as_str(), environment).await?;
    Ok(Context {
        policy: policy.version.clone(),
        waivers: store.approved_waivers(application.as_str()).await?,
        hardening: super::hardening::hardening_input(app, environment).await?,
        risk: store.application_risk(application.as_str()).await?,
        last_drill: store.last_completed_drill(application.as_str()).await?,
    })
}
