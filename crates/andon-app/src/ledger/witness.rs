//! Tree heads sent to an external witness, so a history rewritten by the operator is
//! caught by a party outside their control: the client side of C2SP tlog-witness
//! (`POST <prefix>/add-checkpoint` with the old size, an RFC 6962 consistency proof from
//! it, and the new signed checkpoint). The witness answers with its cosignature, or 409
//! with the size it last cosigned, from which the next request proves consistency.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use andon_store::StoredCosignature;

use crate::{App, Witness};

/// What one submission came to.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Cosigned: the witness now holds this size; its answer (signature lines).
    Cosigned(u64, String),
    /// The witness holds another size: submit again from it.
    Conflict(u64),
    /// The witness found the checkpoint inconsistent with what it cosigned before (422).
    Inconsistent(String),
    /// Anything else (unreachable, refused): try again next round.
    Failed(String),
}

/// The checkpoint submitted, and the request body moving the witness from `old` to it.
struct Submission {
    size: u64,
    note: String,
    body: String,
}

/// The request body for moving the witness from `old` to the latest checkpoint.
fn body(app: &App, old: u64) -> Result<Submission, String> {
    let cp = app.latest();
    let size = cp.checkpoint.size;
    if old > size {
        return Err(format!(
            "the witness holds size {old}, beyond this log's {size}"
        ));
    }
    let proof = if old == 0 {
        Vec::new()
    } else {
        app.0
            .tree
            .read()
            .map_err(|_| "tree lock poisoned".to_owned())?
            .consistency_proof(old, size)
            .map_err(|e| e.to_string())?
    };
    let mut b = format!("old {old}\n");
    for h in &proof {
        b.push_str(&STANDARD.encode(h));
        b.push('\n');
    }
    b.push('\n');
    b.push_str(&cp.note);
    Ok(Submission {
        size,
        note: cp.note.clone(),
        body: b,
    })
}

fn submit(agent: &ureq::Agent, url: &str, body: &str, size: u64) -> Outcome {
    match agent
        .post(url)
        .header("Content-Type", "text/plain; charset=utf-8")
        .send(body)
    {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            match status {
                200 => Outcome::Cosigned(size, text),
                409 => match text.trim().parse::<u64>() {
                    Ok(n) => Outcome::Conflict(n),
                    Err(_) => Outcome::Failed(format!("409 without a size: {text}")),
                },
                422 => Outcome::Inconsistent(text.trim().to_owned()),
                s => Outcome::Failed(format!("the witness answered {s}: {}", text.trim())),
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Keeps the witness's cosignature of `note` from its answer. Lines by other keys are
/// ignored (C2SP tlog-witness); a line by its key that does not verify is an error.
async fn keep(
    app: &App,
    witness: &Witness,
    size: u64,
    note: &str,
    answer: &str,
) -> Result<u64, String> {
    let c = andon_ledger::cosignatures(
        &format!("{note}{answer}"),
        std::slice::from_ref(&witness.key),
    )
    .map_err(|e| e.to_string())?
    .pop()
    .ok_or_else(|| {
        format!(
            "the answer holds no cosignature by {}: {}",
            witness.key,
            answer.trim()
        )
    })?;
    app.store()
        .add_cosignature(&StoredCosignature {
            size,
            witness: c.witness,
            cosigned_at: c.timestamp,
            line: c.line,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(c.timestamp)
}

/// Asks each witness, at start, whether it has cosigned a larger tree of this log than the
/// database holds (`size` entries, `note` its latest checkpoint): the witness answers a
/// submission from the wrong size with 409 and the size it holds. Unreachable witnesses
/// are skipped (they catch a rewritten history anyway once they are reached). An empty
/// database is a log's first start: not asked (the witness would cosign its empty tree);
/// should the key's log have had entries elsewhere, the witness refuses this one's first
/// checkpoint and `witness_refused` is raised.
pub async fn losses(
    witnesses: &[Witness],
    size: u64,
    note: &str,
) -> Vec<crate::ledger::start::Loss> {
    let mut out = Vec::new();
    if size == 0 {
        return out;
    }
    for w in witnesses {
        let url = format!("{}/add-checkpoint", w.url.trim_end_matches('/'));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let text = format!("old {size}\n\n{note}");
        let outcome = tokio::task::spawn_blocking(move || submit(&agent, &url, &text, size))
            .await
            .unwrap_or_else(|e| Outcome::Failed(e.to_string()));
        let name = w.key.name().to_owned();
        match outcome {
            Outcome::Conflict(n) if n > size => out.push(crate::ledger::start::Loss {
                source: format!("witness {name}"),
                size: n,
                root: None,
                from: size,
            }),
            Outcome::Failed(e) => {
                tracing::warn!(witness = %name, error = %e, "the witness could not be asked what it cosigned")
            }
            _ => {}
        }
    }
    out
}

/// Raises `witness_refused` (high): the witness saw another history than this log serves.
async fn refused(app: &App, witness: &Witness, message: String) {
    let alert = andon_domain::change::Alert {
        kind: "witness_refused".into(),
        severity: "high".into(),
        subject: format!("witness:{}", witness.key.name()),
        message,
        links: vec!["/v1/ledger/checkpoint".into(), "/v1/ledger/cosigned".into()],
        ..Default::default()
    };
    let raised = async {
        let alert = andon_domain::change::Alert {
            id: crate::input::random_id("A")?,
            ..alert
        };
        let body = serde_json::to_value(&alert)
            .map_err(|e| crate::AppError::unavailable(e.to_string()))?;
        app.append(crate::ledger::sequencer::Fact::admin(
            andon_domain::EntryKind::AlertRaised,
            "andon",
            body,
            andon_store::Effect::Change(andon_store::ChangeEffect::Alert(alert)),
        ))
        .await
    };
    if let Err(e) = raised.await {
        tracing::error!(error = %e.message, "raising witness_refused failed");
    }
}

/// Runs until the process ends: each interval, if the log grew since the witness last
/// cosigned, submits the latest checkpoint with a consistency proof, and keeps the
/// cosignature. A witness that finds the log inconsistent with what it cosigned before
/// raises `witness_refused`, once until it cosigns again.
pub async fn run(app: App, witness: Witness) {
    let url = format!("{}/add-checkpoint", witness.url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let name = witness.key.name().to_owned();
    // The size the witness holds, as far as we know; 0 until it says otherwise.
    let mut witnessed: u64 = 0;
    // Whether it cosigned that size for this log (a 409 names a size, not our root).
    let mut ours = false;
    let mut alerted = false;
    let mut tick = tokio::time::interval(app.0.config.witness_interval);
    loop {
        tick.tick().await;
        // A 409 tells us the witness's size: one retry from it, at once.
        for _ in 0..2 {
            if ours && witnessed == app.latest().checkpoint.size {
                break;
            }
            let submission = match body(&app, witnessed) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(witness = %name, error = %e, "cannot prove consistency to the witness");
                    if !alerted {
                        alerted = true;
                        refused(&app, &witness, format!(
                            "witness {name} has cosigned a tree of {witnessed} entries, more than this log holds ({}): the log lost entries or was rolled back since the witness saw it",
                            app.latest().checkpoint.size
                        )).await;
                    }
                    break;
                }
            };
            let (agent, url, text, size) = (
                agent.clone(),
                url.clone(),
                submission.body.clone(),
                submission.size,
            );
            let outcome = tokio::task::spawn_blocking(move || submit(&agent, &url, &text, size))
                .await
                .unwrap_or_else(|e| Outcome::Failed(e.to_string()));
            match outcome {
                Outcome::Cosigned(n, answer) => {
                    witnessed = n;
                    ours = true;
                    alerted = false;
                    match keep(&app, &witness, n, &submission.note, &answer).await {
                        Ok(at) => {
                            tracing::info!(witness = %name, size = n, cosigned_at = at, "witness cosigned")
                        }
                        Err(e) => {
                            tracing::warn!(witness = %name, size = n, error = %e, "the witness's cosignature was not kept")
                        }
                    }
                    break;
                }
                Outcome::Conflict(n) => {
                    tracing::info!(witness = %name, size = n, "the witness holds another size; proving from it");
                    witnessed = n;
                    ours = false;
                }
                Outcome::Inconsistent(text) => {
                    tracing::error!(witness = %name, size, answer = %text, "the witness refused the checkpoint as inconsistent");
                    if !alerted {
                        alerted = true;
                        refused(&app, &witness, format!(
                            "witness {name} refused this log's checkpoint of {size} entries as inconsistent with the tree of {witnessed} entries it cosigned before: the history it saw was changed"
                        )).await;
                    }
                    break;
                }
                Outcome::Failed(e) => {
                    tracing::warn!(witness = %name, error = %e, "witness submission failed");
                    break;
                }
            }
        }
    }
}
