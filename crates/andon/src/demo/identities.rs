//! The demo's identities: a person enrolls with a one-time code and acts with a token of
//! their own; a token an admin minted in their name reads but approves nothing, and is
//! revoked; the identity list is the ledger's.

use andon_client::{Client, ClientError};
use andon_domain::api::AccessRequestInput;

/// Runs the identity part of the demo for application `app`.
pub fn run(admin: &Client, app: &str, suffix: &str) -> anyhow::Result<()> {
    println!("\nIdentities: nobody acts in someone else's name");
    let name = format!("petra-{suffix}");
    let created = admin.create_identity_only(&name, "approver", &[], &[])?;
    let code = created
        .enrollment
        .as_ref()
        .map(|e| e.code.clone())
        .ok_or_else(|| anyhow::anyhow!("a person's identity answers an enrollment code"))?;
    println!("  $ andon identity create {name} --role approver   (a one-time enrollment code)");
    let own = Client::new(admin.base(), None).enroll(&code)?;
    println!(
        "  $ andon enroll <code>   {name} issues her own token {} (expires {})",
        own.token_id.as_deref().unwrap_or("?"),
        own.expires_at.as_deref().unwrap_or("never")
    );
    let minted = admin.issue_token(&name)?;
    let minted_id = minted.token_id.clone().unwrap_or_default();
    println!("  $ andon identity token {name}   the admin mints {minted_id} in {name}'s name");
    let request = admin.request_access(&AccessRequestInput {
        application: app.to_owned(),
        environment: "staging".into(),
        level: "read".into(),
        reason: "compare staging with the incident's logs".into(),
        ticket: "PAY-77".into(),
        minutes: 30,
    })?;
    let id = request["id"].as_str().unwrap_or_default().to_owned();
    let as_admin = Client::new(admin.base(), Some(minted.token.clone()));
    match as_admin.decide_access(&id, "approve", Some("ok")) {
        Err(ClientError::Api { status, code, .. }) => println!(
            "  approving {id} with {minted_id}: refused ({status} {code}): the admin issued it, not {name}"
        ),
        other => anyhow::bail!("an admin-minted token approved: {other:?}"),
    }
    Client::new(admin.base(), Some(own.token.clone())).decide_access(
        &id,
        "approve",
        Some("read-only, 30 minutes"),
    )?;
    println!(
        "  approving {id} with her own token: granted, the entry names the token and its issuer"
    );
    let revoked = admin.revoke_token(&minted_id, "minted for a test; nobody should hold it")?;
    let at = revoked.revoked.map(|r| r.ledger_index).unwrap_or_default();
    let refused = as_admin.whoami().err().and_then(|e| e.status());
    println!(
        "  $ andon token revoke {minted_id} --reason ...   ledger entry {at}; the token now gets {}",
        refused.map_or("?".into(), |s| s.to_string())
    );
    println!("  $ andon identity list");
    for i in admin.list_identities()? {
        let state = match &i.disabled {
            Some(d) => format!("disabled at entry {}", d.ledger_index),
            None => "enabled".into(),
        };
        println!(
            "    {:<28} {:<9} created by {:<8} at entry {:<5} {state}",
            i.name, i.role, i.created_by, i.ledger_index
        );
    }
    Ok(())
}
