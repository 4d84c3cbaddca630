//! The demo's security telemetry: traffic around a deployment that goes bad (a 5xx spike
//! makes it suspect), a password-guessing run, a firewall opened by hand, a configuration
//! change the pipeline made, and maintenance nobody scheduled. Each rule's alert is shown.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::demo::history::History;

fn at(t: Timestamp) -> String {
    t.to_string()
}

/// Sends the telemetry and prints what it raised.
pub fn run(h: &History) -> anyhow::Result<()> {
    let app = h.app.as_str();
    let d = h.last_at;
    let minutes = |m: i64| d + SignedDuration::from_mins(m);
    let traffic = |t: Timestamp, count: u32, errors: u32| {
        json!({"kind": "http.requests", "at": at(t), "source": "ingress-nginx", "application": app,
               "environment": "production", "count": count, "status_4xx": count / 50, "status_5xx": errors})
    };
    let mut events: Vec<Value> = Vec::new();
    // Five-minute counts from an hour before the deployment to forty minutes after: about
    // 0.2% errors, then 9% once the new version takes traffic.
    for m in (-60..40).step_by(5) {
        let errors = if (5..30).contains(&m) { 110 } else { 2 };
        events.push(traffic(minutes(m), 1200, errors));
    }
    // Sign-ins to the admin console: a few users, then a guessing run from one address.
    for m in 0..6 {
        events.push(
            json!({"kind": "login.success", "at": at(minutes(90 + m)), "source": "okta",
                           "application": app, "actor": format!("user{m}"), "count": 1}),
        );
    }
    events.push(
        json!({"kind": "login.failure", "at": at(minutes(97)), "source": "okta",
                       "application": app, "actor": "admin", "count": 240,
                       "detail": "from 203.0.113.45"}),
    );
    // The pipeline's own configuration change, named by its deployment; a firewall opened
    // by hand three hours later; maintenance switched on at night without a change record.
    events.push(
        json!({"kind": "config.change", "at": at(minutes(2)), "source": "k8s-audit",
                       "application": app, "environment": "production", "actor": "deploy-bot",
                       "deployment": h.last_deployment, "detail": "ConfigMap checkout-settings"}),
    );
    events.push(
        json!({"kind": "security_group.change", "at": at(minutes(180)), "source": "cloudtrail",
                       "application": app, "environment": "production", "actor": "mallory",
                       "detail": "AuthorizeSecurityGroupIngress 0.0.0.0/0 tcp/22"}),
    );
    events.push(
        json!({"kind": "maintenance.on", "at": at(minutes(300)), "source": "ops-console",
                       "application": app, "environment": "production", "actor": "oncall"}),
    );
    let r = h.ci.send_telemetry(&serde_json::to_vec(&events)?)?;
    println!(
        "\n$ andon telemetry send events.json    # {} events from ingress, Okta, Kubernetes audit, CloudTrail and the ops console",
        r["accepted"]
    );
    println!(
        "    one ledger entry #{} holds their digest {}",
        r["ledger_index"],
        r["digest"].as_str().unwrap_or("")
    );
    crate::cli::output::print_alerts(&r, "    ");
    let suspect =
        h.ci.deployments(Some(app), Some("production"))?
            .into_iter()
            .find(|x| x.id == h.last_deployment)
            .and_then(|x| x.suspect_at);
    if suspect.is_some() {
        println!(
            "    deployment {} is now marked suspect; the configuration change its pipeline made raised nothing",
            h.last_deployment
        );
    }
    Ok(())
}
