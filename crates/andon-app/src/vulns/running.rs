//! What runs now, per environment: the workloads of its latest whole-environment snapshot
//! with those of each application's own snapshot taken since; where no snapshot was ever
//! reported, the latest recorded deployment of each application.

use std::collections::{BTreeMap, HashSet};

use andon_domain::ArtifactRef;
use andon_domain::vulns::EnvironmentSource;

use crate::{App, AppError};

/// Snapshots read per environment, newest first: enough to reach the latest whole one
/// behind a run of per-application snapshots.
const SNAPSHOTS_READ: u32 = 500;

/// The artifacts running now.
#[derive(Default)]
pub(crate) struct Running {
    /// How each environment is known, by name.
    pub(crate) environments: Vec<EnvironmentSource>,
    /// `sha256:<hex>` -> environment -> workload names.
    pub(crate) by_digest: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// What runs now in the environments `keep` chooses.
pub(crate) async fn running(app: &App, keep: impl Fn(&str) -> bool) -> Result<Running, AppError> {
    let store = app.store();
    let mut out = Running::default();
    for env in store.runtime_environments().await? {
        if !keep(&env) {
            continue;
        }
        let snapshots = store.snapshots(&env, SNAPSHOTS_READ).await?;
        if snapshots.is_empty() {
            for d in store.current_deployments(&env, None).await? {
                out.by_digest
                    .entry(d.artifact_digest)
                    .or_default()
                    .entry(env.clone())
                    .or_default();
            }
            out.environments.push(EnvironmentSource {
                environment: env,
                source: "deployments".into(),
                snapshot: None,
            });
            continue;
        }
        // Newest first: each application's latest own snapshot, until the first snapshot
        // of the whole environment, which covers everything older.
        let mut seen_apps = HashSet::new();
        for s in &snapshots {
            if let Some(a) = &s.application
                && !seen_apps.insert(a.clone())
            {
                continue;
            }
            for w in &s.workloads {
                let Ok(r) = w.image.parse::<ArtifactRef>() else {
                    continue;
                };
                let names = out
                    .by_digest
                    .entry(r.digest.to_string())
                    .or_default()
                    .entry(env.clone())
                    .or_default();
                if !names.contains(&w.name) {
                    names.push(w.name.clone());
                }
            }
            if s.application.is_none() {
                break;
            }
        }
        out.environments.push(EnvironmentSource {
            environment: env,
            source: "snapshot".into(),
            snapshot: snapshots.first().map(|s| s.ledger_index),
        });
    }
    Ok(out)
}
