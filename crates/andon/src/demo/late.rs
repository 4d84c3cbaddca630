//! The demo's late fact (docs/changes.md, "Time"): a production deployment made by hand
//! three days ago, during an outage, is found in the on-call log. The pipeline cannot
//! record it (older than the late window); an admin records it with the reason, and the
//! listing and the metrics show it late.

use andon_client::{Client, ClientError};
use andon_domain::Sha256Digest;
use andon_domain::api::{DeploymentRequest, LateRequest};
use jiff::{SignedDuration, Timestamp};

use crate::demo::gates::Gated;

/// Why the demo's late deployment arrives late.
const REASON: &str = "hand deployment during INC-305, found in the on-call log three days later";

/// Runs the late-fact part of the demo.
pub fn run(admin: &Client, g: &Gated) -> anyhow::Result<()> {
    let artifact = format!(
        "registry.example.com/payments@{}",
        Sha256Digest::of(format!("{}-hand-deployed", g.app).as_bytes())
    );
    let at = (Timestamp::now() - SignedDuration::from_hours(72)).to_string();
    let request = DeploymentRequest {
        application: g.app.clone(),
        artifact: artifact.clone(),
        environment: "production".into(),
        deployed_at: Some(at.clone()),
        ..Default::default()
    };
    println!(
        "\n$ andon deploy record --app {} --artifact {artifact} --env production --at {at}    # as the pipeline, three days late",
        g.app
    );
    match g.ci.record_deployment(&request) {
        Err(ClientError::Api { code, message, .. }) => println!("    refused ({code}): {message}"),
        Ok(_) => anyhow::bail!("a deployment three days old was recorded without an admin"),
        Err(e) => return Err(e.into()),
    }
    println!("\n$ andon deploy record ... --at {at} --late \"{REASON}\"    # as an admin");
    let r = admin.record_deployment(&DeploymentRequest {
        late: Some(LateRequest {
            reason: REASON.into(),
        }),
        ..request
    })?;
    let d = &r["deployment"];
    println!(
        "    recorded {} late (ledger entry {}), allowed by {}: {}",
        d["id"].as_str().unwrap_or(""),
        d["ledger_index"],
        d["late"]["allowed_by"].as_str().unwrap_or(""),
        d["late"]["reason"].as_str().unwrap_or("")
    );
    println!(
        "\n$ andon deploy list --app {}    # the late one is marked",
        g.app
    );
    for d in admin.deployments(Some(&g.app), Some("production"))? {
        if let Some(l) = &d.late {
            println!(
                "    {}\t{}@{}\tdeployed {}\tLATE: {} (allowed by {})",
                d.id,
                d.artifact_name,
                &d.artifact_digest[..19],
                at,
                l.reason,
                l.allowed_by
            );
        }
    }
    let m = admin.metrics(&[
        ("application", g.app.clone()),
        ("period", "month".to_owned()),
    ])?;
    println!(
        "\n$ andon metrics --app {} --period month    # {} late fact(s) in the figures, each with its reason",
        g.app, m["total"]["late"]
    );
    Ok(())
}
