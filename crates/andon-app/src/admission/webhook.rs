//! `POST /k8s/admission/v1/{cluster}`: one review judged. Once the cluster and its token
//! are known the answer is always an `AdmissionReview` (HTTP 200): a malformed review gets
//! a well-formed refusal and writes nothing.

use andon_domain::access::{AccessLevel, AccessStatus};
use andon_domain::admission::{AdmissionEvent, Cluster, GrantUsed, ImageVerdict};
use andon_domain::gate::Verdict;
use andon_domain::{EntryKind, Sha256Digest};
use andon_store::{AdmissionEffect, Effect};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::cache::Decided;
use super::review::{Review, answer, pinned, read};
use crate::alerts::NewAlert;
use crate::gates::decide::decision_doc;
use crate::ledger::sequencer::Fact;
use crate::{App, AppError};

const DAY_MS: i64 = 86_400_000;

/// Judges the review in `body` for `cluster`, whose API server presented `token`.
pub async fn review(
    app: &App,
    cluster: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<Value, AppError> {
    // An unknown cluster and a wrong token get the same answer: names are not probed.
    let refused = || {
        AppError::unauthorized(format!(
            "no admission cluster {cluster} has this token (andon admission cluster add)"
        ))
    };
    let Some((cluster, token_sha256)) = app.store().admission_cluster(cluster).await? else {
        return Err(refused());
    };
    let presented = Sha256Digest::of(token.unwrap_or_default().as_bytes()).hex();
    if token.is_none() || !bool::from(presented.as_bytes().ct_eq(token_sha256.as_bytes())) {
        return Err(refused());
    }
    let r = match read(body) {
        Ok(r) => r,
        Err(m) => {
            return Ok(answer(
                &m.uid,
                false,
                400,
                &format!("andon: malformed admission review: {}", m.why),
                &[],
            ));
        }
    };
    let now = app.now();
    let mut refused = Vec::new();
    for (container, image) in &r.images {
        if let Some(v) = judge(app, &cluster, container, image, now).await? {
            refused.push(v);
        }
    }
    if refused.is_empty() {
        return Ok(answer(&r.uid, true, 200, "", &[]));
    }
    let enforced = cluster.mode == "enforce";
    let what = format!(
        "{}/{}",
        r.namespace,
        if r.name.is_empty() {
            "(generated)"
        } else {
            &r.name
        }
    );
    let mut lines: Vec<String> = refused
        .iter()
        .map(|v| {
            format!(
                "{what} container {}: {} {} (control {})",
                v.container, v.image, v.reason, v.control
            )
        })
        .collect();
    if let Some(id) = &r.break_glass {
        match grant(app, &cluster, id, now).await? {
            Ok(g) => return Ok(overridden(app, &cluster, &r, g, refused, lines, now).await),
            Err(why) => lines.push(format!("break-glass {id} not honoured: {why}")),
        }
    }
    let mut index = None;
    if !r.dry_run {
        index = Some(record(app, &cluster, &r, enforced, refused, None, now).await?);
    }
    let entry = index
        .map(|i| format!(" (ledger entry {i})"))
        .unwrap_or_default();
    Ok(if enforced {
        answer(
            &r.uid,
            false,
            403,
            &format!("andon: {}{entry}", lines.join("; ")),
            &[],
        )
    } else {
        let warnings: Vec<String> = lines
            .iter()
            .map(|l| format!("andon would refuse in enforce mode: {l}"))
            .collect();
        answer(&r.uid, true, 200, "", &warnings)
    })
}

/// Why `image` may not start in `cluster`, or `None` when it may.
async fn judge(
    app: &App,
    cluster: &Cluster,
    container: &str,
    image: &str,
    now: i64,
) -> Result<Option<ImageVerdict>, AppError> {
    let refuse =
        |digest: Option<String>, control: &str, reason: String, decision: Option<String>| {
            Some(ImageVerdict {
                container: container.to_owned(),
                image: image.to_owned(),
                digest,
                control: control.to_owned(),
                reason,
                decision,
            })
        };
    let Some(digest) = pinned(image) else {
        return Ok(refuse(
            None,
            "image_pinned",
            "is not pinned by digest".into(),
            None,
        ));
    };
    let env = &cluster.environment;
    let Some(d) = decided(app, env, &digest).await? else {
        return Ok(refuse(
            Some(digest),
            "release_gate",
            format!("has no gate decision for {env}"),
            None,
        ));
    };
    if !d.allow {
        let control = d
            .failing
            .first()
            .cloned()
            .unwrap_or_else(|| "release_gate".into());
        return Ok(refuse(
            Some(digest),
            &control,
            format!(
                "was denied by the gate for {env} ({})",
                d.failing.join(", ")
            ),
            Some(d.id),
        ));
    }
    let age_days = (now - d.created_at) / DAY_MS;
    if now - d.created_at > i64::from(cluster.max_decision_age_days) * DAY_MS {
        return Ok(refuse(
            Some(digest),
            "decision_expired",
            format!(
                "was allowed for {env} {age_days} days ago, more than the cluster's {} days",
                cluster.max_decision_age_days
            ),
            Some(d.id),
        ));
    }
    Ok(None)
}

/// The latest decision for `digest` in `env`, from the cache or the store.
async fn decided(app: &App, env: &str, digest: &str) -> Result<Option<Decided>, AppError> {
    let cache = &app.0.admission_cache;
    if let Some(known) = cache.get(env, digest) {
        return Ok(known);
    }
    let found = match app.store().latest_decision(digest, env).await? {
        Some(id) => app.store().decision(&id).await?.map(|row| Decided {
            failing: if row.allow {
                Vec::new()
            } else {
                decision_doc(&row.envelope)
                    .map(|doc| {
                        doc.controls
                            .into_iter()
                            .filter(|c| {
                                matches!(
                                    c.verdict,
                                    Verdict::Fail | Verdict::Missing | Verdict::Error
                                )
                            })
                            .map(|c| c.id)
                            .collect()
                    })
                    .unwrap_or_default()
            },
            id: row.id,
            allow: row.allow,
            created_at: row.created_at,
        }),
        None => None,
    };
    cache.put(env, digest, found.clone());
    Ok(found)
}

/// The grant `id` when it lets someone change the cluster's environment now: granted, not
/// revoked, at write level, for that environment, unexpired; else why not.
async fn grant(
    app: &App,
    cluster: &Cluster,
    id: &str,
    now: i64,
) -> Result<Result<GrantUsed, String>, AppError> {
    let Some(g) = app.store().access_request(id).await? else {
        return Ok(Err("no such access request".into()));
    };
    let why = if g.status != AccessStatus::Granted {
        Some(format!("it is {}", g.status.as_str()))
    } else if g.revoked_by.is_some() {
        Some("it was revoked".into())
    } else if g.level != AccessLevel::Write {
        Some("it grants read access only".into())
    } else if g.environment != cluster.environment {
        Some(format!(
            "it is for {}, not {}",
            g.environment, cluster.environment
        ))
    } else if g.expires_at.is_none_or(|e| e <= now) {
        Some("it has expired".into())
    } else {
        None
    };
    Ok(match why {
        Some(w) => Err(w),
        None => Ok(GrantUsed {
            id: g.id,
            holder: g.requested_by,
            approved_by: g.decided_by.unwrap_or_default(),
            ticket: g.ticket,
        }),
    })
}

/// Admits what a valid break-glass grant covers, recording the override first: if the
/// record cannot be written the workload is refused.
async fn overridden(
    app: &App,
    cluster: &Cluster,
    r: &Review,
    g: GrantUsed,
    refused: Vec<ImageVerdict>,
    lines: Vec<String>,
    now: i64,
) -> Value {
    let said = format!(
        "andon: admitted by break-glass grant {} ({}, held by {}, approved by {}) though",
        g.id, g.ticket, g.holder, g.approved_by
    );
    if r.dry_run {
        return answer(
            &r.uid,
            true,
            200,
            "",
            &[format!("{said} {}", lines.join("; "))],
        );
    }
    match record(app, cluster, r, false, refused, Some(g), now).await {
        Ok(i) => answer(
            &r.uid,
            true,
            200,
            "",
            &[format!("{said} {} (ledger entry {i})", lines.join("; "))],
        ),
        Err(e) => answer(
            &r.uid,
            false,
            403,
            &format!(
                "andon: the break-glass override could not be recorded, so it is refused: {}",
                e.message
            ),
            &[],
        ),
    }
}

/// Records the refusal (or the override) and raises its alert; answers the entry's index.
async fn record(
    app: &App,
    cluster: &Cluster,
    r: &Review,
    enforced: bool,
    images: Vec<ImageVerdict>,
    grant: Option<GrantUsed>,
    now: i64,
) -> Result<u64, AppError> {
    let event = AdmissionEvent {
        ledger_index: 0,
        cluster: cluster.name.clone(),
        enforced,
        uid: r.uid.clone(),
        operation: r.operation.clone(),
        kind: r.kind.clone(),
        namespace: r.namespace.clone(),
        name: r.name.clone(),
        user: r.user.clone(),
        at: now,
        images,
        grant,
    };
    let body = serde_json::to_value(&event).map_err(|e| AppError::unavailable(e.to_string()))?;
    let receipt = app
        .append(Fact::admin(
            if event.grant.is_some() {
                EntryKind::AdmissionOverride
            } else {
                EntryKind::AdmissionRefused
            },
            "andon",
            body,
            Effect::Admission(AdmissionEffect::Refused(Box::new(event.clone()))),
        ))
        .await?;
    let kind = match (&event.grant, enforced) {
        (Some(_), _) => "admission_override",
        (None, true) => "admission_refused",
        (None, false) => "admission_would_refuse",
    };
    let subject = format!(
        "admission:{}:{}/{}",
        cluster.name, event.namespace, event.name
    );
    // Every override is an alert of its own: someone went around the gate.
    let open = match kind {
        "admission_override" => None,
        _ => app.store().alert_about(kind, &subject).await?,
    };
    if open.is_none() {
        let what = event
            .images
            .iter()
            .map(|v| format!("{} {} (control {})", v.image, v.reason, v.control))
            .collect::<Vec<_>>()
            .join("; ");
        crate::alerts::raise_all(
            app,
            vec![NewAlert {
                kind: kind.into(),
                severity: match kind {
                    "admission_override" => "high",
                    "admission_refused" => "medium",
                    _ => "low",
                }
                .into(),
                application: None,
                environment: Some(cluster.environment.clone()),
                subject,
                message: format!(
                    "{} {} {}/{} in cluster {} ({}), asked by {}: {what}",
                    match &event.grant {
                        Some(g) => format!(
                            "break-glass grant {} ({}) held by {}, approved by {}, admitted",
                            g.id, g.ticket, g.holder, g.approved_by
                        ),
                        None if enforced => "refused".to_owned(),
                        None => "would refuse".to_owned(),
                    },
                    event.kind,
                    event.namespace,
                    event.name,
                    cluster.name,
                    cluster.environment,
                    event.user
                ),
                links: vec![format!("/v1/admission/events?cluster={}", cluster.name)],
                suspect: None,
            }],
        )
        .await?;
    }
    Ok(receipt.ledger_index)
}
