//! The demo's quarter of history: three teams that deliver differently (one deploys twice a
//! day and rarely fails, one twice a week, one every three weeks and often fails), each
//! release pushed with its commits' author times, built with provenance, gated, deployed at
//! its time in the past, some failing and restored; then the four keys per team, whose
//! bands differ. The history is imported today, so its facts are older than the server's
//! late window: an admin records them with the reason (docs/changes.md, "Time"), and the
//! figures count them as late.

use andon_client::Client;
use andon_domain::Sha256Digest;
use andon_domain::api::{DeploymentRequest, DeploymentStateRequest, GateRequest, LateRequest};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::fixtures::github_history::Hook;

/// How a team delivers.
struct Profile {
    app: &'static str,
    team: &'static str,
    /// Hours between production deployments.
    every_hours: i64,
    /// Typical hours from commit to production.
    lead_hours: i64,
    /// One deployment in this many fails.
    fail_every: u32,
    /// Minutes from a failure to its restoration.
    restore_minutes: i64,
}

const PROFILES: [Profile; 3] = [
    Profile {
        app: "checkout",
        team: "team-checkout",
        every_hours: 12,
        lead_hours: 3,
        fail_every: 30,
        restore_minutes: 25,
    },
    Profile {
        app: "ledger",
        team: "team-finance",
        every_hours: 84,
        lead_hours: 60,
        fail_every: 9,
        restore_minutes: 6 * 60,
    },
    Profile {
        app: "reports",
        team: "team-data",
        every_hours: 21 * 24,
        lead_hours: 18 * 24,
        fail_every: 3,
        restore_minutes: 3 * 24 * 60,
    },
];

/// Every built-in control but provenance is off for the history: its releases are checked
/// for what they really carry (signed provenance from a trusted builder), no more.
const OFF: [&str; 12] = [
    "peer-review",
    "pipeline-reviewed",
    "tests-pass",
    "coverage",
    "static-analysis",
    "sbom",
    "vulnerabilities",
    "change-approval",
    "tested-before-production",
    "no-secrets",
    "dynamic-scan",
    "hardening",
];

/// Why the history's facts are recorded although they are older than the late window.
const IMPORTED: &str = "demo history: a quarter of deliveries imported from the old deploy log";

fn imported() -> Option<LateRequest> {
    Some(LateRequest {
        reason: IMPORTED.into(),
    })
}

/// A deterministic jitter in [-1, 1) from a label.
fn jitter(label: &str) -> f64 {
    let h = Sha256Digest::of(label.as_bytes());
    let b = h.as_bytes();
    f64::from(u16::from_le_bytes([b[0], b[1]])) / 32_768.0 - 1.0
}

/// What the history left for the telemetry part: the elite team's application, its last
/// deployment and when it ran.
pub struct History {
    /// The application.
    pub app: String,
    /// Its pipeline client.
    pub ci: Client,
    /// Its last production deployment's id.
    pub last_deployment: String,
    /// The artifact that deployment runs.
    pub last_artifact: String,
    /// When that deployment ran.
    pub last_at: Timestamp,
}

/// Drives the quarter; needs the GitHub webhook secret for the commits (lead times).
pub fn run(
    admin: &Client,
    secret: &str,
    suffix: &str,
    days: i64,
) -> anyhow::Result<Option<History>> {
    let end = Timestamp::now() - SignedDuration::from_hours(24);
    let start = end - SignedDuration::from_hours(days.max(1) * 24);
    let hooks = Client::new(admin.base(), None);
    let names: Vec<String> = PROFILES
        .iter()
        .map(|p| format!("{}-{suffix}", p.app))
        .collect();
    println!(
        "\n  {days} days of delivery history ({} to {}) for three teams:",
        start.strftime("%Y-%m-%d"),
        end.strftime("%Y-%m-%d")
    );
    let mut history = None;
    for (p, name) in PROFILES.iter().zip(&names) {
        let (ci, key) = crate::fixtures::application::pipeline(admin, name, p.team)?;
        admin.publish_policy(&json!({
            "name": format!("{name}-history"), "applications": [name], "environments": ["production"],
            "builtin": true, "disabled": OFF,
        }))?;
        let repo = format!("example/{name}");
        let mut hook = Hook {
            client: &hooks,
            secret,
            repository: repo.clone(),
            sent: 0,
            run_id: format!("history-{name}"),
        };
        let (mut deployed, mut failed) = (0, 0);
        let mut at = start + SignedDuration::from_hours(p.every_hours / 2);
        let mut i = 0u32;
        let mut last = None;
        while at < end {
            i += 1;
            let label = format!("{name}-{i}");
            let commits: Vec<(String, String, Timestamp)> = (0..2)
                .map(|j| {
                    let sha = hex::encode(
                        Sha256Digest::of(format!("{label}-c{j}").as_bytes()).as_bytes(),
                    )[..40]
                        .to_owned();
                    let lead = p.lead_hours as f64 * (1.0 + 0.5 * jitter(&format!("{label}{j}")));
                    let authored = at - SignedDuration::from_secs_f64(lead * 3600.0);
                    (sha, format!("{} change {i}.{j}", p.app), authored)
                })
                .collect();
            let pushed: Vec<(&str, &str, &str, Timestamp)> = commits
                .iter()
                .map(|(sha, m, t)| (sha.as_str(), m.as_str(), "dev", *t))
                .collect();
            hook.push_at("main", &pushed)?;
            let head = &commits[1].0;
            let run = format!("{}", 7_000_000 + i);
            let subject = (
                format!("registry.example.com/{}", p.app),
                Sha256Digest::of(label.as_bytes()),
            );
            let provenance = andon_domain::Statement::new(
                vec![subject.clone()],
                "https://slsa.dev/provenance/v1".into(),
                crate::fixtures::build::provenance(
                    &format!("https://github.com/{repo}"),
                    head,
                    &run,
                ),
            );
            ci.submit_evidence(name, Some(&run), Some("provenance"), &provenance.sign(&key))?;
            let artifact = format!("{}@{}", subject.0, subject.1);
            let decision = ci.gate(&GateRequest {
                application: name.clone(),
                artifact: artifact.clone(),
                environment: "production".into(),
                ..Default::default()
            })?;
            anyhow::ensure!(
                decision.decision.allow,
                "a history release was denied: {:?}",
                decision.decision.controls
            );
            let artifact_ref = artifact.clone();
            let d = admin.record_deployment(&DeploymentRequest {
                application: name.clone(),
                artifact,
                environment: "production".into(),
                decision: Some(decision.id.clone()),
                run: Some(run),
                deployed_at: Some(at.to_string()),
                late: imported(),
                ..Default::default()
            })?;
            let id = d["deployment"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            deployed += 1;
            if i.is_multiple_of(p.fail_every) {
                failed += 1;
                let failed_at = at + SignedDuration::from_mins(20);
                let restored = failed_at
                    + SignedDuration::from_mins(
                        (p.restore_minutes as f64 * (1.0 + 0.3 * jitter(&label))) as i64,
                    );
                // A restoration still to come is not history: that failure stays open.
                let happened = [("failed", failed_at), ("restored", restored)]
                    .into_iter()
                    .filter(|(_, t)| *t < Timestamp::now());
                for (state, t) in happened {
                    admin.deployment_state(
                        &id,
                        &DeploymentStateRequest {
                            state: state.into(),
                            at: Some(t.to_string()),
                            note: Some(format!("INC-{}{i}", &p.app[..2].to_uppercase())),
                            late: imported(),
                        },
                    )?;
                }
            }
            last = Some((id, at, artifact_ref));
            at += SignedDuration::from_secs_f64(
                p.every_hours as f64 * 3600.0 * (1.0 + 0.2 * jitter(&format!("{label}-next"))),
            );
        }
        println!(
            "    {name} ({}): {deployed} production deployments, each pushed, built with provenance, gated; {failed} of them failed and were restored; recorded late by an admin: \"{IMPORTED}\"",
            p.team
        );
        if history.is_none()
            && let Some((id, at, artifact)) = last
        {
            history = Some(History {
                app: name.clone(),
                ci: ci.clone(),
                last_deployment: id,
                last_artifact: artifact,
                last_at: at,
            });
        }
    }
    let since = start.strftime("%Y-%m-%d").to_string();
    let until = (end + SignedDuration::from_hours(24))
        .strftime("%Y-%m-%d")
        .to_string();
    println!(
        "\n$ andon metrics --team <team> --period week --since {since} --until {until}    # the four keys of the history, with their DORA bands"
    );
    println!(
        "    {:<14} {:>8} {:>22} {:>22} {:>22} {:>22} {:>6}",
        "team",
        "deploys",
        "frequency",
        "lead time p50",
        "change failure rate",
        "time to restore p50",
        "late"
    );
    for p in &PROFILES {
        let m = admin.metrics(&[
            ("team", p.team.to_owned()),
            ("period", "week".to_owned()),
            ("since", since.clone()),
            ("until", until.clone()),
        ])?;
        let t = &m["total"];
        let b = |k: &str| t["bands"][k].as_str().unwrap_or("-").to_owned();
        let num = |k: &str, scale: f64, unit: &str| {
            t[k].as_f64()
                .map_or("-".to_owned(), |v| format!("{:.1}{unit}", v * scale))
        };
        println!(
            "    {:<14} {:>8} {:>22} {:>22} {:>22} {:>22} {:>6}",
            p.team,
            t["deployments"],
            format!(
                "{:.1}/week {}",
                t["deployments"].as_f64().unwrap_or(0.0) * 7.0 / days.max(1) as f64,
                b("deployment_frequency")
            ),
            format!(
                "{} {}",
                num("lead_time_median_hours", 1.0, " h"),
                b("lead_time")
            ),
            format!(
                "{} {}",
                num("change_failure_rate", 100.0, "%"),
                b("change_failure_rate")
            ),
            format!(
                "{} {}",
                num("time_to_restore_median_minutes", 1.0 / 60.0, " h"),
                b("time_to_restore")
            ),
            t["late"],
        );
    }
    Ok(history)
}
