//! Test support: a throwaway database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests use `ANDON_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) to create a fresh database per test and drop it
//! afterwards. When PostgreSQL is unreachable they fail with a message saying so: they never
//! skip.

pub mod oidc;

use std::path::PathBuf;

use sqlx::Connection as _;

/// Which backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the machine's PostgreSQL.
    Postgres,
}

/// The PostgreSQL URL tests create their databases from.
pub fn postgres_admin_url() -> String {
    std::env::var("ANDON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database that exists for one test.
pub struct TestDb {
    /// The URL to give Andon.
    pub url: String,
    /// The backend.
    pub backend: Backend,
    dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// Creates a fresh, empty database (blocking; callable from sync and async tests).
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", dir.path().join("andon.db").display()),
                backend,
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let mut rnd = [0u8; 8];
                getrandom::fill(&mut rnd).expect("randomness");
                let name = format!("andon_t_{}", hex::encode(rnd));
                let admin = postgres_admin_url();
                let (admin2, name2) = (admin.clone(), name.clone());
                run_blocking(async move {
                    let (admin, name) = (admin2, name2);
                    let mut c = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                        panic!(
                            "PostgreSQL is required for this test and is unreachable at {admin}: {e}. \
                             Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) \
                             or set ANDON_TEST_POSTGRES_URL."
                        )
                    });
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut c)
                        .await
                        .expect("create test database");
                });
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_owned();
                Self {
                    url: format!("{base}/{name}"),
                    backend,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A scratch directory that lives as long as the database.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = postgres_admin_url();
            run_blocking(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        }
    }
}

fn run_blocking<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// Defines each listed test twice, `sqlite::name` and `postgres::name`, calling
/// `name(Backend)`. A storage behaviour is never tested on one backend only.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name($crate::Backend::Postgres) } )*
        }
    };
}

/// A PostgreSQL server of a test's own, to stop and restart at will (fault tests must not
/// take down the machine's server under the other tests). It runs the machine's
/// PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`) on a free loopback port, as the
/// `postgres` user when the test runs as root; it fails, never skips, when they are missing.
pub struct PrivatePostgres {
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub url: String,
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    /// Initializes a cluster in a temporary directory and starts it.
    pub fn start() -> Self {
        let versions = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries are required for this test (/usr/lib/postgresql)");
        let bin = versions
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("an initdb under /usr/lib/postgresql/<version>/bin");
        let dir = tempfile::tempdir().expect("temporary directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let pg = Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
            port,
        };
        if is_root() {
            let status = std::process::Command::new("chown")
                .args(["-R", "postgres"])
                .arg(pg.dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown to postgres failed");
        }
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        pg.up();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, tool: &str) -> std::process::Command {
        let exe = self.bin.join(tool);
        let mut cmd = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        cmd.current_dir(self.dir.path());
        cmd
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Freezes the server and every backend (SIGSTOP): connections stay open and nothing
    /// answers, as when its host hangs or the network drops packets. [`Self::thaw`] resumes.
    pub fn freeze(&self) {
        self.signal("STOP");
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn thaw(&self) {
        self.signal("CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))
            .expect("postmaster.pid")
            .lines()
            .next()
            .expect("a pid line")
            .trim()
            .to_owned();
        // The backends first, then the postmaster (which would otherwise restart none).
        let _ = std::process::Command::new("pkill")
            .args([&format!("-{signal}"), "-P", &pid])
            .status();
        let status = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} {pid}");
    }

    /// Stops the server: `fast` (clients disconnected, a clean shutdown) or `immediate` (as
    /// a crash).
    pub fn down(&self, mode: &str) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", mode, "-w", "stop"]);
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// `json` with the string at `path` (object keys, or array positions as numbers) changed in
/// one base64 character, halfway along: a signature, certificate or hash altered in one place,
/// as an attacker or a broken transport would. Panics when the path names no string.
pub fn flip_base64(json: &[u8], path: &[&str]) -> Vec<u8> {
    flip_base64_at(json, path, None)
}

/// [`flip_base64`] at character `position` of the string (halfway when `None`).
pub fn flip_base64_at(json: &[u8], path: &[&str], position: Option<usize>) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(json).expect("json");
    let mut at = &mut v;
    for p in path {
        at = match p.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*p],
        };
    }
    let s = at.as_str().expect("a string").to_owned();
    let mid = position.unwrap_or(s.len() / 2);
    let flipped = if s.as_bytes()[mid] == b'A' { 'B' } else { 'A' };
    *at = format!("{}{flipped}{}", &s[..mid], &s[mid + 1..]).into();
    serde_json::to_vec(&v).expect("json")
}
