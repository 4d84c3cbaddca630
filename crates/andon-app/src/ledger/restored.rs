//! Restores that cannot fork the log quietly.
//!
//! A database restored from a backup (or rolled back by other means) may lack entries the
//! log once had: checkpoints signed past the backup were given to clients, witnesses and
//! other servers. Appending to it would make a second history under the same key. So a
//! start gathers every signed checkpoint it can see beyond the stored log (its checkpoint
//! file, a configured highest checkpoint, each witness's size) and refuses to append while
//! any shows entries lost, until an operator acknowledges the loss with a reason. The first
//! start after a restore, or after an acknowledged loss, records a `ledger.restored` entry
//! naming the backup's last checkpoint, the lost range and the reason, and an acknowledged
//! loss raises `ledger_history_lost`.

use andon_domain::EntryKind;
use andon_store::{Effect, Store};

use super::start::Loss;
use crate::ledger::sequencer::Fact;
use crate::{App, AppError};

/// Losses an earlier `ledger.restored` entry already acknowledged are not raised again.
pub async fn unacknowledged(
    store: &Store,
    size: u64,
    losses: Vec<Loss>,
) -> Result<Vec<Loss>, String> {
    if losses.is_empty() {
        return Ok(losses);
    }
    let entries = store
        .entries_of_kinds(0, size, &[EntryKind::LedgerRestored.as_str()], 1_000)
        .await
        .map_err(|e| e.to_string())?;
    let mut known: Vec<(u64, Option<String>, String)> = Vec::new();
    for (_, bytes) in entries {
        let Ok(entry) = serde_json::from_slice::<andon_domain::LedgerEntry>(&bytes) else {
            continue;
        };
        for l in entry.body["lost"].as_array().into_iter().flatten() {
            known.push((
                l["size"].as_u64().unwrap_or(0),
                l["root"].as_str().map(str::to_owned),
                l["source"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    Ok(losses
        .into_iter()
        .filter(|l| {
            !known.iter().any(|(size, root, source)| {
                *size == l.size
                    && (root.is_some() && *root == l.root || root.is_none() && *source == l.source)
            })
        })
        .collect())
}

/// Why a start with losses is refused, and what to do.
pub fn refusal(size: u64, losses: &[Loss]) -> String {
    let shown: Vec<String> = losses
        .iter()
        .map(|l| {
            if l.from < size {
                format!(
                    "{} holds a signed checkpoint of {} entries that this database does not extend: entries from {} on differ from what was signed",
                    l.source, l.size, l.from
                )
            } else {
                format!(
                    "{} holds a signed checkpoint of {} entries, more than the {size} this database holds: entries {} to {} are missing",
                    l.source,
                    l.size,
                    l.from,
                    l.size - 1
                )
            }
        })
        .collect();
    format!(
        "refusing to start: {}. The database was restored from an older backup or rolled back, and appending to it would sign a second history under the same key. Nothing was written. Restore a newer backup, or use point-in-time recovery (docs/operations.md, \"Backup and restore\"); to serve this database anyway, acknowledge the loss: --acknowledge-loss \"<why>\" records it in the ledger and raises an alert",
        shown.join("; ")
    )
}

/// Records the restore (`pending`: what `andon restore` noted) and the acknowledged losses
/// as a `ledger.restored` entry, clearing the pending note; an acknowledged loss raises
/// `ledger_history_lost`.
pub async fn record(
    app: &App,
    pending: Option<serde_json::Value>,
    losses: &[Loss],
    reason: Option<&str>,
) -> Result<(), AppError> {
    let size = app.latest().checkpoint.size;
    let body = serde_json::json!({
        "backup": pending,
        "size": size,
        "lost": losses,
        "reason": reason,
    });
    let receipt = app
        .append(Fact::admin(
            EntryKind::LedgerRestored,
            "andon",
            body,
            Effect::Settings(vec![("restore_pending".into(), String::new())]),
        ))
        .await?;
    tracing::warn!(
        index = receipt.ledger_index,
        lost = losses.len(),
        "restore recorded in the ledger"
    );
    if losses.is_empty() {
        return Ok(());
    }
    let last = losses.iter().map(|l| l.size).max().unwrap_or(size);
    let first = losses.iter().map(|l| l.from).min().unwrap_or(size);
    let alert = andon_domain::change::Alert {
        id: crate::input::random_id("A")?,
        kind: "ledger_history_lost".into(),
        severity: "critical".into(),
        subject: format!("ledger:{}", receipt.ledger_index),
        message: format!(
            "this log was restored without entries {first} to {} that had been signed ({}); an operator acknowledged it: {}",
            last.saturating_sub(1),
            losses
                .iter()
                .map(|l| l.source.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reason.unwrap_or_default()
        ),
        links: vec![format!(
            "/v1/ledger/entries?start={}&limit=1",
            receipt.ledger_index
        )],
        ..Default::default()
    };
    let body = serde_json::to_value(&alert).map_err(|e| AppError::unavailable(e.to_string()))?;
    app.append(Fact::admin(
        EntryKind::AlertRaised,
        "andon",
        body,
        Effect::Change(andon_store::ChangeEffect::Alert(alert)),
    ))
    .await?;
    Ok(())
}
