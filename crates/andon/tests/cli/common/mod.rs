//! What the binary's test files share: starting `andon serve` as a child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use andon_testkit::TestDb;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_andon");
/// The GitHub webhook secret the servers are started with.
pub const WEBHOOK_SECRET: &str = "binary-test-secret";

/// A running `andon serve`.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub token: Option<String>,
}

impl Drop for Server {
    /// A test that fails leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one of `.ci/`'s prerequisite scripts (quietly nothing when all is there), so the
/// README's test command works on a fresh machine too.
pub fn install_prerequisites(script: &str) {
    let install = Command::new("bash")
        .arg(format!("{}/../../.ci/{script}", env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("bash");
    assert!(
        install.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&install.stderr)
    );
}

pub fn start(db: &TestDb, first: bool) -> Server {
    start_with(db, first, &[])
}

pub fn start_with(db: &TestDb, first: bool, extra: &[&str]) -> Server {
    start_at(&db.url, &db.dir(), first, extra)
}

pub fn start_at(url: &str, dir: &std::path::Path, first: bool, extra: &[&str]) -> Server {
    spawn_server(url, dir, first, extra, None)
}

/// `andon serve` on the database at `url` with its data directory `dir`, on a free port.
pub fn serve_command(url: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database",
        url,
        "--data-dir",
    ])
    .arg(dir);
    c
}

/// Starts `andon serve`; with `log`, at debug level with its log written there.
pub fn spawn_server(
    url: &str,
    dir: &std::path::Path,
    first: bool,
    extra: &[&str],
    log: Option<&std::path::Path>,
) -> Server {
    let mut c = serve_command(url, dir);
    c.env("ANDON_GITHUB_WEBHOOK_SECRET", WEBHOOK_SECRET);
    spawn(c, first, extra, log)
}

/// Starts `andon serve` as the README's quickstart does: nothing configured but the
/// database and the data directory (the webhook secrets are the server's own).
pub fn start_as_quickstart(db: &TestDb) -> Server {
    let mut c = serve_command(&db.url, &db.dir());
    c.env_remove("ANDON_GITHUB_WEBHOOK_SECRET")
        .env_remove("ANDON_GITLAB_WEBHOOK_TOKEN");
    spawn(c, true, &[], None)
}

fn spawn(mut c: Command, first: bool, extra: &[&str], log: Option<&std::path::Path>) -> Server {
    let stderr = match log {
        Some(p) => Stdio::from(std::fs::File::create(p).expect("log file")),
        None => Stdio::null(),
    };
    let mut child = c
        .args(extra)
        .env("RUST_LOG", if log.is_some() { "debug" } else { "warn" })
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn andon serve");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = lines.next().expect("a line").expect("utf-8");
    let url = line
        .strip_prefix("andon listening on ")
        .expect("listening line")
        .to_owned();
    let mut token = None;
    if first {
        // On a first start the next two lines carry the admin token.
        if let Some(Ok(l)) = lines.next()
            && l.starts_with("first start")
        {
            token = lines
                .next()
                .and_then(|l| l.ok())
                .and_then(|l| l.strip_prefix("ANDON_TOKEN=").map(str::to_owned));
        }
    }
    std::thread::spawn(move || for _ in lines {});
    Server { child, url, token }
}

/// `andon --server url --token tok args...`, as a pipeline or an operator runs it.
pub fn cli(url: &str, tok: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["--server", url, "--token", tok])
        .args(args)
        .output()
        .expect("run andon")
}
