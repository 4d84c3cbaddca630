//! The server re-verifies its stored ledger, and alerts when it does not.

use crate::audit::{self, LogKeys};
use crate::{App, AppError};

/// The keys the server holds for its log: the previous ones, oldest first, and its own.
pub fn log_keys(app: &App) -> Result<LogKeys, AppError> {
    LogKeys::parse(&app.previous_keys(), &app.0.keys.current().to_string())
        .map_err(AppError::unavailable)
}

/// Audits the stored ledger up to the latest published checkpoint (see [`crate::audit`]):
/// every entry, document and stored checkpoint. When something is wrong it raises
/// `ledger_verification_failed` (once per first bad entry, subject `ledger:<index>`) naming
/// the first bad entry and how many problems there are, and answers with all of them
/// (the first hundred listed). The watcher runs it every `ledger_check_interval`;
/// `POST /v1/ledger/verify` now.
pub async fn run(app: &App) -> Result<serde_json::Value, AppError> {
    let cp = app.latest();
    let size = cp.checkpoint.size;
    // The tables every read uses, against the ledger's projection of them, from the same
    // read of the entries as the walk.
    let mut audit = audit::Audit::new(
        log_keys(app)?,
        audit::default_rules(),
        Some(app.0.origin.clone()),
    );
    let tables = audit::audit_database(app.store(), &mut audit, Some(size))
        .await
        .map_err(AppError::unavailable)?;
    let walked = audit.finish(size);
    let mut findings = walked.findings;
    for p in tables.problems {
        findings.push(p);
    }
    if walked.tree.size() == size
        && walked.tree.root_at(size).ok() != Some(cp.checkpoint.root)
        && findings.is_clean()
    {
        // The published checkpoint is not stored: the stored ones all matched.
        findings.push(audit::Problem {
            index: size.saturating_sub(1),
            kind: None,
            check: "checkpoint_root".into(),
            checkpoint: Some(size),
            message: format!(
                "the entries do not produce the root of the published checkpoint of size {size}"
            ),
        });
    }
    let checked_at = jiff::Timestamp::from_millisecond(app.now())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let Some(first) = findings.first().cloned() else {
        let v = serde_json::json!({
            "verified": true, "size": size, "checked_at": checked_at,
            "entries_checked": walked.entries, "checkpoints_checked": walked.checkpoints,
            "tables_compared": tables.compared,
        });
        if let Ok(mut last) = app.0.last_check.write() {
            *last = Some(v.clone());
        }
        return Ok(v);
    };
    let index = first.index;
    let summary = findings.summary();
    // The verdict stands even when the alert cannot be appended (a ledger that lost
    // published entries takes no more).
    let alerted = raise(app, index, &summary, &first.to_string()).await;
    if let Err(e) = &alerted {
        tracing::error!(error = %e.message, "raising ledger_verification_failed failed");
    }
    let v = serde_json::json!({
        "verified": false,
        "size": size,
        "first_bad_index": index,
        "reason": first.to_string(),
        "problem_count": findings.total,
        "summary": summary,
        "problems": findings.problems,
        "alert_error": alerted.err().map(|e| e.message),
        "checked_at": checked_at,
    });
    if let Ok(mut last) = app.0.last_check.write() {
        *last = Some(v.clone());
    }
    Ok(v)
}

/// Raises `ledger_verification_failed` for the first bad entry `index`, unless it was.
async fn raise(app: &App, index: u64, summary: &str, first: &str) -> Result<(), AppError> {
    let subject = format!("ledger:{index}");
    if !app
        .store()
        .alert_raised_since("ledger_verification_failed", &subject, 0)
        .await?
    {
        let alert = andon_domain::change::Alert {
            id: crate::input::random_id("A")?,
            kind: "ledger_verification_failed".into(),
            severity: "high".into(),
            subject,
            message: format!(
                "the ledger does not verify: {summary}. {first}. The stored history was changed outside Andon (run andon verify to see every problem from outside)"
            ),
            links: vec![
                format!("/v1/ledger/entries?start={index}&limit=1"),
                "/v1/ledger/checkpoint".into(),
            ],
            ..Default::default()
        };
        app.append(crate::ledger::sequencer::Fact::admin(
            andon_domain::EntryKind::AlertRaised,
            "andon",
            serde_json::to_value(&alert).map_err(|e| AppError::unavailable(e.to_string()))?,
            andon_store::Effect::Change(andon_store::ChangeEffect::Alert(alert)),
        ))
        .await?;
    }
    Ok(())
}
