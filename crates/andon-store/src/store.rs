//! Connecting, migrating, and the few settings kept in the database.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

use crate::error::Op;
use crate::{StoreError, migrate};

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (the default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// The backend's name.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The store: a connection pool and the backend it talks to.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    wal_path: Option<std::path::PathBuf>,
    /// Past this size the SQLite write-ahead log is truncated at the next checkpoint.
    wal_limit: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// The size past which a SQLite write-ahead log is truncated (see [`Store::checkpoint_wal`]).
pub const WAL_LIMIT_BYTES: u64 = 64 << 20;

/// What [`Store::restart_wal_past_limit`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalRestart {
    /// The log is within its limit (always, on PostgreSQL): nothing done.
    Under,
    /// Past its limit, and restarted.
    Restarted,
    /// Past its limit, and a reader held it past the wait: not restarted. Asking again at
    /// once would wait again; the writer asks later.
    Busy,
}

/// How long a truncating checkpoint waits for the writer to finish its batch: short, so the
/// sequencer is held up by at most this (and the copy of what the passive pass left).
const TRUNCATE_WAIT: Duration = Duration::from_millis(200);

/// The `-wal` file beside a SQLite database named by a `sqlite://` URL.
fn sqlite_wal_path(url: &str) -> std::path::PathBuf {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    std::path::PathBuf::from(format!("{path}-wal"))
}

/// Checks that SQLite can write beside the database at `url` (a no-op for PostgreSQL): a
/// server calls it at start, so a full disk or a read-only directory is said then, with the
/// path, rather than found by the first write. Readers (`andon verify`) do not need it.
pub fn check_writable(url: &str) -> Result<(), StoreError> {
    if Backend::of_url(url)? != Backend::Sqlite {
        return Ok(());
    }
    use std::io::Write as _;
    let wal = sqlite_wal_path(url);
    let dir = match wal.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let probe = dir.join(".andon-write-probe");
    let written = std::fs::File::create(&probe).and_then(|mut f| {
        // Room for a batch or two: a disk with less is as good as full.
        f.write_all(&vec![0u8; 1 << 20])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    written.map_err(|source| StoreError::NotWritable {
        dir: dir.display().to_string(),
        source,
    })
}

/// Indexes on tables the commit path writes and never reads (the evidence and telemetry
/// event tables): for reads only.
const INSERT_ONLY_INDEXES: &[&str] = &[
    "evidence_by_app",
    "evidence_by_type",
    "evidence_by_app_idx",
    "evidence_subjects_by_evidence",
    "evidence_subjects_by_digest",
    "evidence_commits_by_evidence",
    "evidence_commits_by_sha",
    "telemetry_by_app",
    "telemetry_by_batch",
    "scm_commits_by_idx",
    "scm_changes_by_idx",
    "scm_reviews_by_idx",
    "scm_deployments_by_idx",
    "scm_tickets_by_idx",
];

/// How a connection treats the disk.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every commit durable.
    Durable,
    /// Commits durable at `make_durable`.
    Deferred,
    /// Nothing durable: a throwaway file.
    Scratch,
}

impl Store {
    /// Connects to `url` (`sqlite://path` creates the file; `postgres://...`) and applies
    /// the migrations the database lacks.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open(url, Mode::Durable, WAL_LIMIT_BYTES).await
    }

    /// Connects for the ledger sequencer, whose commits do not wait for the disk: a
    /// separate step, [`Store::make_durable`], then flushes everything committed so far at
    /// once, so the sequencer can write the next batch while the previous one is flushed.
    /// Nothing committed this way may be acknowledged before `make_durable` returns. On
    /// SQLite, the write-ahead log is kept under `wal_limit` bytes by this writer
    /// ([`Store::restart_wal_past_limit`]).
    pub async fn connect_deferred_durability(
        url: &str,
        wal_limit: u64,
    ) -> Result<Self, StoreError> {
        Self::open(url, Mode::Deferred, wal_limit).await
    }

    /// Creates a throwaway SQLite database at `path` for one task (the replay `andon verify`
    /// compares the tables with): one connection, no journal, no syncs and a large page
    /// cache. A crash leaves it corrupt, which is fine for a file nobody keeps.
    pub async fn create_scratch(path: &std::path::Path) -> Result<Self, StoreError> {
        let store = Self::open(
            &format!("sqlite://{}", path.display()),
            Mode::Scratch,
            WAL_LIMIT_BYTES,
        )
        .await?;
        // Tables the commit path only inserts into need none of the indexes the reads use;
        // keeping them up to date is most of the cost of writing a million entries' rows.
        for index in INSERT_ONLY_INDEXES {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS {index}")))
                .execute(&store.pool)
                .await
                .op("preparing a scratch database")?;
        }
        Ok(store)
    }

    async fn open(url: &str, mode: Mode, wal_limit: u64) -> Result<Self, StoreError> {
        let deferred = mode != Mode::Durable;
        let backend = Backend::of_url(url)?;
        install_default_drivers();
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let opts = AnyPoolOptions::new()
            .max_connections(match (backend, deferred) {
                _ if mode == Mode::Scratch => 1,
                (_, true) => 2,
                (Backend::Sqlite, false) => 8,
                (Backend::Postgres, false) => 16,
            })
            // A database that does not answer is a 503 within seconds, not a request left
            // hanging: past this, the caller is told to retry (Retry-After).
            .acquire_timeout(Duration::from_secs(3))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match (backend, deferred) {
                        // Nothing to keep: no journal, no syncs, and writes stay in memory
                        // until the cache is full.
                        (Backend::Sqlite, _) if mode == Mode::Scratch => {
                            conn.execute(sqlx::raw_sql(
                                "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; \
                                 PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;",
                            ))
                            .await?;
                        }
                        // WAL lets readers run beside the one writer. synchronous=FULL makes
                        // every commit durable; NORMAL (the sequencer's) leaves the WAL fsync
                        // to make_durable but still syncs around checkpoints. The first
                        // commit after the log restarts cuts the file back to its limit.
                        (Backend::Sqlite, _) => {
                            conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA busy_timeout=10000; \
                                 PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; \
                                 PRAGMA journal_size_limit={};",
                                if deferred { "NORMAL" } else { "FULL" },
                                wal_limit.min(i64::MAX as u64)
                            ))))
                            .await?;
                        }
                        // Commits return once their WAL is written; make_durable waits for
                        // the flush. Its statements are inserts and lookups by key: a generic
                        // plan is as good as any.
                        (Backend::Postgres, true) => {
                            conn.execute(sqlx::raw_sql(
                                "SET synchronous_commit = off; SET plan_cache_mode = auto",
                            ))
                            .await?;
                        }
                        // PostgreSQL's own choice (`auto`, set in case a database was
                        // configured otherwise): a prepared statement is planned for its
                        // values five times, then runs on a generic plan when that is not
                        // estimated dearer. The searches whose plans depend on their values
                        // are planned for them every time (`listing::search`). Planning every
                        // statement for its values (`force_custom_plan`, until 2026-12-07)
                        // was half of PostgreSQL's statement time on `bench load`'s mix. A
                        // cached plan is made again when its tables' statistics change, so
                        // one made while the tables were small does not outlive them
                        // (`Store::refresh_statistics` keeps the statistics fresh).
                        (Backend::Postgres, false) => {
                            conn.execute(sqlx::raw_sql("SET plan_cache_mode = auto"))
                                .await?;
                        }
                    }
                    Ok(())
                })
            });
        let pool = opts
            .connect(&url)
            .await
            .map_err(|source| StoreError::Connect {
                backend: backend.name(),
                source,
            })?;
        migrate::run(&pool, backend).await?;
        let wal_path = match backend {
            Backend::Sqlite => Some(sqlite_wal_path(&url)),
            Backend::Postgres => None,
        };
        Ok(Self {
            pool,
            backend,
            wal_path,
            wal_limit: std::sync::Arc::new(wal_limit.into()),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to be returned. A SQLite write-ahead log
    /// is checkpointed into the database and truncated first, so a stopped server leaves
    /// one file of its size, not a log beside it.
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite
            && let Err(e) = self.truncate_wal(Duration::from_secs(5)).await
        {
            tracing::warn!(error = %e, "truncating the write-ahead log at close");
        }
        self.pool.close().await;
    }

    /// Sets the size past which the SQLite write-ahead log is truncated
    /// ([`WAL_LIMIT_BYTES`] by default).
    pub fn set_wal_limit(&self, bytes: u64) {
        self.wal_limit
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// The size of the SQLite write-ahead log file now (0 when there is none, and on
    /// PostgreSQL).
    pub fn wal_bytes(&self) -> u64 {
        self.wal_path
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map_or(0, |m| m.len())
    }

    /// Checkpoints everything and truncates the write-ahead log to nothing, waiting at
    /// most `wait` for the writer to finish; false when it could not (busy: retried later).
    async fn truncate_wal(&self, wait: Duration) -> Result<bool, StoreError> {
        self.checkpoint_wal_as("TRUNCATE", wait).await
    }

    /// A checkpoint of every frame in `mode` (`RESTART` or `TRUNCATE`), waiting at most
    /// `wait` for the writer and the readers; false when it could not (busy: retried later).
    async fn checkpoint_wal_as(&self, mode: &str, wait: Duration) -> Result<bool, StoreError> {
        use sqlx::Row as _;
        let mut conn = self
            .pool
            .acquire()
            .await
            .op("checkpointing the write-ahead log")?;
        conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PRAGMA busy_timeout={}",
            wait.as_millis()
        ))))
        .await
        .op("checkpointing the write-ahead log")?;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "PRAGMA wal_checkpoint({mode})"
        )))
        .fetch_one(&mut *conn)
        .await;
        conn.execute(sqlx::raw_sql("PRAGMA busy_timeout=10000"))
            .await
            .op("checkpointing the write-ahead log")?;
        let busy: i64 = match done {
            Ok(row) => row.try_get(0).unwrap_or(1),
            // Busy past the wait: another try at the next tick.
            Err(_) => 1,
        };
        Ok(busy == 0)
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .op("pinging the database")?;
        Ok(())
    }

    /// Copies committed WAL frames back into the SQLite database file (a no-op on
    /// PostgreSQL, which manages its own). Automatic checkpoints are off because they would
    /// run inside the sequencer's commit; the server calls this from a background task
    /// instead. A passive pass never waits; but under sustained writes it never catches
    /// up with the writer either, so the log would only grow (2.4 GB after a 200,000-record
    /// ingest). Past the limit, a truncating pass waits briefly for a gap between batches,
    /// copies the rest and empties the file; under load the writer restarts the log itself
    /// first ([`Store::restart_wal_past_limit`]). Answers the log's size afterwards.
    pub async fn checkpoint_wal(&self) -> Result<u64, StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(0);
        }
        sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.pool)
            .await
            .op("checkpointing the write-ahead log")?;
        if self.wal_bytes() > self.wal_limit.load(std::sync::atomic::Ordering::Relaxed) {
            self.truncate_wal(TRUNCATE_WAIT).await?;
        }
        Ok(self.wal_bytes())
    }

    /// Called by the one writer between its transactions: when the SQLite write-ahead log
    /// is past its limit, checkpoints what the background passes have not copied yet and
    /// restarts the log from its start (waiting briefly for readers), and answers what it
    /// found. The file is not emptied here: the writer's next commit cuts it back to the limit
    /// (`journal_size_limit`), freeing only what grew past it. Measured at 500 gate
    /// decisions a second, two things had made most of the 99th percentile: the background
    /// pass ([`Store::checkpoint_wal`]) holding the writer up, which then retried on its
    /// busy handler's schedule (1, 2, 5, 10, 15 ms ...), and emptying the 64 MiB file,
    /// 21 ms of `ftruncate` with the writer held.
    pub async fn restart_wal_past_limit(&self) -> Result<WalRestart, StoreError> {
        if self.backend != Backend::Sqlite
            || self.wal_bytes() <= self.wal_limit.load(std::sync::atomic::Ordering::Relaxed)
        {
            return Ok(WalRestart::Under);
        }
        Ok(if self.checkpoint_wal_as("RESTART", TRUNCATE_WAIT).await? {
            WalRestart::Restarted
        } else {
            WalRestart::Busy
        })
    }

    /// Makes every transaction committed so far durable. SQLite: fsync of the write-ahead
    /// log (and of its directory, so the file itself survives). PostgreSQL: a tiny
    /// transaction committed with `synchronous_commit = on`, whose commit waits until the
    /// WAL is flushed up to its own record, which covers every earlier commit.
    pub async fn make_durable(&self) -> Result<(), StoreError> {
        match (&self.wal_path, self.backend) {
            (Some(wal), Backend::Sqlite) => {
                let wal = wal.clone();
                let synced = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    match std::fs::File::open(&wal) {
                        Ok(f) => f.sync_data()?,
                        // No WAL yet: nothing was committed through it.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                        Err(e) => return Err(e),
                    }
                    if let Some(dir) = wal.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::File::open(dir)?.sync_all()?;
                    }
                    Ok(())
                })
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|r| r);
                synced.map_err(|source| StoreError::Io {
                    what: "syncing the write-ahead log",
                    source,
                })
            }
            _ => {
                let mut tx = self
                    .pool
                    .begin()
                    .await
                    .op("beginning a durability barrier")?;
                sqlx::query("SET LOCAL synchronous_commit = on")
                    .execute(&mut *tx)
                    .await
                    .op("requesting a synchronous commit")?;
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ('durability_barrier', '') \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .execute(&mut *tx)
                .await
                .op("writing a durability barrier")?;
                tx.commit().await.op("waiting for the WAL flush")
            }
        }
    }

    /// Reads a setting.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .op("reading a setting")
    }

    /// Stores a setting unless it is already set; returns the value in force.
    pub async fn meta_init(&self, key: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .op("writing a setting")?;
        self.meta(key).await?.ok_or_else(|| StoreError::Corrupt {
            what: format!("setting {key}"),
            detail: "missing right after it was written".into(),
        })
    }

    /// A read in progress (a transaction that has read the ledger), held until the answer
    /// is dropped: what a long report or a backup does to a SQLite log. Only for tests.
    #[doc(hidden)]
    pub async fn hold_read_for_tests(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = self.pool.begin().await.op("beginning a read")?;
        sqlx::query("SELECT COUNT(*) FROM ledger_entries")
            .fetch_one(&mut *tx)
            .await
            .op("reading in a transaction")?;
        Ok(tx)
    }

    /// Runs a statement outside every safeguard of the application. Only for tests that
    /// play an attacker with database access (tampering), never called by Andon itself.
    #[doc(hidden)]
    pub async fn raw_execute_for_tests(&self, sql: &str) -> Result<u64, StoreError> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .op("running a raw statement")
    }
}
