//! The servers a benchmark starts for its run: `andon serve` processes on one database,
//! their resident memory, and the run's directory removed at the end.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::Context as _;

/// One `andon serve` child process.
pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server; the first on an empty database also reads the admin token it prints.
pub(crate) fn spawn(
    database: &str,
    dir: &std::path::Path,
    secret: &str,
    first: bool,
) -> anyhow::Result<(Served, Option<String>)> {
    spawn_with(database, dir, secret, first, &[])
}

/// [`spawn`], with more `andon serve` flags.
pub(crate) fn spawn_with(
    database: &str,
    dir: &std::path::Path,
    secret: &str,
    first: bool,
    extra: &[&str],
) -> anyhow::Result<(Served, Option<String>)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            database,
            "--data-dir",
        ])
        .arg(dir)
        .args(["--github-webhook-secret", secret])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(server_stderr()?)
        .spawn()
        .context("starting andon serve")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let line = lines.next().context("the server printed nothing")??;
    let url = line
        .strip_prefix("andon listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let mut token = None;
    if first
        && let Some(Ok(l)) = lines.next()
        && l.starts_with("first start")
    {
        token = lines
            .next()
            .and_then(|l| l.ok())
            .and_then(|l| l.strip_prefix("ANDON_TOKEN=").map(str::to_owned));
    }
    std::thread::spawn(move || for _ in lines {});
    Ok((Served { child, url }, token))
}

/// Where a server's diagnostics go: nowhere, or appended to the file
/// `ANDON_BENCH_SERVER_STDERR` names (with `RUST_LOG`, to see where a benchmark's time goes).
fn server_stderr() -> anyhow::Result<Stdio> {
    Ok(match std::env::var_os("ANDON_BENCH_SERVER_STDERR") {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.to_string_lossy()))?
            .into(),
        None => Stdio::null(),
    })
}

/// CPU time of a process so far (user and system), from `/proc/<pid>/stat`.
pub(crate) fn cpu_time(pid: u32) -> anyhow::Result<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses: state is the first,
    // utime the twelfth and stime the thirteenth, in clock ticks (USER_HZ, 100 on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, f)| f.split_whitespace().collect())
        .unwrap_or_default();
    let tick = |i: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("unreadable /proc/{pid}/stat"))?
            .parse()?)
    };
    Ok(std::time::Duration::from_millis(
        (tick(11)? + tick(12)?) * 10,
    ))
}

/// Resident memory of a process, in bytes (Linux).
pub(crate) fn rss(pid: u32) -> Option<u64> {
    status_bytes(pid, "VmRSS:")
}

/// A size field of `/proc/<pid>/status` (`VmRSS:`, `VmHWM:`, the peak), in bytes.
pub(crate) fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// One `andon serve` a benchmark starts for itself on a fresh database: in a temporary
/// directory of its own, removed when this is dropped (after the server is stopped).
pub(crate) struct BenchServer {
    /// The server (stopped first on drop).
    pub(crate) served: Served,
    /// The admin token the first start printed.
    pub(crate) token: Option<String>,
    /// Its database URL.
    pub(crate) database: String,
    _cleanup: Cleanup,
}

impl BenchServer {
    /// Starts a server for benchmark `name` on `database`, or on a fresh SQLite file when
    /// none is given (a PostgreSQL URL must name an empty database); `extra` are more
    /// `andon serve` flags. Its GitHub webhook secret is [`BENCH_SECRET`].
    pub(crate) fn start(
        name: &str,
        database: Option<&str>,
        extra: &[&str],
    ) -> anyhow::Result<Self> {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dir = std::env::temp_dir().join(format!("andon-bench-{name}-{}", hex::encode(rnd)));
        std::fs::create_dir_all(&dir)?;
        let cleanup = Cleanup(dir.clone());
        let database = database.map_or_else(
            || format!("sqlite://{}", dir.join("andon.db").display()),
            str::to_owned,
        );
        let (served, token) = spawn_with(&database, &dir, BENCH_SECRET, true, extra)?;
        Ok(Self {
            served,
            token,
            database,
            _cleanup: cleanup,
        })
    }
}

/// The GitHub webhook secret of the servers [`BenchServer::start`] starts.
pub(crate) const BENCH_SECRET: &str = "bench-secret";

/// Removes the run's directory (a temporary SQLite database and the log key).
pub(crate) struct Cleanup(pub(crate) std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
