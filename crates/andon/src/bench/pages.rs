//! `andon bench pages`: every page of the web interface, timed on the server (its
//! `Server-Timing` header) over a year of demo history, each beside the API answer it is
//! built on, measured in the same run.

use std::process::{Command, ExitCode};
use std::time::Duration;

use andon_client::Client;
use anyhow::{Context as _, anyhow};

use crate::bench::stats::percentile;
use crate::cli::context::Context;
use crate::fixtures::embedded::embedded;

/// Flags of `andon bench pages`.
#[derive(clap::Args, Debug)]
pub struct PagesBenchArgs {
    /// The database of the server started for the run (`temp`: a fresh SQLite file;
    /// or a postgres:// URL of an empty database).
    #[arg(long, default_value = "temp")]
    pub database: String,
    /// Days of delivery history the demo writes first (a year by default).
    #[arg(long, default_value_t = 365)]
    pub history_days: i64,
    /// Timed requests per page (after two untimed ones).
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// The target: the slowest page's 95th percentile, server-side, in milliseconds.
    #[arg(long, default_value_t = 200.0)]
    pub target_ms: f64,
}

struct Timing {
    server: Vec<Duration>,
    bytes: usize,
}

fn time(agent: &ureq::Agent, url: &str, token: &str, rounds: usize) -> anyhow::Result<Timing> {
    let mut server = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for i in 0..rounds + 2 {
        let mut r = agent
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .with_context(|| url.to_owned())?;
        if r.status() != 200 {
            return Err(anyhow!("{url}: {}", r.status()));
        }
        let ms: f64 = r
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("dur=").nth(1))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("{url}: no Server-Timing"))?;
        bytes = r.body_mut().read_to_string()?.len();
        if i >= 2 {
            server.push(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    server.sort();
    Ok(Timing { server, bytes })
}

/// A JSON answer of the server.
fn json(agent: &ureq::Agent, url: &str, token: &str) -> anyhow::Result<serde_json::Value> {
    let mut r = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .with_context(|| url.to_owned())?;
    Ok(serde_json::from_str(&r.body_mut().read_to_string()?)?)
}

/// Runs the benchmark.
pub fn run(_ctx: &Context, b: &PagesBenchArgs) -> anyhow::Result<ExitCode> {
    let server = embedded(&b.database)?;
    let started = std::time::Instant::now();
    let demo = Command::new(std::env::current_exe()?)
        .args([
            "--server",
            &server.url,
            "--token",
            &server.admin_token,
            "demo",
        ])
        .args(["--history-days", &b.history_days.to_string()])
        .env("ANDON_GITHUB_WEBHOOK_SECRET", &server.github_webhook_secret)
        .output()?;
    if !demo.status.success() {
        return Err(anyhow!(
            "the demo failed: {}",
            String::from_utf8_lossy(&demo.stderr)
        ));
    }
    let admin = Client::new(&server.url, Some(server.admin_token.clone()));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |path: &str| {
        json(
            &agent,
            &format!("{}{path}", server.url),
            &server.admin_token,
        )
    };
    let ledger = get("/v1/ledger")?;
    println!(
        "demo: {} days of history, ledger of {} entries, written in {:.0} s",
        b.history_days,
        ledger["size"],
        started.elapsed().as_secs_f64()
    );

    // The busiest application, its newest gated production deployment, a change, a
    // record of evidence, a control.
    let apps = admin.list_applications()?;
    let mut busiest = (String::new(), 0usize);
    for a in &apps {
        let name = a["name"].as_str().unwrap_or_default().to_owned();
        let n = get(&format!("/v1/deployments?application={name}&limit=1000"))?
            .as_array()
            .map_or(0, Vec::len);
        if n > busiest.1 {
            busiest = (name, n);
        }
    }
    let app = busiest.0;
    let deployments = get(&format!(
        "/v1/deployments?application={app}&environment=production&limit=50"
    ))?
    .as_array()
    .cloned()
    .unwrap_or_default();
    let deployment = deployments
        .iter()
        .find(|d| d["decision"].is_string())
        .and_then(|d| d["id"].as_str())
        .ok_or_else(|| anyhow!("no gated production deployment of {app}"))?
        .to_owned();
    let change = deployments[0]["change"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let evidence = get(&format!("/v1/evidence?app={app}&limit=1"))?;
    let record = evidence["evidence"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let index = evidence["evidence"][0]["ledger_index"].to_string();
    let matrix = get(&format!("/v1/controls?application={app}"))?;
    let control = matrix["controls"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let decisions: u64 = matrix["controls"][0]["decisions"].as_u64().unwrap_or(0);
    println!(
        "pages about {app}: {} deployments, {decisions} production decisions in the last 90 days\n",
        busiest.1
    );

    let auditor = admin
        .create_identity("bench-auditor", "auditor", &[])?
        .token;
    // Each page beside the API answer it is built on, timed in the same run: the ratio is
    // what gathering more and rendering HTML costs over the data itself.
    let pages: Vec<(&str, String, Option<String>)> = vec![
        ("overview", "/ui/".into(), None),
        (
            "evidence search",
            format!("/ui/evidence?app={app}"),
            Some(format!("/v1/evidence?app={app}&limit=50")),
        ),
        (
            "evidence by control",
            format!("/ui/evidence?app={app}&control={control}"),
            Some(format!("/v1/evidence?app={app}&control={control}&limit=50")),
        ),
        (
            "evidence record",
            format!("/ui/evidence/{record}"),
            Some(format!("/v1/evidence/{record}")),
        ),
        (
            "deployments",
            format!("/ui/deployments?application={app}"),
            Some(format!("/v1/deployments?application={app}&limit=100")),
        ),
        (
            "deployment trace",
            format!("/ui/deployments/{deployment}"),
            Some(format!("/v1/deployments/{deployment}")),
        ),
        (
            "risk control matrix",
            format!("/ui/controls?application={app}"),
            Some(format!("/v1/controls?application={app}")),
        ),
        (
            "control cases",
            format!("/ui/controls/{control}?application={app}"),
            Some(format!("/v1/controls?application={app}")),
        ),
        (
            "changes",
            "/ui/changes".into(),
            Some("/v1/changes?limit=200".into()),
        ),
        (
            "change and RFC",
            format!("/ui/changes/{change}"),
            Some(format!("/v1/changes/{change}/rfc.json")),
        ),
        (
            "access",
            "/ui/access".into(),
            Some("/v1/access/requests?limit=200".into()),
        ),
        (
            "alerts",
            "/ui/alerts".into(),
            Some("/v1/alerts?limit=500".into()),
        ),
        (
            "metrics charts",
            format!("/ui/metrics?application={app}"),
            Some(format!("/v1/metrics?application={app}&period=week")),
        ),
        (
            "ledger + inclusion",
            format!("/ui/ledger?index={index}"),
            Some(format!("/v1/ledger/proof/inclusion?index={index}")),
        ),
    ];
    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>9} {:>6} {:>7}",
        "page (server-side)", "p50 ms", "p95 ms", "max ms", "API p50", "x API", "KiB"
    );
    let mut worst = (String::new(), 0.0f64);
    for (name, path, api) in &pages {
        let t = time(&agent, &format!("{}{path}", server.url), &auditor, b.rounds)?;
        let base = api
            .as_ref()
            .map(|p| time(&agent, &format!("{}{p}", server.url), &auditor, b.rounds))
            .transpose()?
            .map(|a| percentile(&a.server, 0.5));
        let p50 = percentile(&t.server, 0.5);
        let p95 = percentile(&t.server, 0.95);
        println!(
            "{:<20} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>6} {:>7.1}",
            name,
            p50,
            p95,
            percentile(&t.server, 1.0),
            base.map(|b| format!("{b:.2}"))
                .unwrap_or_else(|| "-".into()),
            base.map(|b| format!("{:.1}", p50 / b.max(0.001)))
                .unwrap_or_else(|| "-".into()),
            t.bytes as f64 / 1024.0
        );
        if p95 > worst.1 {
            worst = ((*name).to_owned(), p95);
        }
    }
    println!(
        "\nslowest page: {} at {:.1} ms (p95, server-side); target {:.0} ms: {}",
        worst.0,
        worst.1,
        b.target_ms,
        if worst.1 <= b.target_ms {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(if worst.1 <= b.target_ms {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
