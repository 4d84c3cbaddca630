//! Grants that ran out: one `access.expired` entry each.

use andon_domain::EntryKind;
use andon_store::{AccessEffect, Effect};
use serde_json::json;

use crate::input::rfc3339;
use crate::ledger::sequencer::Fact;
use crate::{App, AppError, ErrorKind};

/// Records an `access.expired` entry for every grant that reached its end (the watcher
/// calls this on its interval; `POST /v1/access/check` now). Answers how many.
pub async fn record(app: &App) -> Result<usize, AppError> {
    let due = app.store().unrecorded_expiries(app.now()).await?;
    let mut n = 0;
    for r in &due {
        let fact = Fact::admin(
            EntryKind::AccessExpired,
            "andon",
            json!({"request": r.id, "expired_at": rfc3339(r.expires_at),
                   "grant": {"application": r.application, "environment": r.environment,
                             "level": r.level, "holder": r.requested_by}}),
            Effect::Access(AccessEffect::Expired { id: r.id.clone() }),
        );
        match app.append(fact).await {
            Ok(_) => n += 1,
            // Another check recorded it first.
            Err(e) if e.kind == ErrorKind::Conflict => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
