//! The demo's keyless signing: a release of a real project, signed on GitHub Actions through
//! Sigstore and published on PyPI, goes in as it was published. Its bundle is verified
//! offline against Sigstore's public-good trusted root; the application admits only its
//! release workflow on a GitHub-hosted runner, so the same bundle changed in one place, and a
//! bundle signed on another CI, are refused.

use andon_client::{Client, ClientError};
use andon_domain::sigstore::{IdentityRule, KeylessPolicy};

use crate::fixtures::sigstore::{
    GITHUB_SLSA as RELEASE_BUNDLE, GITLAB_PUBLISH as GITLAB_BUNDLE, PUBLIC_GOOD,
};

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const WORKFLOW: &str = "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml@refs/tags/v0.0.19";

/// Runs the keyless part of the demo in a new application named after `suffix`.
pub fn run(admin: &Client, suffix: &str) -> anyhow::Result<()> {
    let app = format!("pypi-attestations-{suffix}");
    println!(
        "\nKeyless: a release signed on GitHub Actions through Sigstore, as PyPI published it"
    );
    admin.create_application(&app, "supply-chain")?;
    let issued =
        admin.create_identity(&format!("ci-{app}"), "pipeline", std::slice::from_ref(&app))?;
    let ci = Client::new(admin.base(), Some(issued.token.clone()));
    let root = admin.set_trusted_root("public-good", PUBLIC_GOOD)?;
    println!(
        "  $ andon sigstore trusted-root add public-good --file trusted_root.json   {} certificate authorities, {} Rekor logs, {} CT logs; ledger entry {}",
        root.certificate_authorities, root.tlogs, root.ctlogs, root.ledger_index
    );
    let mut rule = IdentityRule {
        issuer: GITHUB.into(),
        identity: Some(WORKFLOW.into()),
        identity_regex: None,
        claims: Default::default(),
    };
    rule.claims
        .insert("runner_environment".into(), "github-hosted".into());
    let policy = admin.set_keyless_policy(
        &app,
        &KeylessPolicy {
            identities: vec![rule],
        },
    )?;
    println!(
        "  $ andon app keyless-policy {app} --issuer {GITHUB} \\\n      --identity {WORKFLOW} \\\n      --claim runner_environment=github-hosted   ledger entry {}",
        policy.receipt.ledger_index
    );
    let accepted = ci.submit_evidence(&app, None, Some("provenance"), RELEASE_BUNDLE)?;
    let shown = ci.show_evidence(accepted.id.as_deref().unwrap_or_default())?;
    let k = shown
        .keyless
        .ok_or_else(|| anyhow::anyhow!("the bundle was recorded without its keyless signer"))?;
    println!(
        "  $ andon attest bundle --app {app} --file pypi_attestations-0.0.19.tar.gz.sigstore.json   entry {}",
        accepted.ledger_index
    );
    println!(
        "    signed by {} ({}), Rekor log index {}, logged {}",
        k.identity,
        k.claims
            .get("runner_environment")
            .map_or("?", String::as_str),
        k.log_index.map_or("-".into(), |i| i.to_string()),
        k.integrated_time.as_deref().unwrap_or("-")
    );
    let mut changed: serde_json::Value = serde_json::from_slice(RELEASE_BUNDLE)?;
    if let Some(sig) = changed["dsseEnvelope"]["signatures"][0]["sig"].as_str() {
        let flipped = if sig.starts_with('M') { "N" } else { "M" };
        changed["dsseEnvelope"]["signatures"][0]["sig"] = format!("{flipped}{}", &sig[1..]).into();
    }
    for (what, bundle) in [
        (
            "the same bundle with its signature changed",
            serde_json::to_vec(&changed)?,
        ),
        ("a bundle signed on GitLab CI", GITLAB_BUNDLE.to_vec()),
    ] {
        match ci.submit_evidence(&app, None, None, &bundle) {
            Err(ClientError::Api {
                status,
                code,
                message,
            }) => println!(
                "  {what}: refused ({status} {code}: {})",
                message.split(';').next().unwrap_or(&message)
            ),
            other => anyhow::bail!("{what} was accepted: {other:?}"),
        }
    }
    Ok(())
}
