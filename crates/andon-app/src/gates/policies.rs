//! Policy bundles: publishing, listing, the built-in library, compiled policies and which
//! applies.

use std::sync::Arc;

use andon_domain::api::PublishedPolicy;
use andon_domain::{EntryKind, Role};
use andon_policy::{Bundle, Policy};
use andon_store::{Effect, PolicyRow};
use serde_json::json;

use crate::input::check_environment;
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError, ErrorKind};

/// The name of the built-in library's bundle, reserved.
pub const BUILTIN_NAME: &str = "builtin";

/// Who may publish a policy bundle. A transport that reads the bundle before calling
/// [`publish`] checks this first, so that a caller without the role is refused before its
/// body is looked at.
pub const PUBLISHERS: &[Role] = &[Role::Admin];

/// Publishes a bundle for an admin (validated: names, syntax, metadata, its unit tests);
/// the name of the built-in library is reserved. The answer says whether this exact
/// version was already published.
pub async fn publish(
    app: &App,
    actor: &Actor,
    bundle: Bundle,
) -> Result<PublishedPolicy, AppError> {
    actor.require(PUBLISHERS)?;
    if bundle.name == BUILTIN_NAME {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "invalid_policy",
            format!("the name {BUILTIN_NAME:?} is reserved for the built-in library"),
        ));
    }
    publish_bundle(app, actor, bundle).await
}

/// The published policies.
pub async fn list(app: &App, _actor: &Actor) -> Result<Vec<PolicyRow>, AppError> {
    Ok(app.store().policies().await?)
}

/// A published bundle's exact bytes (their SHA-256 is the version), or `not_found`.
pub async fn bundle(app: &App, _actor: &Actor, version: &str) -> Result<Vec<u8>, AppError> {
    stored_bundle(app, version).await
}

/// A published bundle's bytes from the store, or `not_found`.
async fn stored_bundle(app: &App, version: &str) -> Result<Vec<u8>, AppError> {
    app.store()
        .policy_bundle(version)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no policy version {version}")))
}

/// A policy that does not compile or test, as `invalid_policy`.
pub fn policy_error(e: andon_policy::PolicyError) -> AppError {
    AppError::new(
        ErrorKind::UnprocessableEntity,
        "invalid_policy",
        e.to_string(),
    )
}

/// Publishes `bundle` unless this exact version already is; returns the answer.
pub async fn publish_bundle(
    app: &App,
    actor: impl Into<crate::ledger::fact::Who>,
    bundle: Bundle,
) -> Result<PublishedPolicy, AppError> {
    // A bundle applies to applications and environments by name: names that could never
    // match are mistakes, refused before anything is compiled.
    for a in &bundle.applications {
        a.parse::<andon_domain::AppName>()?;
    }
    for e in &bundle.environments {
        check_environment(e)?;
    }
    let (policy, tests) = Policy::validate(bundle).map_err(policy_error)?;
    let controls: Vec<String> = policy.controls().iter().map(|c| c.id.clone()).collect();
    if let Some(existing) = published(app, &policy.version, &controls, tests.len()).await? {
        return Ok(existing);
    }
    let b = &policy.bundle;
    let body = json!({
        "name": b.name, "version": policy.version, "applications": b.applications,
        "environments": b.environments, "controls": controls, "disabled": b.disabled,
        "params": b.params,
    });
    let effect = Effect::Policy {
        version: policy.version.clone(),
        name: b.name.clone(),
        applications: serde_json::to_string(&b.applications).unwrap_or_default(),
        environments: serde_json::to_string(&b.environments).unwrap_or_default(),
        bundle: b.to_bytes(),
    };
    let receipt = match app
        .append(Fact::admin(EntryKind::PolicyPublished, actor, body, effect))
        .await
    {
        // Published meanwhile by another server (two starting together with one bundle).
        Err(e) if e.code == "policy_exists" => {
            if let Some(existing) = published(app, &policy.version, &controls, tests.len()).await? {
                return Ok(existing);
            }
            return Err(e);
        }
        r => r?,
    };
    let out = PublishedPolicy {
        name: policy.name.clone(),
        version: policy.version.clone(),
        ledger_index: receipt.ledger_index,
        existing: false,
        controls,
        tests: tests.len(),
    };
    if let Ok(mut cache) = app.0.policies.write() {
        cache.insert(policy.version.clone(), Arc::new(policy));
    }
    Ok(out)
}

/// The policy version as already published, if it is.
async fn published(
    app: &App,
    version: &str,
    controls: &[String],
    tests: usize,
) -> Result<Option<PublishedPolicy>, AppError> {
    Ok(app
        .store()
        .policies()
        .await?
        .into_iter()
        .find(|p| p.version == version)
        .map(|row| PublishedPolicy {
            name: row.name,
            version: row.version,
            ledger_index: row.ledger_index,
            existing: true,
            controls: controls.to_vec(),
            tests,
        }))
}

/// Publishes the built-in library with default parameters, if this version of it is not
/// yet in the ledger: the policy of every application and environment without its own.
pub async fn publish_builtin(app: &App) -> Result<(), AppError> {
    publish_bundle(app, "andon", Bundle::builtin_default())
        .await
        .map(|_| ())
}

/// The compiled policy of a version, from the cache or the store.
pub async fn compiled(app: &App, version: &str) -> Result<Arc<Policy>, AppError> {
    if let Some(p) = app
        .0
        .policies
        .read()
        .ok()
        .and_then(|c| c.get(version).cloned())
    {
        return Ok(p);
    }
    let bytes = stored_bundle(app, version).await?;
    let bundle: Bundle = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::unavailable(format!("stored policy {version} is unreadable: {e}"))
    })?;
    let policy = Arc::new(Policy::compile(bundle).map_err(policy_error)?);
    if let Ok(mut cache) = app.0.policies.write() {
        cache.insert(version.to_owned(), policy.clone());
    }
    Ok(policy)
}

/// The policy for an application and environment: the most specific published bundle
/// (application and environment, then application, then environment, then any), the
/// latest of equals (a team's own before the built-in one).
pub async fn select_policy(
    app: &App,
    application: &str,
    environment: &str,
) -> Result<Arc<Policy>, AppError> {
    let best = app
        .store()
        .policies()
        .await?
        .into_iter()
        .filter_map(|p| {
            andon_policy::specificity(&p.applications, &p.environments, application, environment)
                // A team's own bundle wins over the built-in one of equal specificity, even
                // when an upgrade republishes the library later.
                .map(|s| (s, p.name != BUILTIN_NAME, p.ledger_index, p.version))
        })
        .max()
        .ok_or_else(|| AppError::unavailable("no policy applies (the built-in one is missing)"))?;
    compiled(app, &best.3).await
}
