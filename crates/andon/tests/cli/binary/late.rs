//! Time is bounded, as operators and pipelines meet it in the CLI: `andon serve
//! --late-window` sets the window; a deployment or an account use older than it is refused
//! for the pipeline (too_late, saying how to record it anyway), `--late "reason"` is an
//! admin's, and the listing shows what was recorded late, with the reason.

use andon_domain::Sha256Digest;
use andon_domain::api::AccountInput;
use andon_testkit::{Backend, TestDb, both_backends};
use jiff::{SignedDuration, Timestamp};

use crate::binary::helpers::*;
use crate::common::*;

const REASON: &str = "hand deployment during INC-305, found in the on-call log";

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn a_late_fact_needs_an_admins_reason_on_the_command_line(b: Backend) {
    let db = TestDb::new(b);
    let server = start_with(&db, true, &["--late-window", "48h"]);
    let admin_token = server.token.clone().expect("admin token");
    let (admin, issued, _) = pay_pipeline(&server.url, &admin_token, 9);
    let ci = issued.token.as_str();
    let now = Timestamp::now();
    let ago = |h: i64| (now - SignedDuration::from_hours(h)).to_string();
    let artifact = |n: &str| {
        format!(
            "registry.example.com/pay@{}",
            Sha256Digest::of(n.as_bytes())
        )
    };
    let record = |token: &str, n: &str, at: &str, late: Option<&str>| {
        let a = artifact(n);
        let mut args = vec![
            "deploy",
            "record",
            "--app",
            "pay",
            "--artifact",
            &a,
            "--env",
            "production",
            "--at",
            at,
        ];
        if let Some(reason) = late {
            args.extend(["--late", reason]);
        }
        cli(&server.url, token, &args)
    };

    // Within the configured window (48 hours): recorded.
    let out = record(ci, "yesterday", &ago(30), None);
    assert!(out.status.success(), "{:?}", text(&out));
    // Older: refused, and nothing recorded.
    let out = record(ci, "hand", &ago(72), None);
    let (_, err) = text(&out);
    assert!(!out.status.success());
    assert!(err.contains("too_late"), "{err}");
    assert!(err.contains("late window (2d)"), "{err}");
    assert!(err.contains("(CLI: --late"), "{err}");
    // The pipeline may not say it is late.
    let out = record(ci, "hand", &ago(72), Some(REASON));
    let (_, err) = text(&out);
    assert!(!out.status.success());
    assert!(err.contains("403 late_not_allowed"), "{err}");
    assert_eq!(
        admin.deployments(Some("pay"), None).expect("list").len(),
        1,
        "only the deployment within the window"
    );
    // The admin may, with the reason.
    let out = record(&admin_token, "hand", &ago(72), Some(REASON));
    let (stdout, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        stdout.contains(&format!(
            "recorded late (older than the late window), allowed by admin: {REASON}"
        )),
        "{stdout}"
    );
    let out = cli(&server.url, ci, &["deploy", "list", "--app", "pay"]);
    let (stdout, _) = text(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two deployments: {stdout}");
    assert!(
        lines[0].starts_with("ID ")
            && lines[0].contains("DEPLOYED AT")
            && lines[0].ends_with("NOTES"),
        "{stdout}"
    );
    let late: Vec<&&str> = lines.iter().filter(|l| l.contains("LATE")).collect();
    assert_eq!(late.len(), 1, "{stdout}");
    assert!(
        late[0].ends_with(&format!("LATE: {REASON} (allowed by admin)")),
        "{stdout}"
    );

    // A standing account's use, the same way.
    admin
        .register_account(&AccountInput {
            name: "db-root".into(),
            environment: "production".into(),
            application: Some("pay".into()),
            owners: vec!["dana".into()],
        })
        .expect("account");
    let at = ago(72);
    let used = |token: &str, late: Option<&str>| {
        let mut args = vec!["access", "account", "use", "db-root", "--at", &at];
        if let Some(reason) = late {
            args.extend(["--late", reason]);
        }
        cli(&server.url, token, &args)
    };
    let (_, err) = text(&used(ci, None));
    assert!(err.contains("too_late"), "{err}");
    let (_, err) = text(&used(ci, Some("from the bastion's log")));
    assert!(err.contains("late_not_allowed"), "{err}");
    let out = used(&admin_token, Some("from the bastion's log"));
    let (stdout, err) = text(&out);
    assert!(out.status.success(), "{err}");
    // The register's row: one use, counted in the USES column.
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("db-root "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(row.iter().rev().nth(1), Some(&"1"), "{stdout}");
}

both_backends!(a_late_fact_needs_an_admins_reason_on_the_command_line);
