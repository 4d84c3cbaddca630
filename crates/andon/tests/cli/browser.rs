//! The web interface in a real browser: Debian's headless Chromium, driven by
//! playwright-core (`tests/browser/ui.mjs`), against a server on a free port filled by the
//! demo. An auditor signs in, searches evidence, opens a deployment's trace, exports a CSV,
//! walks every page with JavaScript off, checks an inclusion proof, and axe-core finds no
//! WCAG A/AA violation; a screenshot of each page is saved under the target directory.
//!
//! SQLite only: the browser sees what the pages render, and the pages' storage paths run
//! on both backends in andon-server's `web` tests. Needs what `.ci/browser.sh` installs,
//! and fails (never skips) without it.

use crate::common::*;

use andon_testkit::{Backend, TestDb};
use std::process::Command;

const PAGES: &[&str] = &[
    "01-sign-in",
    "02-overview",
    "03-evidence-search",
    "04-evidence-record",
    "05-ledger-inclusion",
    "06-deployments",
    "07-deployment-trace",
    "08-controls",
    "09-control-cases",
    "10-changes",
    "11-access",
    "12-alerts",
    "13-metrics",
    "14-ledger",
    "15-change-rfc",
    "16-vulnerabilities",
];

#[test]
fn an_auditor_walks_the_web_interface_in_chromium() {
    crate::common::install_prerequisites("browser.sh");
    let deps =
        std::env::var("ANDON_BROWSER_DEPS").unwrap_or_else(|_| "/var/tmp/andon-browser".into());
    assert!(
        std::path::Path::new(&deps)
            .join("node_modules/playwright-core")
            .exists()
            && std::path::Path::new("/usr/bin/chromium").exists(),
        "the browser tests need Chromium and playwright-core: run .ci/browser.sh"
    );
    let db = TestDb::new(Backend::Sqlite);
    let server = start(&db, true);
    let admin = server.token.clone().expect("admin token");
    let demo = Command::new(BIN)
        .args([
            "--server",
            &server.url,
            "--token",
            &admin,
            "demo",
            "--builds",
            "6",
            "--package-out",
            db.dir().join("demo.tar").to_str().expect("path"),
        ])
        .env("ANDON_GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .output()
        .expect("demo");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let created = cli(
        &server.url,
        &admin,
        &["identity", "create", "ann-auditor", "--role", "auditor"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let code = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .expect("the enrollment code line")
        .trim()
        .to_owned();
    let enrolled = cli(&server.url, "", &["enroll", &code]);
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let auditor = String::from_utf8_lossy(&enrolled.stdout)
        .lines()
        .last()
        .expect("the token line")
        .trim()
        .to_owned();

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/ui.mjs");
    let run = Command::new("node")
        .arg(script)
        .env("ANDON_URL", &server.url)
        .env("ANDON_AUDITOR_TOKEN", &auditor)
        .env("SCREENSHOTS", &shots)
        .env("BROWSER_DEPS", &deps)
        .output()
        .expect("node");
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    println!("{out}");
    for page in PAGES {
        let png = shots.join(format!("{page}.png"));
        let size = std::fs::metadata(&png)
            .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
            .len();
        assert!(size > 10_000, "{} is only {size} bytes", png.display());
    }
}
