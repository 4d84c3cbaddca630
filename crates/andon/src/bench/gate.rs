//! `andon bench gate`: release-gate decisions over HTTP for an artifact with about fifty
//! evidence records and the whole built-in library, at an offered rate, beside the bare
//! Rego engine evaluating the same input in the same run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::api::GateRequest;
use andon_domain::{JUNIT_PREDICATE_V1, Sha256Digest, Statement};

use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::fixtures::application::pipeline;
use crate::fixtures::embedded::embedded;
use crate::fixtures::github_history::{Hook, PullRequest};

/// Flags of `andon bench gate`.
#[derive(clap::Args, Debug)]
pub struct GateBenchArgs {
    /// Offered load, decisions per second, spread over the clients on a fixed schedule
    /// (latency counts from the scheduled start, so a stall is not hidden).
    #[arg(long, default_value_t = 1000)]
    pub rate: u32,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// How long to offer the load.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Pipeline runs whose attestations the artifact carries (7 records each).
    #[arg(long, default_value_t = 7)]
    pub runs: u32,
    /// Start a server in this process on this database (`temp`: a fresh SQLite file).
    #[arg(long)]
    pub embedded: Option<String>,
    /// Also write the gate input of the benchmark release here (for profiling the policy).
    #[arg(long)]
    pub save_input: Option<std::path::PathBuf>,
    /// The server's GitHub webhook secret (with --server; --embedded sets its own).
    #[arg(long, env = "ANDON_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,
}

/// Sends the history and evidence of one realistic release; returns its pipeline's client,
/// the application and the artifact reference.
pub(crate) fn release(
    admin: &Client,
    secret: &str,
    suffix: &str,
    runs: u32,
) -> anyhow::Result<(Client, String, String)> {
    let app = format!("gatebench-{suffix}");
    let (ci, key) = pipeline(admin, &app, "bench")?;
    let hooks = Client::new(admin.base(), None);
    let mut hook = Hook {
        client: &hooks,
        secret,
        repository: format!("example/{app}"),
        sent: 0,
        run_id: app.clone(),
    };
    let head =
        hex::encode(Sha256Digest::of(format!("{app}-head").as_bytes()).as_bytes())[..40].to_owned();
    let merge = hex::encode(Sha256Digest::of(format!("{app}-merge").as_bytes()).as_bytes())[..40]
        .to_owned();
    let pr = PullRequest {
        number: 7,
        title: "PAY-7 refund limits",
        author: "alice",
        branch: "feature/PAY-7",
    };
    hook.push("feature/PAY-7", &[(&head, "PAY-7 cap refunds", "alice")])?;
    hook.pull_request("opened", &pr, &head, None)?;
    hook.review(7, "bob", "approved", &head)?;
    hook.pull_request("closed", &pr, &head, Some((&merge, "bob")))?;
    hook.deployment_status(&merge, "staging", "success")?;
    let subject = (
        format!("registry.example.com/{app}"),
        Sha256Digest::of(format!("{app}-image").as_bytes()),
    );
    let junit = {
        let cases: String = (0..212)
            .map(|i| format!("<testcase name=\"t{i}\" classname=\"pay\" time=\"0.01\"/>"))
            .collect();
        format!(
            "<?xml version=\"1.0\"?><testsuites><testsuite name=\"pay\">{cases}</testsuite></testsuites>"
        )
    };
    for run in 0..runs {
        let run_id = format!("{}", 9_100 + run);
        let mut statements = vec![
            (
                "provenance",
                Statement::new(
                    vec![subject.clone()],
                    "https://slsa.dev/provenance/v1".into(),
                    crate::fixtures::build::provenance(
                        &format!("https://github.com/example/{app}"),
                        &merge,
                        &run_id,
                    ),
                ),
            ),
            (
                "junit",
                crate::fixtures::sample_release::report(
                    &subject,
                    JUNIT_PREDICATE_V1,
                    junit.as_bytes(),
                    &format!("runs/{run_id}/junit.xml"),
                ),
            ),
        ];
        statements.extend(crate::fixtures::sample_release::evidence(
            &subject,
            &format!("example/{app}"),
            &merge,
            &run_id,
            false,
        )?);
        for (kind, st) in statements {
            ci.submit_evidence(&app, Some(&run_id), Some(kind), &st.sign(&key))?;
        }
    }
    Ok((ci, app, format!("{}@{}", subject.0, subject.1)))
}

/// Runs `andon bench gate`.
pub fn run(ctx: &Context, b: &GateBenchArgs) -> anyhow::Result<ExitCode> {
    let server = b.embedded.as_deref().map(embedded).transpose()?;
    let (url, token, secret) = match &server {
        Some(s) => (
            s.url.clone(),
            Some(s.admin_token.clone()),
            Some(s.github_webhook_secret.clone()),
        ),
        None => (
            ctx.server.clone(),
            ctx.token.clone(),
            b.github_webhook_secret.clone(),
        ),
    };
    let secret = secret.ok_or_else(|| {
        anyhow::anyhow!("the benchmark replays GitHub webhooks: pass --github-webhook-secret")
    })?;
    let admin = Client::new(&url, token);
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "recording a release with {} evidence records ...",
        b.runs * 7
    );
    let (ci, app, artifact) = release(&admin, &secret, &hex::encode(rnd), b.runs)?;
    let req = GateRequest {
        application: app,
        artifact,
        environment: "production".into(),
        production: None,
        ..Default::default()
    };
    let first = ci.gate(&req)?;
    anyhow::ensure!(
        first.decision.allow,
        "the benchmark release should be allowed: {:?}",
        first.decision.controls
    );
    let stored = admin.decision(&first.id)?;
    let evidence = stored.decision.input["evidence"]
        .as_array()
        .map_or(0, Vec::len);
    if let Some(path) = &b.save_input {
        std::fs::write(path, serde_json::to_vec_pretty(&stored.decision.input)?)?;
    }

    // The bare engine on the same input, one core.
    let policy = andon_policy::Policy::compile(andon_policy::Bundle::builtin_default())?;
    let input = stored.decision.input.clone();
    let mut engine_lat = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        let s = Instant::now();
        let e = policy.evaluate(&input);
        engine_lat.push(s.elapsed());
        anyhow::ensure!(e.allow, "the bare engine disagrees");
    }
    let engine_rate = engine_lat.len() as f64 / t.elapsed().as_secs_f64();
    engine_lat.sort();

    // HTTP at the offered rate.
    eprintln!(
        "offering {} decisions/s with {} clients for {} s ...",
        b.rate, b.clients, b.seconds
    );
    let clients = b.clients.max(1);
    let interval = Duration::from_secs_f64(clients as f64 / f64::from(b.rate.max(1)));
    let until = Duration::from_secs(b.seconds);
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let c = ci.clone();
            let req = req.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                let mut errors = 0usize;
                let mut slot = start + interval.mul_f64(i as f64 / clients as f64);
                while slot.duration_since(start) < until {
                    let now = Instant::now();
                    if slot > now {
                        std::thread::sleep(slot - now);
                    }
                    match c.gate(&req) {
                        Ok(_) => lat.push(slot.elapsed()),
                        Err(e) => {
                            if errors == 0 {
                                eprintln!("first error: {e}");
                            }
                            errors += 1;
                        }
                    }
                    slot += interval;
                }
                (lat, errors)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let http_p50 = percentile(&lat, 0.50);
    let engine_p50 = percentile(&engine_lat, 0.50);
    let report = serde_json::json!({
        "server": url,
        "evidence_records": evidence,
        "controls": first.decision.controls.len(),
        "offered_per_second": b.rate,
        "clients": clients,
        "decisions": lat.len(),
        "errors": errors,
        "decisions_per_second": lat.len() as f64 / elapsed,
        "decision_latency_ms": { "p50": http_p50, "p90": percentile(&lat, 0.90), "p99": percentile(&lat, 0.99), "max": percentile(&lat, 1.0) },
        "bare_engine": {
            "evaluations_per_second_one_core": engine_rate,
            "latency_ms": { "p50": engine_p50, "p99": percentile(&engine_lat, 0.99) },
        },
        "overhead_ratio_p50": if engine_p50 > 0.0 { http_p50 / engine_p50 } else { 0.0 },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
