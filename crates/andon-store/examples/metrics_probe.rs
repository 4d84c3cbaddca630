//! The delivery metrics at scale: seeds a year of production history for 200 applications
//! (about a million deployments, two commits each, one in twenty failed) into a fresh
//! SQLite store, then times the metrics of one application, of a team, per week and per day
//! (the store's query and the computation: what `GET /v1/metrics` does).
//!
//! `cargo run --release -p andon-store --example metrics_probe [-- <apps> <deploys per app per day>]`
//!
//! The rows are written straight into the tables (no ledger entries): this measures reading.

use std::time::Instant;

use andon_metrics::{Arrival, Deploy, Period, report};
use andon_store::Store;

const DAY: i64 = 86_400_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let apps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let per_day: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(14);
    let dir = std::env::temp_dir().join(format!("andon-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}/m.db", dir.display());
    let store = Store::connect(&url).await?;
    let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rw")).await?;
    let end = 1_767_225_600_000_i64; // 2026-01-01T00:00:00Z
    let start = end - 365 * DAY;
    let t = Instant::now();
    let mut n = 0u64;
    for a in 0..apps {
        let app = format!("app-{a:03}");
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO applications (name, team, ledger_idx, created_at) VALUES (?, ?, 0, 0)",
        )
        .bind(&app)
        .bind(format!("team-{:02}", a % 20))
        .execute(&mut *tx)
        .await?;
        for day in 0..365 {
            for k in 0..per_day {
                let at = start + day * DAY + (k as i64) * (DAY / per_day as i64);
                let id = format!("D-{a:03}-{day:03}-{k:02}");
                let failed = n.is_multiple_of(20).then_some(at + 600_000);
                let restored = failed
                    .filter(|_| !n.is_multiple_of(40))
                    .map(|f| f + 1_800_000);
                sqlx::query(
                    "INSERT INTO deployments (id, ledger_idx, application, environment, production, artifact_name, artifact_digest, recorded_by, bypass, deployed_at, state, failed_at, restored_at) \
                     VALUES (?, ?, ?, 'production', 1, 'img', ?, 'ci', 0, ?, 'deployed', ?, ?)",
                )
                .bind(&id)
                .bind(n as i64)
                .bind(&app)
                .bind(format!("sha256:{n:064x}"))
                .bind(at)
                .bind(failed)
                .bind(restored)
                .execute(&mut *tx)
                .await?;
                for c in 0..2 {
                    sqlx::query(
                        "INSERT INTO deployment_commits (deployment_id, application, sha, committed_at) VALUES (?, ?, ?, ?)",
                    )
                    .bind(&id)
                    .bind(&app)
                    .bind(format!("{n:038x}{c:02x}"))
                    .bind(at - (c as i64 + 1) * 3_600_000 * ((n % 30) as i64 + 1))
                    .execute(&mut *tx)
                    .await?;
                }
                n += 1;
            }
        }
        tx.commit().await?;
    }
    println!(
        "seeded {n} deployments ({} commits) for {apps} applications in {:.1} s",
        n * 2,
        t.elapsed().as_secs_f64()
    );
    for (label, app, team, period) in [
        (
            "one application, a year per week",
            Some("app-007"),
            None,
            Period::Week,
        ),
        (
            "one application, a year per day",
            Some("app-123"),
            None,
            Period::Day,
        ),
        (
            "a team (10 applications), a year per week",
            None,
            Some("team-05"),
            Period::Week,
        ),
        (
            "a team (10 applications), a year per month",
            None,
            Some("team-11"),
            Period::Month,
        ),
    ] {
        let mut times = Vec::new();
        let mut deployments = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let rows = store.metric_deployments(app, team, start, end).await?;
            let deploys: Vec<Deploy> = rows
                .into_iter()
                .map(|d| Deploy {
                    scope: d.scope,
                    rework: false,
                    at: d.deployed_at,
                    failed_at: d.failed_at,
                    restored_at: d.restored_at,
                    commit_times: d.commit_times,
                    arrivals: d
                        .arrivals
                        .into_iter()
                        .map(|(recorded_at, late)| Arrival { recorded_at, late })
                        .collect(),
                })
                .collect();
            // Read once the year has ended, as a report on a closed period is.
            let r = report(&deploys, start, end, period, end);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            deployments = r.total.deployments;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{label}: {deployments} deployments, best {:.0} ms, median {:.0} ms",
            times[0], times[2]
        );
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
