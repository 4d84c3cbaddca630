//! Clusters registered for admission: their environment, mode and token.

use andon_domain::admission::{AdmissionEvent, Cluster, ClusterInput, MODES};
use andon_domain::{EntryKind, Role};
use andon_store::{AdmissionEffect, Effect};
use serde_json::json;

use crate::input::check_environment;
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError, new_token, token_hash};

/// How old an allowing decision may be by default, in days.
pub const DEFAULT_MAX_AGE_DAYS: u32 = 30;

/// `PUT /v1/admission/clusters/{name}` (admins): registers a cluster or changes it. The
/// first registration, and any with `new_token`, answers with the token its API server
/// must send, shown once; Andon keeps its SHA-256.
pub async fn set(
    app: &App,
    actor: &Actor,
    name: &str,
    input: ClusterInput,
) -> Result<Cluster, AppError> {
    actor.require(&[Role::Admin])?;
    if name.is_empty()
        || name.len() > 63
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(AppError::bad_request(
            "invalid_cluster",
            "a cluster name is 1 to 63 lower-case letters, digits and hyphens",
        ));
    }
    check_environment(&input.environment)?;
    if !MODES.contains(&input.mode.as_str()) {
        return Err(AppError::bad_request(
            "invalid_mode",
            format!("mode is audit or enforce, not {:?}", input.mode),
        ));
    }
    let max_age = input.max_decision_age_days.unwrap_or(DEFAULT_MAX_AGE_DAYS);
    if !(1..=365).contains(&max_age) {
        return Err(AppError::bad_request(
            "invalid_max_age",
            "max_decision_age_days is 1 to 365",
        ));
    }
    let existing = app.store().admission_cluster(name).await?;
    let (token, token_sha256) = match existing {
        Some((_, sha)) if !input.new_token => (None, sha),
        _ => {
            let t = new_token()?;
            let sha = token_hash(&t);
            (Some(t), sha)
        }
    };
    let cluster = Cluster {
        name: name.to_owned(),
        environment: input.environment,
        mode: input.mode,
        max_decision_age_days: max_age,
        ledger_index: 0,
        token: None,
    };
    let body = json!({
        "cluster": name, "environment": cluster.environment, "mode": cluster.mode,
        "max_decision_age_days": max_age, "token_sha256": token_sha256,
        "new_token": token.is_some(),
    });
    let receipt = app
        .append(Fact::admin(
            EntryKind::AdmissionCluster,
            actor,
            body,
            Effect::Admission(AdmissionEffect::Cluster {
                cluster: cluster.clone(),
                token_sha256,
            }),
        ))
        .await?;
    Ok(Cluster {
        ledger_index: receipt.ledger_index,
        token,
        ..cluster
    })
}

/// `GET /v1/admission/clusters`: any identity (tokens are never shown again).
pub async fn list(app: &App, _actor: &Actor) -> Result<Vec<Cluster>, AppError> {
    Ok(app.store().admission_clusters().await?)
}

/// `GET /v1/admission/events?cluster=`: refusals, newest first (at most 500).
pub async fn events(
    app: &App,
    _actor: &Actor,
    cluster: Option<&str>,
) -> Result<Vec<AdmissionEvent>, AppError> {
    Ok(app.store().admission_events(cluster, 500).await?)
}
