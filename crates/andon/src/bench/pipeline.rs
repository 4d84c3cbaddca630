//! `andon bench pipeline`: what Andon adds to a CI job on the paved road. Each run calls
//! the `andon` binary as a pipeline would, a cold process per step: six attestations of
//! real tools' reports (JUnit, LCOV, SARIF, CycloneDX, a vulnerability scan, SLSA
//! provenance), a gate, a deployment record. Reported: the added wall time per run, beside
//! the same number of bare `andon --version` processes measured in the same run.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::Sha256Digest;
use serde_json::json;

use crate::cli::context::Context;
use crate::fixtures::embedded::embedded;

/// Flags of `andon bench pipeline`.
#[derive(clap::Args, Debug)]
pub struct PipelineBenchArgs {
    /// Pipeline runs to time.
    #[arg(long, default_value_t = 10)]
    pub runs: u32,
    /// Start a server in this process on this database (`temp`: a fresh SQLite file).
    #[arg(long)]
    pub embedded: Option<String>,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Runs one step as a fresh process; its wall time. `allow_fail`: a gate's deny (exit 1) is
/// an answer, not an error.
fn step(
    exe: &Path,
    env: &[(&str, String)],
    args: &[String],
    allow_fail: bool,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()?;
    let took = started.elapsed();
    let code = out.status.code().unwrap_or(-1);
    anyhow::ensure!(
        code == 0 || (allow_fail && code == 1),
        "`andon {}` failed ({code}): {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(took)
}

/// Runs `andon bench pipeline`.
pub fn run(ctx: &Context, b: &PipelineBenchArgs) -> anyhow::Result<ExitCode> {
    let server = b.embedded.as_deref().map(embedded).transpose()?;
    let (url, token) = match &server {
        Some(s) => (s.url.clone(), Some(s.admin_token.clone())),
        None => (ctx.server.clone(), ctx.token.clone()),
    };
    let admin = Client::new(&url, token);
    let exe = std::env::current_exe()?;
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let app = format!("paved-{}", hex::encode(rnd));
    let (ci, key) = crate::fixtures::application::pipeline(&admin, &app, "bench")?;
    // Source control reports no reviews here: the gate checks what the job itself attests.
    admin.publish_policy(&json!({
        "name": format!("{app}-staging"), "applications": [app], "environments": ["staging"],
        "builtin": true, "disabled": ["peer-review", "pipeline-reviewed"],
    }))?;
    let dir = std::env::temp_dir().join(format!("andon-paved-{}", hex::encode(rnd)));
    std::fs::create_dir_all(&dir)?;
    let key_file = dir.join("ci.key");
    crate::cli::keys::save(&key_file, &key)?;
    let env = [
        ("ANDON_SERVER", url.clone()),
        ("ANDON_TOKEN", ci.token().unwrap_or_default().to_owned()),
        ("ANDON_APP", app.clone()),
        ("ANDON_KEY_FILE", key_file.display().to_string()),
    ];

    // The floor: as many bare processes as a run starts.
    let steps = 8;
    let mut bare = Vec::new();
    for _ in 0..b.runs.max(1) {
        let started = Instant::now();
        for _ in 0..steps {
            step(&exe, &[], &["--version".into()], false)?;
        }
        bare.push(millis(started.elapsed()));
    }

    eprintln!("timing {} pipeline runs against {url} ...", b.runs);
    let mut totals = Vec::new();
    let mut per_step: Vec<(String, Vec<f64>)> = Vec::new();
    let mut allowed = 0;
    for n in 0..b.runs.max(1) {
        let run = format!("{}", 5_000 + n);
        let commit = hex::encode(Sha256Digest::of(format!("{app}-{n}").as_bytes()).as_bytes())
            [..40]
            .to_owned();
        let subject = format!(
            "registry.example.com/{app}@{}",
            Sha256Digest::of(format!("{app}-image-{n}").as_bytes())
        );
        let files =
            crate::fixtures::sample_release::files(&format!("example/{app}"), &commit, &run)?;
        let mut calls: Vec<(String, Vec<String>, bool)> = Vec::new();
        for (verb, name, bytes) in &files {
            let path = dir.join(format!("{run}-{name}"));
            std::fs::write(&path, bytes)?;
            calls.push((
                format!("attest {verb}"),
                vec![
                    "attest".into(),
                    (*verb).into(),
                    "--subject".into(),
                    subject.clone(),
                    "--run".into(),
                    run.clone(),
                    "--file".into(),
                    path.display().to_string(),
                ],
                false,
            ));
        }
        calls.push((
            "gate".into(),
            vec![
                "gate".into(),
                "--artifact".into(),
                subject.clone(),
                "--env".into(),
                "staging".into(),
            ],
            true,
        ));
        calls.push((
            "deploy record".into(),
            vec![
                "deploy".into(),
                "record".into(),
                "--artifact".into(),
                subject.clone(),
                "--env".into(),
                "staging".into(),
                "--run".into(),
                run.clone(),
            ],
            false,
        ));
        let started = Instant::now();
        for (name, argv, may_deny) in &calls {
            let took = step(&exe, &env, argv, *may_deny)?;
            match per_step.iter_mut().find(|(n, _)| n == name) {
                Some((_, v)) => v.push(millis(took)),
                None => per_step.push((name.clone(), vec![millis(took)])),
            }
        }
        totals.push(millis(started.elapsed()));
        if admin
            .deployments(Some(&app), Some("staging"))?
            .first()
            .is_some_and(|d| !d.bypass)
        {
            allowed += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let total = median(totals.clone());
    let floor = median(bare);
    let report = json!({
        "server": url,
        "runs": b.runs,
        "steps_per_run": steps,
        "gates_allowed": allowed,
        "added_wall_time_ms": { "median": total, "max": totals.iter().cloned().fold(0.0, f64::max) },
        "bare_processes_ms": floor,
        "andon_work_ms": total - floor,
        "per_step_median_ms": per_step.into_iter().map(|(n, v)| (n, json!(median(v)))).collect::<serde_json::Map<_, _>>(),
        "target_ms": 1000,
        "meets_target": total < 1000.0,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
