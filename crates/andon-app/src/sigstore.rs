//! Keyless signing: the Sigstore trusted roots bundles are verified against, and each
//! application's keyless policy (which OIDC issuers and certificate identities may sign its
//! evidence). Both are ledger entries; the authority built from the ledger holds them.

use andon_domain::api::{KeylessPolicyView, TrustedRootView};
use andon_domain::sigstore::{KeylessPolicy, TrustedRoot};
use andon_domain::{AppName, EntryKind};
use andon_store::Effect;

use crate::admin::require_admin;
use crate::{Actor, App, AppError, Fact};

/// `PUT /v1/sigstore/trusted-roots/{name}` (admin): registers a Sigstore trusted root
/// (`trusted_root.json`, as Sigstore's TUF repository distributes it) under `name`, or
/// replaces the one registered under it. The document is checked whole before anything is
/// written and recorded exactly as sent.
pub async fn set_trusted_root(
    app: &App,
    actor: &Actor,
    name: &str,
    document: &[u8],
) -> Result<TrustedRootView, AppError> {
    require_admin(actor)?;
    let name: AppName = name
        .parse()
        .map_err(|_| AppError::bad_request("invalid_name", format!("invalid trusted root name {name:?}: 1 to 64 characters of a-z, 0-9, '-', '_' or '.'")))?;
    let root = TrustedRoot::parse(name.as_str(), document)?;
    let text = std::str::from_utf8(document)
        .map_err(|e| AppError::bad_request("malformed_trusted_root", e.to_string()))?;
    let receipt = app
        .append(Fact::admin(
            EntryKind::TrustedRootSet,
            actor,
            serde_json::json!({
                "name": name,
                "sha256": root.sha256().hex(),
                "document": text,
            }),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(view(&root, receipt.ledger_index, &actor.name))
}

fn view(root: &TrustedRoot, index: u64, by: &str) -> TrustedRootView {
    let [cas, tlogs, ctlogs, tsas] = root.counts();
    TrustedRootView {
        name: root.name().to_owned(),
        sha256: root.sha256().hex(),
        ledger_index: index,
        registered_by: by.to_owned(),
        certificate_authorities: cas,
        tlogs,
        ctlogs,
        timestamp_authorities: tsas,
    }
}

/// `GET /v1/sigstore/trusted-roots`: the registered trusted roots, by name.
pub fn list_trusted_roots(app: &App) -> Vec<TrustedRootView> {
    app.with_authority(|a| {
        a.trusted_roots()
            .map(|t| view(&t.root, t.index, &t.by))
            .collect()
    })
}

/// `PUT /v1/applications/{name}/keyless-policy` (admin): which keyless signers may sign the
/// application's evidence from now on (the whole policy; no rules turns keyless off).
pub async fn set_keyless_policy(
    app: &App,
    actor: &Actor,
    name: &str,
    policy: KeylessPolicy,
) -> Result<KeylessPolicyView, AppError> {
    require_admin(actor)?;
    let name: AppName = name.parse()?;
    policy.check()?;
    let known = app.store().applications().await?;
    if !known.iter().any(|a| a.name == name.as_str()) {
        return Err(AppError::not_found(format!("no application {name}")));
    }
    let receipt = app
        .append(Fact::admin(
            EntryKind::KeylessPolicySet,
            actor,
            serde_json::json!({ "application": name, "policy": policy }),
            Effect::EntryOnly,
        ))
        .await?;
    Ok(KeylessPolicyView {
        application: name.to_string(),
        policy,
        receipt,
    })
}
