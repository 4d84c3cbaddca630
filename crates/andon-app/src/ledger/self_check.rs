//! The server re-verifies its stored ledger, and alerts when it does not.

use crate::{App, AppError};

/// Recomputes every entry's leaf hash from its stored bytes and the root from those, and
/// compares them with the stored leaf hashes and the latest signed checkpoint. On a
/// mismatch it raises `ledger_verification_failed` (once per first bad index) and answers
/// where. The watcher runs it every `ledger_check_interval`; `POST /v1/ledger/verify` now.
pub async fn run(app: &App) -> Result<serde_json::Value, AppError> {
    let cp = app.latest();
    let size = cp.checkpoint.size;
    let mut tree = andon_ledger::MerkleTree::new();
    let mut failure: Option<(u64, String)> = None;
    let mut start = 0;
    'pages: while start < size {
        let page = app
            .store()
            .entries(start, 1000.min((size - start) as u32))
            .await?;
        if page.is_empty() {
            failure = Some((start, format!("entry {start} is missing")));
            break;
        }
        for e in &page {
            if e.index != tree.size() {
                failure = Some((tree.size(), format!("entry {} is missing", tree.size())));
                break 'pages;
            }
            let h = andon_ledger::leaf_hash(&e.entry);
            if h != e.leaf_hash {
                failure = Some((
                    e.index,
                    format!(
                        "entry {}'s bytes do not hash to its stored leaf hash",
                        e.index
                    ),
                ));
                break 'pages;
            }
            tree.push(h);
        }
        start = tree.size();
    }
    if failure.is_none() && tree.root() != cp.checkpoint.root {
        failure = Some((
            size,
            format!("the entries do not produce the root of the signed checkpoint of size {size}"),
        ));
    }
    let checked_at = jiff::Timestamp::from_millisecond(app.now())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let Some((index, why)) = failure else {
        let v = serde_json::json!({"verified": true, "size": size, "checked_at": checked_at});
        if let Ok(mut last) = app.0.last_check.write() {
            *last = Some(v.clone());
        }
        return Ok(v);
    };
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
                "the ledger does not verify: {why}; the stored history was changed outside Andon (run andon verify to see it from outside)"
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
    let v = serde_json::json!({"verified": false, "size": size, "first_bad_index": index, "reason": why, "checked_at": checked_at});
    if let Ok(mut last) = app.0.last_check.write() {
        *last = Some(v.clone());
    }
    Ok(v)
}
