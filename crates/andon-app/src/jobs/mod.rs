//! The background jobs a server runs: overdue emergency reviews, grant expiries,
//! vulnerability items and their deadlines, the ledger's self-check, the schema watch,
//! planner statistics, the witness and the notification outbox.

pub mod expiries;
pub mod notify;
pub mod reviews;
pub mod schema;
pub mod statistics;

use crate::App;

/// Starts every job the configuration asks for.
pub fn spawn(app: &App) {
    let watcher = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(watcher.0.config.review_check_interval);
        loop {
            tick.tick().await;
            if let Err(e) = reviews::raise_overdue(&watcher).await {
                tracing::warn!(error = %e.message, "checking emergency reviews failed");
            }
            if let Err(e) = expiries::record(&watcher).await {
                tracing::warn!(error = %e.message, "recording grant expiries failed");
            }
            // Items a race between servers or a failed hook left behind, and deadlines.
            crate::vulns::items::after(&watcher, None).await;
            if let Err(e) = crate::vulns::overdue::raise(&watcher).await {
                tracing::warn!(error = %e.message, "raising overdue vulnerability alerts failed");
            }
        }
    });
    let checker = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(checker.0.config.ledger_check_interval);
        loop {
            tick.tick().await;
            match crate::ledger::self_check::run(&checker).await {
                Ok(r) if r["verified"] == false => {
                    tracing::error!(result = %r, "the stored ledger does not verify")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e.message, "verifying the ledger failed"),
            }
        }
    });
    tokio::spawn(schema::watch(
        app.clone(),
        app.0.config.schema_check_interval,
    ));
    tokio::spawn(statistics::run(app.clone()));
    for w in app.0.config.witnesses.clone() {
        tokio::spawn(crate::ledger::witness::run(app.clone(), w));
    }
    if let Some(url) = app.0.config.notify_url.clone() {
        tokio::spawn(notify::run(app.clone(), url));
    }
}
