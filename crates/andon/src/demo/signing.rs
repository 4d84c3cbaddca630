//! The demo's two-key signing: the storefront's releases are signed by its pipeline and by
//! a release key the release team holds; an admin asks for both, one signature alone is
//! refused and both together are recorded with the co-signer.

use andon_client::{Client, ClientError};
use andon_domain::{KeyAlgorithm, PrivateKey, Sha256Digest, Signer, Statement};

/// Runs the signing part of the demo for application `app`, whose pipeline `ci` signs with
/// `key`.
pub fn run(admin: &Client, app: &str, ci: &Client, key: &PrivateKey) -> anyhow::Result<()> {
    println!("\nSignatures: two keys for {app}'s releases");
    let release = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
    let registered = admin.register_key(&format!("ci-{app}"), &release.public_key().to_pem())?;
    println!(
        "  $ andon identity add-key ci-{app} --key release.pub   the release team's {} key {}",
        registered.algorithm,
        short(&registered.keyid)
    );
    let policy = admin.set_signing_policy(app, 2)?;
    println!(
        "  $ andon app signing-policy {app} --threshold 2   ledger entry {}",
        policy.receipt.ledger_index
    );
    let statement = Statement::new(
        vec![(
            format!("registry.example.com/{app}"),
            Sha256Digest::of(format!("{app}-release-candidate").as_bytes()),
        )],
        "https://example.com/release-approval/v1".into(),
        serde_json::json!({ "approved_for": "production" }),
    );
    match ci.submit_evidence(app, None, None, &statement.sign(key)) {
        Err(ClientError::Api { status, code, .. }) => {
            println!("  the pipeline's signature alone: refused ({status} {code})")
        }
        other => anyhow::bail!("one signature met a threshold of two: {other:?}"),
    }
    let both: [&dyn Signer; 2] = [key, &release];
    let accepted = ci.submit_evidence(app, None, None, &statement.sign_by(&both))?;
    let shown = admin.show_evidence(accepted.id.as_deref().unwrap_or_default())?;
    println!(
        "  $ andon attest generic --key ci.key --key release.key ...   entry {}: signed by {}, co-signed by {}",
        accepted.ledger_index,
        short(&shown.keyid),
        shown
            .cosigners
            .iter()
            .map(|k| short(k))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn short(keyid: &str) -> &str {
    keyid.get(..12).unwrap_or(keyid)
}
