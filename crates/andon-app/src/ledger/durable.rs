//! Nothing is acknowledged before it is durable: committed batches are flushed, then
//! their checkpoint is published and each request answered with its inclusion proof.

use crate::App;
use crate::AppError;
use andon_ledger::SignedCheckpoint;
use andon_store::Store;
use std::sync::Arc;
use tokio::sync::mpsc;

use super::fact::Job;
use super::sequencer::{Outcome, fail_all, receipt};

/// A committed batch waiting to be made durable before anyone hears of it.
pub(super) struct Committed {
    pub(super) signed: Arc<SignedCheckpoint>,
    pub(super) replies: Vec<(Job, Outcome)>,
}

/// Makes committed batches durable, then publishes their checkpoint and answers their
/// requests. One flush covers every batch committed before it, so while it waits for the
/// disk the sequencer is already writing the next batch.
pub(super) async fn make_durable(
    app: App,
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Committed>,
) {
    let mut anchor = super::anchor::Anchor::new(app.0.config.checkpoint_file.clone());
    while let Some(first) = rx.recv().await {
        let mut done = vec![first];
        while let Ok(more) = rx.try_recv() {
            done.push(more);
        }
        let began = std::time::Instant::now();
        let flushed = store.make_durable().await;
        tracing::debug!(
            batches = done.len(),
            flush_ms = began.elapsed().as_secs_f64() * 1e3,
            "batches made durable"
        );
        if let Err(e) = flushed {
            let e: AppError = e.into();
            for c in done {
                fail_all(c.replies.into_iter().map(|(j, _)| j).collect(), e.clone());
            }
            continue;
        }
        let Some(newest) = done
            .iter()
            .map(|c| c.signed.clone())
            .max_by_key(|s| s.checkpoint.size)
        else {
            continue;
        };
        // Durable now: the checkpoint file may say so (before anyone hears of it).
        anchor.durable(newest.checkpoint.size, &newest.note).await;
        if let Ok(mut l) = app.0.latest.write()
            && l.checkpoint.size <= newest.checkpoint.size
        {
            *l = newest;
        }
        let Ok(tree) = app.0.tree.read() else {
            for c in done {
                fail_all(
                    c.replies.into_iter().map(|(j, _)| j).collect(),
                    AppError::unavailable("the ledger tree lock is poisoned"),
                );
            }
            continue;
        };
        for c in done {
            let size = c.signed.checkpoint.size;
            for (job, outcome) in c.replies {
                let answer = match outcome {
                    Outcome::Refused(e) => Err(e),
                    Outcome::New { index, id } => {
                        receipt(&tree, index, size, &c.signed.note, id, false)
                    }
                    Outcome::Existing { index, id } => {
                        receipt(&tree, index, size, &c.signed.note, Some(id), true)
                    }
                };
                let _ = job.reply.send(answer);
            }
        }
    }
}
