//! The storage error type.

/// A storage failure. Database errors are never swallowed: they surface here with the
/// operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no backend Andon supports.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// The database could not be reached or opened.
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        /// Which backend.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("migration {version} failed: {source}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The database was migrated by a newer Andon than this one.
    #[error(
        "this database has schema version {newest}, newer than this Andon knows ({known}): run the newer Andon, or restore a backup taken before the upgrade"
    )]
    NewerSchema {
        /// The database's newest migration.
        newest: i64,
        /// The newest this binary has.
        known: i64,
    },
    /// A query failed.
    #[error("database error while {op}: {source}")]
    Query {
        /// What the store was doing.
        op: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The operating system refused a file operation the store needs (an fsync).
    #[error("{what}: {source}")]
    Io {
        /// What the store was doing.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite's directory cannot be written: full, or read-only.
    #[error(
        "the database directory {dir} cannot be written ({source}): free some space or make it writable"
    )]
    NotWritable {
        /// The directory.
        dir: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A restore was refused before anything was written: the target is not an empty
    /// database of the backup's schema.
    #[error("{0}")]
    RestoreTarget(String),
    /// A stored value could not be decoded.
    #[error("corrupt stored value in {what}: {detail}")]
    Corrupt {
        /// Which record.
        what: String,
        /// What was wrong.
        detail: String,
    },
}

/// What a failure says about the database, for deciding what to tell a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// It cannot be reached just now (restarting, connection lost, pool exhausted, busy):
    /// retrying later may work.
    Unavailable,
    /// Its disk is full.
    Full,
    /// It may not be written (a read-only file or directory, a standby).
    ReadOnly,
    /// Anything else.
    Other,
}

impl StoreError {
    /// Classifies the failure by the driver's error and the database's code (SQLSTATE on
    /// PostgreSQL, the result code on SQLite).
    pub fn failure(&self) -> Failure {
        let source = match self {
            StoreError::Connect { .. } => return Failure::Unavailable,
            StoreError::Query { source, .. } | StoreError::Migration { source, .. } => source,
            StoreError::Io { source, .. } | StoreError::NotWritable { source, .. } => {
                return os_failure(source);
            }
            _ => return Failure::Other,
        };
        match source {
            sqlx::Error::Io(e) => os_failure(e),
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => Failure::Unavailable,
            sqlx::Error::Database(d) => {
                let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
                // SQLite: the primary result code is the low byte of the extended one.
                let sqlite = code.parse::<i32>().ok().map(|c| c & 0xff);
                match (code.as_str(), sqlite) {
                    (_, Some(13)) => Failure::Full,
                    (_, Some(8)) => Failure::ReadOnly,
                    (_, Some(5 | 6 | 10 | 14)) => Failure::Unavailable,
                    ("53100", _) => Failure::Full,
                    ("25006", _) => Failure::ReadOnly,
                    (c, _) if c.starts_with("08") || c.starts_with("57P") => Failure::Unavailable,
                    ("53300" | "40001" | "40P01", _) => Failure::Unavailable,
                    _ => Failure::Other,
                }
            }
            _ => Failure::Other,
        }
    }
}

/// ENOSPC is a full disk; EROFS and EACCES a read-only one; anything else may pass.
fn os_failure(e: &std::io::Error) -> Failure {
    match e.raw_os_error() {
        Some(28) => Failure::Full,
        Some(30 | 13) => Failure::ReadOnly,
        _ => Failure::Unavailable,
    }
}

/// A stored value that does not decode: which record, and what was wrong.
pub(crate) fn corrupt(what: &str, detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: what.into(),
        detail: detail.to_string(),
    }
}

/// Adds the operation name to a driver error.
pub(crate) trait Op<T> {
    fn op(self, op: &'static str) -> Result<T, StoreError>;
}

impl<T> Op<T> for Result<T, sqlx::Error> {
    fn op(self, op: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { op, source })
    }
}
