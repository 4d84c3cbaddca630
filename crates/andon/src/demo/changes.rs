//! The demo's change management: one change of each class, an approval by a second
//! person, the request for change Andon writes, an emergency whose review goes overdue, a
//! gate bypass, and a failed deployment restored.

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_domain::api::{DeploymentRequest, DeploymentStateRequest, GateRequest};
use andon_domain::change::{ChangeFields, Script};

use crate::demo::gates::{Gated, Role};

/// The change record a production gate names, and what the change-approval control said.
fn change_of(d: &andon_domain::api::DecisionView) -> (String, String) {
    let reason = d
        .decision
        .controls
        .iter()
        .find(|c| c.id == "change-approval")
        .map(|c| c.reason.clone())
        .unwrap_or_default();
    (d.change.clone().unwrap_or_default(), reason)
}

fn deploy(g: &Gated, artifact: &str, run: &str) -> anyhow::Result<serde_json::Value> {
    Ok(g.ci.record_deployment(&DeploymentRequest {
        application: g.app.clone(),
        artifact: artifact.to_owned(),
        environment: "production".into(),
        run: Some(run.to_owned()),
        ..Default::default()
    })?)
}

/// Runs the change-management part of the demo.
pub fn run(admin: &Client, g: &Gated, suffix: &str) -> anyhow::Result<()> {
    let find = |role| {
        g.releases
            .iter()
            .find(|(r, _, _)| *r == role)
            .map(|(_, a, c)| (a.clone(), c.clone()))
    };
    let (Some((waived, _)), Some((_, clean_commit))) = (find(Role::Vulnerable), find(Role::Clean))
    else {
        return Ok(());
    };
    let ask = |artifact: &str, emergency: Option<&str>, change: Option<ChangeFields>| {
        g.ci.gate(&GateRequest {
            application: g.app.clone(),
            artifact: artifact.to_owned(),
            environment: "production".into(),
            emergency: emergency.map(str::to_owned),
            change,
            ..Default::default()
        })
    };
    println!("\n  Change management (production):");
    // Standard: the release allowed under its waiver deploys with no meeting.
    let d = ask(&waived, None, None)?;
    let (standard, _) = change_of(&d);
    let first = deploy(g, &waived, "9100001")?;
    let first_id = first["deployment"]["id"].as_str().unwrap_or("").to_owned();
    println!(
        "    standard  {standard}: gate allowed, deployed as {first_id} with no approval needed (application changes are on the standard list)"
    );

    // Normal: a database migration waits for a DBA who is not an author.
    let migrating = g.rebuild("with-migration", &clean_commit, "9100002", None)?;
    let fields = ChangeFields {
        paths: vec![
            "db/migrations/0007_refund_limits.sql".into(),
            "src/refunds.rs".into(),
        ],
        risk: Some("refund_limits rewritten in place; 1.2 M rows".into()),
        rollback_plan: Some("deploy the previous image; 0007 has a tested down migration".into()),
        scripts: vec![Script {
            name: "db/migrations/0007_refund_limits.sql".into(),
            dry_run: Some(
                "BEGIN\nALTER TABLE refund_limits ADD COLUMN currency text NOT NULL DEFAULT 'EUR'\n-- 1204311 rows would be rewritten\nROLLBACK"
                    .into(),
            ),
        }],
        ..Default::default()
    };
    let d = ask(&migrating, None, Some(fields))?;
    let (normal, reason) = change_of(&d);
    println!(
        "    normal    {normal}: {} ({reason})",
        if d.decision.allow { "ALLOW" } else { "DENY" }
    );
    let dba = admin.create_identity_in(
        &format!("dana-{suffix}"),
        "approver",
        &[],
        &["dba".to_owned()],
    )?;
    let dba = Client::new(admin.base(), Some(dba.token));
    dba.decide_change(
        &normal,
        true,
        "migration reviewed; run in the low-traffic window",
    )?;
    let d = ask(&migrating, None, None)?;
    println!(
        "              approved by dana-{suffix} (dba), gate asked again: {} ({})",
        if d.decision.allow { "ALLOW" } else { "DENY" },
        change_of(&d).1
    );
    println!("\n$ andon change show {normal}    # the request for change Andon wrote");
    for line in g.ci.rfc_markdown(&normal)?.lines() {
        println!("    {line}");
    }
    deploy(g, &migrating, "9100002")?;

    // Emergency: deployed first; its review is due within seconds for this demo.
    admin.publish_policy(&serde_json::json!({
        "name": format!("payments-{suffix}-production"),
        "applications": [g.app], "environments": ["production"],
        "params": {"change": {"emergency_review_hours": 0.0005}},
    }))?;
    let hotfix = g.rebuild("hotfix", &clean_commit, "9100003", None)?;
    let d = ask(&hotfix, Some("refunds failing since 14:02 (INC-311)"), None)?;
    let (emergency, reason) = change_of(&d);
    deploy(g, &hotfix, "9100003")?;
    println!(
        "\n    emergency {emergency}: {} and deployed ({reason})",
        if d.decision.allow { "ALLOW" } else { "DENY" }
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    admin.check_alerts()?;

    // A deployment nothing gated, and a failure restored.
    let rogue = format!(
        "registry.example.com/payments@{}",
        Sha256Digest::of(format!("{}-built-on-a-laptop", g.app).as_bytes())
    );
    deploy(g, &rogue, "9100004")?;
    g.ci.deployment_state(
        &first_id,
        &DeploymentStateRequest {
            state: "failed".into(),
            note: Some("INC-309 refund errors".into()),
            ..Default::default()
        },
    )?;
    g.ci.deployment_state(
        &first_id,
        &DeploymentStateRequest {
            state: "restored".into(),
            note: Some("INC-309 rolled forward".into()),
            ..Default::default()
        },
    )?;
    println!("    {first_id} marked failed (INC-309), then restored");
    let m = g.ci.metrics(&[
        ("application", g.app.clone()),
        ("period", "month".to_owned()),
    ])?;
    let t = &m["total"];
    println!(
        "\n$ andon metrics --app {} --period month    # the four keys so far: {} production deployments, change failure rate {:.0}% ({}), lead time p50 {:.1} h ({})",
        g.app,
        t["deployments"],
        t["change_failure_rate"].as_f64().unwrap_or(0.0) * 100.0,
        t["bands"]["change_failure_rate"].as_str().unwrap_or("-"),
        t["lead_time_median_hours"].as_f64().unwrap_or(0.0),
        t["bands"]["lead_time"].as_str().unwrap_or("-"),
    );
    println!("\n$ andon alerts");
    for a in admin.alerts()? {
        if a.application.as_deref() == Some(g.app.as_str()) {
            println!(
                "    {}\t{}\t{}\t{}",
                a.severity, a.kind, a.subject, a.message
            );
        }
    }
    Ok(())
}
