//! `andon bench gate`: release-gate decisions over HTTP, beside the bare Rego engine
//! evaluating the same inputs in the same run.
//!
//! An `andon serve` child process on a fresh database records `--apps` applications with
//! `--releases` releases each (a pull request's webhook history and about fifty evidence
//! records per release, a waiver in force per application), gates every release once, and
//! then takes decisions at an offered rate in two cases, back to back: spread over every
//! release (each decision a different artifact's), and one release asked again and again.
//! The first gate of each release, sent one at a time, is reported as a case of its own:
//! later gates of an artifact find what the server gathered for it kept, when nothing it
//! read has changed since (`andon-app`'s `gates::gathered`).
//! The server's own CPU time per decision (from `/proc`) is reported beside the engine's
//! time per evaluation on the same inputs, one core.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use andon_client::Client;
use andon_domain::api::{GateRequest, WaiverRequest};
use andon_domain::{JUNIT_PREDICATE_V1, Sha256Digest, SigningKey, Statement};
use serde::Serialize;
use serde_json::Value;

use crate::bench::load::{BENCH_SECRET, BenchServer, cpu_time};
use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::cli::output::emit;
use crate::fixtures::application::pipeline;
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
    /// How long to offer the load, per case.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Applications.
    #[arg(long, default_value_t = 10)]
    pub apps: u32,
    /// Releases of each application.
    #[arg(long, default_value_t = 10)]
    pub releases: u32,
    /// Pipeline runs whose attestations each release carries (7 records each).
    #[arg(long, default_value_t = 7)]
    pub runs: u32,
    /// The database (a fresh SQLite file by default; a PostgreSQL URL must name an empty
    /// database).
    #[arg(long)]
    pub database: Option<String>,
    /// Also write the gate input of the first release here (for profiling the policy).
    #[arg(long)]
    pub save_input: Option<std::path::PathBuf>,
}

/// An application's pipeline: its client and signing key.
struct Pipeline {
    ci: Client,
    key: SigningKey,
    app: String,
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
    let p = Pipeline { ci, key, app };
    let artifact = record_release(admin, secret, &p, 0, runs)?;
    Ok((p.ci, p.app, artifact))
}

/// Release `n` of a pipeline's application: a pull request reviewed, merged and deployed to
/// staging, then `runs` pipeline runs of seven attestations; returns the artifact reference.
fn record_release(
    admin: &Client,
    secret: &str,
    p: &Pipeline,
    n: u32,
    runs: u32,
) -> anyhow::Result<String> {
    let app = &p.app;
    let hooks = Client::new(admin.base(), None);
    let mut hook = Hook {
        client: &hooks,
        secret,
        repository: format!("example/{app}"),
        sent: 0,
        run_id: format!("{app}-{n}"),
    };
    let sha = |what: &str| {
        hex::encode(Sha256Digest::of(format!("{app}-{n}-{what}").as_bytes()).as_bytes())[..40]
            .to_owned()
    };
    let (head, merge) = (sha("head"), sha("merge"));
    let number = 7 + u64::from(n);
    let branch = format!("feature/PAY-{number}");
    let pr = PullRequest {
        number,
        title: "PAY-7 refund limits",
        author: "alice",
        branch: &branch,
    };
    hook.push(&branch, &[(&head, "PAY-7 cap refunds", "alice")])?;
    hook.pull_request("opened", &pr, &head, None)?;
    hook.review(number, "bob", "approved", &head)?;
    hook.pull_request("closed", &pr, &head, Some((&merge, "bob")))?;
    hook.deployment_status(&merge, "staging", "success")?;
    let subject = (
        format!("registry.example.com/{app}"),
        Sha256Digest::of(format!("{app}-{n}-image").as_bytes()),
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
        let run_id = format!("{}", 9_100 + n * 100 + run);
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
            p.ci.submit_evidence(app, Some(&run_id), Some(kind), &st.sign(&p.key))?;
        }
    }
    Ok(format!("{}@{}", subject.0, subject.1))
}

/// An application with its releases recorded and a waiver in force, approved by `approver`.
fn application(
    admin: &Client,
    approver: &Client,
    secret: &str,
    app: String,
    releases: u32,
    runs: u32,
) -> anyhow::Result<Vec<(Client, GateRequest)>> {
    let (ci, key) = pipeline(admin, &app, "bench")?;
    let waiver = ci.request_waiver(&WaiverRequest {
        application: app.clone(),
        control: "vulnerabilities".into(),
        vulnerability: Some("CVE-2018-7489".into()),
        reason: "a build-time dependency, not shipped in the image".into(),
        ticket: "SEC-214".into(),
        hours: 72,
    })?;
    approver.approve_waiver(waiver["id"].as_str().unwrap_or_default())?;
    let p = Pipeline { ci, key, app };
    (0..releases)
        .map(|n| {
            let artifact = record_release(admin, secret, &p, n, runs)?;
            Ok((
                p.ci.clone(),
                GateRequest {
                    application: p.app.clone(),
                    artifact,
                    environment: "production".into(),
                    ..Default::default()
                },
            ))
        })
        .collect()
}

/// The figures of one case (the first gates are sent one at a time: no offered rate).
#[derive(Serialize)]
struct Case {
    what: String,
    releases: usize,
    offered_per_second: u32,
    decisions: usize,
    errors: usize,
    decisions_per_second: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// The server process's CPU time (user and system) per decision.
    server_cpu_ms_per_decision: f64,
    /// That over the bare engine's time per evaluation.
    cpu_ratio_to_engine: f64,
}

impl Case {
    /// A case from its sorted latencies, its duration and the server's CPU time over it.
    #[allow(clippy::too_many_arguments)]
    fn of(
        what: &str,
        releases: usize,
        offered_per_second: u32,
        lat: &[Duration],
        errors: usize,
        elapsed_s: f64,
        cpu_ms: f64,
        engine_ms: f64,
    ) -> Self {
        let per_decision = cpu_ms / lat.len().max(1) as f64;
        Case {
            what: what.into(),
            releases,
            offered_per_second,
            decisions: lat.len(),
            errors,
            decisions_per_second: lat.len() as f64 / elapsed_s.max(1e-9),
            p50_ms: percentile(lat, 0.50),
            p90_ms: percentile(lat, 0.90),
            p99_ms: percentile(lat, 0.99),
            max_ms: percentile(lat, 1.0),
            server_cpu_ms_per_decision: per_decision,
            cpu_ratio_to_engine: per_decision / engine_ms.max(1e-9),
        }
    }
}

/// The bare engine on the same inputs, one core.
#[derive(Serialize)]
struct Engine {
    evaluations_per_second_one_core: f64,
    ms_per_evaluation: f64,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize)]
struct Figures {
    server: String,
    applications: u32,
    releases: usize,
    evidence_records_per_release: usize,
    controls: usize,
    clients: usize,
    bare_engine: Engine,
    cases: Vec<Case>,
}

/// Offers `rate` decisions a second over `targets` (round robin) from `clients` threads.
fn offer(
    pid: u32,
    targets: &[(Client, GateRequest)],
    b: &GateBenchArgs,
    what: &str,
    engine_ms: f64,
) -> anyhow::Result<Case> {
    eprintln!(
        "offering {} decisions/s over {} release(s) with {} clients for {} s ...",
        b.rate,
        targets.len(),
        b.clients,
        b.seconds
    );
    let clients = b.clients.max(1);
    let interval = Duration::from_secs_f64(clients as f64 / f64::from(b.rate.max(1)));
    let until = Duration::from_secs(b.seconds);
    let cpu_before = cpu_time(pid)?;
    let start = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let targets = targets.to_vec();
            std::thread::spawn(move || {
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                let mut slot = start + interval.mul_f64(i as f64 / clients as f64);
                let mut k = i;
                while slot.duration_since(start) < until {
                    let now = Instant::now();
                    if slot > now {
                        std::thread::sleep(slot - now);
                    }
                    let (c, req) = &targets[k % targets.len()];
                    k += clients;
                    match c.gate(req) {
                        Ok(d) if d.decision.allow => lat.push(slot.elapsed()),
                        outcome => {
                            if errors == 0 {
                                eprintln!("first error: {:?}", outcome.map(|d| d.decision));
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
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_time(pid)?.saturating_sub(cpu_before).as_secs_f64() * 1e3;
    lat.sort();
    Ok(Case::of(
        what,
        targets.len(),
        b.rate,
        &lat,
        errors,
        elapsed,
        cpu,
        engine_ms,
    ))
}

/// The bare engine evaluating `inputs` round robin for three seconds on this thread.
fn engine(inputs: &[Value]) -> anyhow::Result<Engine> {
    let policy = andon_policy::Policy::compile(andon_policy::Bundle::builtin_default())?;
    let mut lat = Vec::new();
    let t = Instant::now();
    for input in inputs.iter().cycle() {
        if t.elapsed() >= Duration::from_secs(3) {
            break;
        }
        let s = Instant::now();
        let e = policy.evaluate(input);
        lat.push(s.elapsed());
        anyhow::ensure!(e.allow, "the bare engine disagrees with the server");
    }
    let secs = t.elapsed().as_secs_f64();
    lat.sort();
    Ok(Engine {
        evaluations_per_second_one_core: lat.len() as f64 / secs,
        ms_per_evaluation: lat.iter().sum::<Duration>().as_secs_f64() * 1e3 / lat.len() as f64,
        p50_ms: percentile(&lat, 0.50),
        p99_ms: percentile(&lat, 0.99),
    })
}

/// Runs `andon bench gate`.
pub fn run(ctx: &Context, b: &GateBenchArgs) -> anyhow::Result<ExitCode> {
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
    let suffix = hex::encode(rnd);
    let server = BenchServer::start("gate", b.database.as_deref(), &[])?;
    let served = &server.served;
    let secret = BENCH_SECRET;
    let admin = Client::new(&served.url, server.token.clone());
    let issued = admin.create_identity(&format!("carol-{suffix}"), "approver", &[])?;
    let approver = Client::new(admin.base(), Some(issued.token));
    eprintln!(
        "recording {} applications of {} releases, {} evidence records each ...",
        b.apps,
        b.releases,
        b.runs * 7
    );
    // Two recorders at a time: the server's two cores do the work.
    let mut targets = Vec::new();
    let apps: Vec<u32> = (0..b.apps.max(1)).collect();
    for pair in apps.chunks(2) {
        let recorded: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|a| {
                    let (admin, approver) = (&admin, &approver);
                    let app = format!("gatebench-{suffix}-{a}");
                    s.spawn(move || {
                        application(admin, approver, secret, app, b.releases.max(1), b.runs)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        for r in recorded {
            targets.extend(r.map_err(|_| anyhow::anyhow!("a recorder panicked"))??);
        }
    }
    eprintln!("gating each of {} releases once ...", targets.len());
    let pid = served.child.id();
    let mut ids = Vec::new();
    let mut controls = 0;
    let (cpu_before, started) = (cpu_time(pid)?, Instant::now());
    let mut first_lat = Vec::new();
    for (c, req) in &targets {
        let t = Instant::now();
        let d = c.gate(req)?;
        first_lat.push(t.elapsed());
        anyhow::ensure!(
            d.decision.allow,
            "the benchmark release should be allowed: {:?}",
            d.decision.controls
        );
        controls = d.decision.controls.len();
        ids.push(d.id);
    }
    let first_cpu = cpu_time(pid)?.saturating_sub(cpu_before).as_secs_f64() * 1e3;
    let first_elapsed = started.elapsed().as_secs_f64();
    first_lat.sort();
    let inputs = ids
        .iter()
        .map(|id| Ok(admin.decision(id)?.decision.input))
        .collect::<anyhow::Result<Vec<Value>>>()?;
    let evidence = inputs[0]["evidence"].as_array().map_or(0, Vec::len);
    if let Some(path) = &b.save_input {
        std::fs::write(path, serde_json::to_vec_pretty(&inputs[0])?)?;
    }
    let bare = engine(&inputs)?;
    let first = Case::of(
        "first gate of each release",
        targets.len(),
        0,
        &first_lat,
        0,
        first_elapsed,
        first_cpu,
        bare.ms_per_evaluation,
    );
    let spread = offer(
        pid,
        &targets,
        b,
        "spread over every release",
        bare.ms_per_evaluation,
    )?;
    let repeated = offer(
        pid,
        &targets[..1],
        b,
        "one release, repeated",
        bare.ms_per_evaluation,
    )?;
    let errors = spread.errors + repeated.errors;
    let figures = Figures {
        server: served.url.clone(),
        applications: b.apps.max(1),
        releases: targets.len(),
        evidence_records_per_release: evidence,
        controls,
        clients: b.clients.max(1),
        bare_engine: bare,
        cases: vec![first, spread, repeated],
    };
    emit(ctx.output, &figures, |f| {
        println!(
            "gate decisions: {} releases of {} applications, {} evidence records and {} controls each, {} clients",
            f.releases, f.applications, f.evidence_records_per_release, f.controls, f.clients
        );
        println!(
            "  bare engine, same inputs, one core: {:.0} evaluations/s, {:.2} ms each (p50 {:.2}, p99 {:.2})",
            f.bare_engine.evaluations_per_second_one_core,
            f.bare_engine.ms_per_evaluation,
            f.bare_engine.p50_ms,
            f.bare_engine.p99_ms
        );
        for c in &f.cases {
            println!(
                "  {:<28} offered {}/s: {:>7.0}/s  p50 {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>8.2} ms  server CPU {:.2} ms a decision ({:.1}x the engine)  errors {}",
                c.what,
                c.offered_per_second,
                c.decisions_per_second,
                c.p50_ms,
                c.p90_ms,
                c.p99_ms,
                c.max_ms,
                c.server_cpu_ms_per_decision,
                c.cpu_ratio_to_engine,
                c.errors
            );
        }
    })?;
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
