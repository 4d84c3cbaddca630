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
    /// A stored value could not be decoded.
    #[error("corrupt stored value in {what}: {detail}")]
    Corrupt {
        /// Which record.
        what: String,
        /// What was wrong.
        detail: String,
    },
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
