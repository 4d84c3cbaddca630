//! Tree heads sent to an external witness, so a history rewritten by the operator is
//! caught by a party outside their control: the client side of C2SP tlog-witness
//! (`POST <prefix>/add-checkpoint` with the old size, an RFC 6962 consistency proof from
//! it, and the new signed checkpoint). The witness answers with its cosignature, or 409
//! with the size it last cosigned, from which the next request proves consistency.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::App;

/// What one submission came to.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Cosigned: the witness now holds this size.
    Cosigned(u64, String),
    /// The witness holds another size: submit again from it.
    Conflict(u64),
    /// Anything else (unreachable, refused): try again next round.
    Failed(String),
}

/// The request body for moving the witness from `old` to the latest checkpoint.
fn body(app: &App, old: u64) -> Result<(u64, String), String> {
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
    Ok((size, b))
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
                s => Outcome::Failed(format!("the witness answered {s}: {}", text.trim())),
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Runs until the process ends: each interval, if the log grew since the witness last
/// cosigned, submits the latest checkpoint with a consistency proof.
pub async fn run(app: App, prefix: String) {
    let url = format!("{}/add-checkpoint", prefix.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    // The size the witness last cosigned; 0 until it says otherwise.
    let mut witnessed: u64 = 0;
    let mut tick = tokio::time::interval(app.0.config.witness_interval);
    loop {
        tick.tick().await;
        // A 409 tells us the witness's size: one retry from it, at once.
        for _ in 0..2 {
            if witnessed == app.latest().checkpoint.size && witnessed > 0 {
                break;
            }
            let (size, body) = match body(&app, witnessed) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "cannot prove consistency to the witness");
                    break;
                }
            };
            let (agent, url) = (agent.clone(), url.clone());
            let outcome = tokio::task::spawn_blocking(move || submit(&agent, &url, &body, size))
                .await
                .unwrap_or_else(|e| Outcome::Failed(e.to_string()));
            match outcome {
                Outcome::Cosigned(n, cosignature) => {
                    witnessed = n;
                    tracing::info!(size = n, cosignature = %cosignature.trim(), "witness cosigned");
                    break;
                }
                Outcome::Conflict(n) => {
                    tracing::info!(size = n, "the witness holds another size; proving from it");
                    witnessed = n;
                }
                Outcome::Failed(e) => {
                    tracing::warn!(error = %e, "witness submission failed");
                    break;
                }
            }
        }
    }
}
