//! The demo against a live server, and the benchmarks that double as end-to-end checks
//! (the paved-road pipeline, the load mix).

use std::process::Command;

use andon_testkit::{Backend, TestDb, both_backends};

use crate::binary::helpers::*;
use crate::common::*;

fn the_demo_runs_against_a_live_server(b: Backend) {
    // The server as the quickstart starts it: no webhook secret given. The demo asks the
    // server for the one it keeps, and skips nothing.
    let db = TestDb::new(b);
    let server = start_as_quickstart(&db);
    let token = server.token.clone().expect("admin token");
    let out = Command::new(BIN)
        .args([
            "--server",
            &server.url,
            "--token",
            &token,
            "demo",
            "--builds",
            "4",
            "--history-days",
            "42",
            "--package-out",
            db.dir().join("demo.tar").to_str().expect("path"),
        ])
        .env_remove("ANDON_GITHUB_WEBHOOK_SECRET")
        .output()
        .expect("demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sent 16 attestations"), "{text}");
    // The server's own audit of its store, the tables replayed from the ledger included.
    assert!(
        text.contains(&format!(
            "stored checkpoints, and {} tables against the ledger replayed",
            andon_app::projection::PROJECTED_TABLES.len()
        )),
        "{text}"
    );
    // Identities: an admin-minted token approves nothing, and is revoked; the list is shown.
    assert!(
        text.contains("refused (403 token_not_own)")
            && text.contains("the token now gets 401")
            && text.contains("$ andon identity list"),
        "{text}"
    );
    // The late fact: refused for the pipeline, recorded by the admin with the reason, and
    // marked in the listing and the metrics.
    assert!(
        text.contains("refused (too_late): deployed_at ")
            && text.contains("), allowed by admin: hand deployment during INC-305")
            && text.contains("LATE: hand deployment during INC-305")
            && text.contains("# 1 late fact(s) in the figures"),
        "{text}"
    );
    // The audit package of the demo's application verifies offline.
    assert!(
        text.contains("$ andon export package --app payments-")
            && text.contains("against a checkpoint of size")
            && text.contains("documents, controls.csv and report.html match"),
        "{text}"
    );
    // ... and is kept, with the command that checks it, which works as printed.
    let check = text
        .lines()
        .find(|l| l.trim_start().starts_with("andon verify --package "))
        .expect("the printed verify command");
    let key = check.split('\'').nth(1).expect("the quoted log key");
    let kept = Command::new(BIN)
        .args(["verify", "--package"])
        .arg(db.dir().join("demo.tar"))
        .args(["--log-key", key])
        .output()
        .expect("andon verify --package");
    assert!(
        kept.status.success() && check.contains("demo.tar"),
        "{check}: {}",
        String::from_utf8_lossy(&kept.stderr)
    );
    // The matrix as OSCAL, and the auditor's way into the web interface.
    assert!(
        text.contains("OSCAL 1.2.3 assessment results: ") && text.contains("held every time"),
        "{text}"
    );
    assert!(
        text.contains(&format!("The web interface: {}/ui/", server.url))
            && text.contains("Sign in as the auditor auditor-"),
        "{text}"
    );
    let payments = text
        .split("andon export package --app ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("the demo's payments application")
        .to_owned();
    let cd = cli(
        &server.url,
        &token,
        &[
            "export",
            "controls",
            "--app",
            &payments,
            "--format",
            "oscal-component-definition",
        ],
    );
    assert!(
        cd.status.success(),
        "{}",
        String::from_utf8_lossy(&cd.stderr)
    );
    let cd: serde_json::Value = serde_json::from_slice(&cd.stdout).expect("json");
    assert_eq!(
        cd["component-definition"]["metadata"]["oscal-version"],
        "1.2.3"
    );
    let csv = cli(
        &server.url,
        &token,
        &["export", "controls", "--app", &payments],
    );
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with("decisions,error,evidence,fail,"), "{csv}");
    // The replayed pull-request history: one change per application approved only by its
    // author, traced from its artifact back to the review.
    assert!(
        text.contains("GitHub webhooks replayed: 8 pull requests; 6 independently approved on the merged head, 0 with commits pushed after the approval, 2 merged without an independent review"),
        "{text}"
    );
    assert!(text.contains("✗ approved only by its author"), "{text}");
    assert!(text.contains("PAY-43 (branch"), "{text}");
    // Gates: the self-approved release is denied with what to do; the vulnerable one is
    // allowed once a second person approves a waiver; a decision replays.
    assert!(text.contains("peer-review               FAIL"), "{text}");
    assert!(text.contains("what to do:"), "{text}");
    assert!(text.contains("waived: CVE-2018-7489"), "{text}");
    assert!(text.contains("same verdict on every control"), "{text}");
    // Change management: one change of each class, a DBA's approval, an overdue review, a
    // bypass; the RFC lists exactly what was pushed between the two production deployments
    // (build 1 deployed as a standard change, the normal change built from build 2).
    for wanted in [
        "standard  CHG-",
        "awaits approval: 0 of 1 (from dba)",
        "(dba), gate asked again: ALLOW",
        "emergency CHG-",
        "emergency_review_overdue",
        "gate_bypass",
        "marked failed (INC-309), then restored",
    ] {
        assert!(text.contains(wanted), "{wanted} missing:\n{text}");
    }
    let rfc = text
        .split("$ andon change show")
        .nth(1)
        .and_then(|r| r.split("emergency CHG-").next())
        .expect("the RFC in the demo output");
    let commits: Vec<&str> = rfc
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("- `"))
        .collect();
    assert_eq!(commits.len(), 2, "{rfc}");
    assert!(commits[0].contains("PAY-42 first cut"), "{rfc}");
    assert!(commits[1].contains("Merge pull request #102"), "{rfc}");
    assert!(rfc.contains("- Tickets: #102, PAY-42\n"), "{rfc}");
    assert!(!rfc.contains("PAY-41") && !rfc.contains("PAY-43"), "{rfc}");
    // A game day before the CVE: the drill rehearses a rebuild through the gates to
    // production, finishes with its time to production and a signed retrospective, and
    // payments becomes a high-risk application.
    for wanted in [
        "$ andon drill start --app payments-",
        "the production gate allows it, it ships as D-",
        "(completed, entry ",
        "start → first evidence ",
        "during it: 1 runs, 1 gate decisions, 1 deployments",
        "signed by the server's key as a DSSE envelope, sha256:",
        "high-risk applications must have drilled within 90 days (control drill-recent)",
    ] {
        assert!(text.contains(wanted), "{wanted} missing:\n{text}");
    }
    // The clean payments release and storefront's ship, then a CVE is published: its OSV
    // record imported, one alert for each application, the artifacts running in production
    // and the five built ones that carry setuptools 65.5.0 named with the fix.
    let story = text
        .split("$ andon vuln import PYSEC-2022-43012.json")
        .nth(1)
        .and_then(|t| t.split(" days of delivery history").next())
        .expect("the vulnerability story in the demo output");
    for wanted in [
        "alert vulnerability_in_production (medium): PYSEC-2022-43012 (CVE-2022-40897, GHSA-r9hx-vwmv-q579), medium severity, affects payments-",
        "advisory PYSEC-2022-43012 (medium; CVE-2022-40897, GHSA-r9hx-vwmv-q579)",
        "  production:\n    payments-",
        "built into 5 artifacts running nowhere",
        "affects storefront-",
        "setuptools 65.5.0, fixed in 65.5.1",
        // One item per application, due in 30 days; storefront's closed by its PSIRT's VEX.
        "  detected     P3 medium   payments-",
        "CVE-2022-40897 (team-payments), due ",
        ": P3 medium, closed\n",
        "by Storefront PSIRT for sha256:",
        ": not_affected (vulnerable_code_not_in_execute_path)",
        // Payments ships the fix through the gates, within its deadline; the drill beside it.
        "--env production    # ALLOW; drill-recent: drill DR-",
        " fix_built    sha256:",
        " fix_deployed sha256:",
        "runs in production without CVE-2022-40897",
        "security lead time (detected → fix in production): 1 fixed, 1 within the deadline, p50 ",
        ": 1 finished, time to production p50 ",
        // The pipeline's Trivy scan of the running image opens items of its own.
        "  detected     P4 low      payments-",
        "CVE-2019-1547 (team-payments), due ",
    ] {
        assert!(story.contains(wanted), "{wanted} missing:\n{story}");
    }
    // Production's cluster asks before pods start: the allowed release is admitted, an
    // image by tag refused with its control and its ledger entry.
    for wanted in [
        "pod with the allowed payments release: admitted",
        "pod with a hotfix image by tag, never gated: REFUSED, andon: payments/payments-web container web: registry.example.com/payments:hotfix is not pinned by digest (control image_pinned) (ledger entry ",
    ] {
        assert!(text.contains(wanted), "{wanted} missing:\n{text}");
    }
    // Six weeks of history for three teams whose delivery differs, and their bands.
    let row = |team: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(team))
            .unwrap_or_else(|| panic!("no metrics row for {team}:\n{text}"))
            .to_owned()
    };
    let checkout = row("team-checkout ");
    assert!(
        checkout.contains("/week elite") && checkout.contains(" h elite"),
        "{checkout}"
    );
    assert!(row("team-finance ").contains("/week high"), "{text}");
    let data = row("team-data ");
    assert!(
        !data.contains("/week elite") && !data.contains("/week high"),
        "{data}"
    );
    // Telemetry: each rule's alert, and the suspect deployment.
    for wanted in [
        "ALERT high login_failures",
        "ALERT high unplanned_config_change: security_group.change by mallory",
        "ALERT medium unscheduled_maintenance",
        "ALERT high error_spike",
        "is now marked suspect",
        // Production access: self-approval refused, the unknown digest alerted with the
        // grant active then, and the debt of the demo period exactly: 2 uses x 10 + 1 write
        // grant x 5 + 1 read grant x 1.
        "approving her own request was refused",
        "ALERT high unauthorized_change",
        "held write access (AR-",
        "Production Access Debt of the demo period: 26 points (2 account uses x 10, 1 write grant x 5, 1 read grant x 1)",
    ] {
        assert!(text.contains(wanted), "{wanted} missing:\n{text}");
    }
    assert!(text.contains("proof of"), "{text}");
    every_listing_is_an_aligned_table(&server.url, &token);
    assert!(verify(&[], &server.url, &token).0);
    drop(server_guard(server));
    a_row_deleted_from_each_table_is_named(&db);
}

/// On the demo's history: a hostile administrator deletes one row from every table a read
/// uses (dropping or disabling the guards first); `andon verify --database` names each.
fn a_row_deleted_from_each_table_is_named(db: &TestDb) {
    let (ok, report) = verify(&["--database", &db.url], "http://127.0.0.1:1", "unused");
    assert!(ok, "the demo's database verifies before: {report}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let mut touched = Vec::new();
    let mut empty = Vec::new();
    rt.block_on(async {
        let store = andon_store::Store::connect(&db.url).await.expect("store");
        for p in andon_app::projection::PROJECTED_TABLES {
            let (table, key) = (&p.table, p.key);
            let guard = match db.backend {
                Backend::Sqlite => format!("DROP TRIGGER IF EXISTS {table}_no_delete"),
                Backend::Postgres => format!("ALTER TABLE {table} DISABLE TRIGGER USER"),
            };
            store.raw_execute_for_tests(&guard).await.expect(&guard);
            let key = key.join(", ");
            let delete = format!(
                "DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} ORDER BY {key} LIMIT 1)"
            );
            match store.raw_execute_for_tests(&delete).await.expect(&delete) {
                0 => empty.push(*table),
                _ => touched.push(*table),
            }
        }
    });
    let (ok, report) = verify(&["--database", &db.url], "http://127.0.0.1:1", "unused");
    assert!(!ok, "{report}");
    let text = report["problems"].to_string();
    for table in &touched {
        assert!(
            text.contains(&format!("table {table}")),
            "the row deleted from {table} is not named: {report}"
        );
    }
    // The demo's history reaches nearly every table.
    assert!(
        touched.len() >= 25,
        "only {touched:?} had rows; empty: {empty:?}"
    );
}

/// The paved-road benchmark's pipeline works end to end (its timing is for BENCHMARKS.md,
/// not for a test): six attestations, an allowed gate, a deployment, each a cold process.
#[test]
fn the_paved_road_pipeline_runs() {
    let out = Command::new(BIN)
        .args(["bench", "pipeline", "--embedded", "temp", "--runs", "1"])
        .output()
        .expect("bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(r["gates_allowed"], 1, "{r:#}");
    assert_eq!(
        r["per_step_median_ms"].as_object().map(|o| o.len()),
        Some(8),
        "{r:#}"
    );
    assert!(r["added_wall_time_ms"]["median"].as_f64() > Some(0.0));
}

/// `andon bench load` drives every kind of call against the servers it starts (two on
/// PostgreSQL, sharing one ledger) and reports them without errors, with each server's
/// memory; it samples throughput, storage and memory every interval and reports each
/// table's growth; the ledger it leaves behind verifies.
fn the_load_command_drives_every_kind_of_call(b: Backend) {
    let db = TestDb::new(b);
    let (database, servers) = match b {
        Backend::Sqlite => ("temp".to_owned(), "1"),
        Backend::Postgres => (db.url.clone(), "2"),
    };
    let out = Command::new(BIN)
        .args(["--output", "json", "bench", "load", "--database", &database])
        .args(["--servers", servers, "--clients", "4", "--seconds", "3"])
        .args(["--interval", "1"])
        .output()
        .expect("andon bench load");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    let kinds: Vec<&str> = report["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .filter(|k| k["calls"].as_u64() > Some(0))
        .filter_map(|k| k["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "attest",
            "gate",
            "webhook",
            "deploy",
            "search_evidence",
            "search_subject",
            "ledger_head",
            "trace",
            "list_deployments"
        ],
        "{report}"
    );
    assert_eq!(
        report["memory"].as_array().map(Vec::len),
        Some(servers.parse().expect("n")),
        "{report}"
    );
    assert!(
        report["memory"][0]["rss_peak_mib"].as_f64() > Some(1.0),
        "{report}"
    );
    let samples = report["samples"].as_array().expect("samples");
    assert!(samples.len() >= 3, "one a second: {report}");
    let entries: Vec<u64> = samples
        .iter()
        .filter_map(|s| s["ledger_entries"].as_u64())
        .collect();
    assert_eq!(entries.len(), samples.len(), "{report}");
    assert!(
        entries.windows(2).all(|w| w[0] <= w[1]) && entries[0] > 0,
        "the ledger only grows: {entries:?}"
    );
    for s in samples {
        assert!(s["calls_per_second"].as_f64() > Some(0.0), "{s}");
        assert!(s["database_mib"].as_f64() > Some(0.0), "{s}");
        assert_eq!(
            s["rss_mib"].as_array().map(Vec::len),
            Some(servers.parse().expect("n")),
            "{s}"
        );
        // SQLite's write-ahead log is reported; PostgreSQL has none of its own to report.
        assert_eq!(s["wal_mib"].is_f64(), b == Backend::Sqlite, "{s}");
    }
    let evidence = report["growth"]
        .as_array()
        .expect("growth")
        .iter()
        .find(|g| g["table"] == "evidence")
        .unwrap_or_else(|| panic!("the evidence table grew: {report}"));
    assert!(
        evidence["table_mib_per_100k"].as_f64() > Some(0.0),
        "{report}"
    );
    if b == Backend::Postgres {
        let (ok, r) = verify(&["--database", &db.url], "http://127.0.0.1:1", "unused");
        assert!(ok, "{r}");
    }
}

/// `andon bench impact` at a small size: the SBOMs recorded, each query answered with the
/// exact counts the generated history implies, beside the bare index read.
fn the_impact_benchmark_answers_each_query(b: Backend) {
    let db = TestDb::new(b);
    let mut cmd = Command::new(BIN);
    cmd.args(["--output", "json", "bench", "impact"]).args([
        "--artifacts",
        "40",
        "--components",
        "10",
        "--apps",
        "4",
        "--queries",
        "2",
    ]);
    if b == Backend::Postgres {
        cmd.args(["--database", &db.url]);
    }
    let out = cmd.output().expect("andon bench impact");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (r["artifacts"].as_u64(), r["components"].as_u64()),
        (Some(40), Some(400)),
        "{r}"
    );
    let counts: Vec<(u64, u64)> = r["queries"]
        .as_array()
        .expect("queries")
        .iter()
        .map(|q| {
            (
                q["affected"].as_u64().unwrap_or(99),
                q["built"].as_u64().unwrap_or(99),
            )
        })
        .collect();
    // The common package is in all 40 SBOMs: 4 applications x 2 environments run one each,
    // 32 run nowhere. Version 1.3.0 of it is in none (every artifact has 1.0.0); the
    // advisory's range (< 1.5.0) takes them all; the rare package is in none.
    assert_eq!(counts, [(8, 32), (0, 0), (8, 32), (0, 0)], "{r}");
    for q in r["queries"].as_array().expect("queries") {
        assert!(q["p50_ms"].as_f64().is_some_and(|v| v > 0.0), "{q}");
        assert!(q["bare_p50_ms"].as_f64().is_some_and(|v| v > 0.0), "{q}");
    }
}

/// A second of each admission case: every review answered as the case expects (the bench
/// checks each answer), the figures present.
fn the_admission_benchmark_runs_each_case(b: Backend) {
    let db = TestDb::new(b);
    let mut cmd = Command::new(BIN);
    cmd.args(["--output", "json", "bench", "admission"])
        .args(["--clients", "2", "--seconds", "1"]);
    if b == Backend::Postgres {
        cmd.args(["--database", &db.url]);
    }
    let out = cmd.output().expect("andon bench admission");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cases = r["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 3, "{r}");
    for c in cases {
        assert!(c["reviews"].as_u64().is_some_and(|n| n > 0), "{c}");
        assert!(c["p99_ms"].as_f64().is_some_and(|v| v > 0.0), "{c}");
    }
    assert_eq!(r["containers"], 5);
    assert!(r["bare_p50_ms"].as_f64().is_some_and(|v| v > 0.0), "{r}");
}

/// A second of each gate case over two applications of two releases each: every decision
/// allowed (the bench counts any other answer as an error), the server's CPU per decision
/// and the bare engine on the same inputs reported.
fn the_gate_benchmark_spreads_its_decisions_over_every_release(b: Backend) {
    let db = TestDb::new(b);
    let mut cmd = Command::new(BIN);
    cmd.args(["--output", "json", "bench", "gate"])
        .args(["--apps", "2", "--releases", "2", "--runs", "1"])
        .args(["--clients", "2", "--rate", "20", "--seconds", "1"]);
    if b == Backend::Postgres {
        cmd.args(["--database", &db.url]);
    }
    let out = cmd.output().expect("andon bench gate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["releases"], 4, "{r}");
    assert_eq!(r["evidence_records_per_release"], 7, "{r}");
    let cases = r["cases"].as_array().expect("cases");
    let releases: Vec<u64> = cases
        .iter()
        .filter_map(|c| c["releases"].as_u64())
        .collect();
    assert_eq!(releases, [4, 4, 1], "{r}");
    for c in cases {
        assert!(c["decisions"].as_u64().is_some_and(|n| n > 0), "{c}");
        assert_eq!(c["errors"], 0, "{c}");
        assert!(
            c["server_cpu_ms_per_decision"]
                .as_f64()
                .is_some_and(|v| v > 0.0),
            "{c}"
        );
    }
    assert!(
        r["bare_engine"]["ms_per_evaluation"]
            .as_f64()
            .is_some_and(|v| v > 0.0),
        "{r}"
    );
}

/// Forty envelopes to a server the benchmark starts, one per request and then four per
/// request: every one acknowledged (the bench counts any other answer as an error), the
/// server's CPU per record and the raw verification rate of the same run reported.
fn the_ingest_benchmark_reports_the_servers_cpu_per_record(b: Backend) {
    for per_request in ["1", "4"] {
        let db = TestDb::new(b);
        let database = match b {
            Backend::Sqlite => "temp".to_owned(),
            Backend::Postgres => db.url.clone(),
        };
        let out = Command::new(BIN)
            .args(["--output", "json", "bench", "ingest", "--spawn", &database])
            .args([
                "--clients",
                "3",
                "--records",
                "40",
                "--per-request",
                per_request,
            ])
            .output()
            .expect("andon bench ingest");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(r["acknowledged"], 40, "{r}");
        assert_eq!(r["errors"], 0, "{r}");
        for figure in [
            "records_per_second",
            "server_cpu_us_per_record",
            "server_cpu_ratio_to_raw_verification",
            "raw_verifications_per_second_one_core",
        ] {
            assert!(r[figure].as_f64().is_some_and(|v| v > 0.0), "{figure}: {r}");
        }
    }
}

both_backends!(
    the_ingest_benchmark_reports_the_servers_cpu_per_record,
    the_load_command_drives_every_kind_of_call,
    the_gate_benchmark_spreads_its_decisions_over_every_release,
    the_demo_runs_against_a_live_server,
    the_impact_benchmark_answers_each_query,
    the_admission_benchmark_runs_each_case,
);

/// Every listing a person reads, on the demo's history: a header of column names, one row
/// per item under it (the last column starts at the same place on every line), no tabs and
/// no JSON.
fn every_listing_is_an_aligned_table(url: &str, token: &str) {
    for verb in [
        "app list",
        "identity list",
        "token list",
        "evidence list",
        "deploy list",
        "change list",
        "alerts",
        "policy list",
        "waiver list",
        "access list",
        "access grants",
        "access standing",
        "access account list",
        "telemetry list",
        "telemetry rules",
    ] {
        let args: Vec<&str> = verb.split(' ').collect();
        let out = cli(url, token, &args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "andon {verb}: {stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(
            lines.len() >= 2,
            "andon {verb}: a header and rows:\n{stdout}"
        );
        let header = lines[0];
        assert!(
            header
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' '),
            "andon {verb}: the first line is the column names:\n{stdout}"
        );
        let last = header
            .rfind("  ")
            .map(|i| i + 2)
            .expect("two columns or more");
        let last = last + header[last..].len() - header[last..].trim_start().len();
        for row in &lines[1..] {
            assert!(
                !row.contains('\t') && !row.contains("{\"") && !row.contains("[\""),
                "andon {verb}: {row}"
            );
            assert!(
                row.len() <= last || row.as_bytes()[last - 1] == b' ',
                "andon {verb}: the last column out of line:\n{stdout}"
            );
        }
    }
}
