//! A small migration runner: numbered SQL files per backend, applied once each, in order.

use sqlx::AnyPool;

use crate::{Backend, StoreError};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_foundation.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_evidence_summary.sql"),
    ),
    (
        3,
        include_str!("../migrations/sqlite/0003_source_control.sql"),
    ),
    (4, include_str!("../migrations/sqlite/0004_gates.sql")),
    (5, include_str!("../migrations/sqlite/0005_changes.sql")),
    (6, include_str!("../migrations/sqlite/0006_telemetry.sql")),
    (7, include_str!("../migrations/sqlite/0007_access.sql")),
    (
        8,
        include_str!("../migrations/sqlite/0008_list_indexes.sql"),
    ),
    (9, include_str!("../migrations/sqlite/0009_late.sql")),
    (
        10,
        include_str!("../migrations/sqlite/0010_cosignatures.sql"),
    ),
    (
        11,
        include_str!("../migrations/sqlite/0011_commit_order.sql"),
    ),
    (12, include_str!("../migrations/sqlite/0012_keyless.sql")),
    (13, include_str!("../migrations/sqlite/0013_reports.sql")),
    (
        14,
        include_str!("../migrations/sqlite/0014_schema_compat.sql"),
    ),
    (15, include_str!("../migrations/sqlite/0015_components.sql")),
    (16, include_str!("../migrations/sqlite/0016_advisories.sql")),
    (17, include_str!("../migrations/sqlite/0017_vuln_items.sql")),
    (18, include_str!("../migrations/sqlite/0018_admission.sql")),
    (19, include_str!("../migrations/sqlite/0019_drills.sql")),
    (
        20,
        include_str!("../migrations/sqlite/0020_gather_marks.sql"),
    ),
    (
        21,
        include_str!("../migrations/sqlite/0021_gate_context_marks.sql"),
    ),
];
const POSTGRES: &[(i64, &str)] = &[
    (
        1,
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        include_str!("../migrations/postgres/0002_evidence_summary.sql"),
    ),
    (
        3,
        include_str!("../migrations/postgres/0003_source_control.sql"),
    ),
    (4, include_str!("../migrations/postgres/0004_gates.sql")),
    (5, include_str!("../migrations/postgres/0005_changes.sql")),
    (6, include_str!("../migrations/postgres/0006_telemetry.sql")),
    (7, include_str!("../migrations/postgres/0007_access.sql")),
    (
        8,
        include_str!("../migrations/postgres/0008_list_indexes.sql"),
    ),
    (9, include_str!("../migrations/postgres/0009_late.sql")),
    (
        10,
        include_str!("../migrations/postgres/0010_cosignatures.sql"),
    ),
    (
        11,
        include_str!("../migrations/postgres/0011_commit_order.sql"),
    ),
    (12, include_str!("../migrations/postgres/0012_keyless.sql")),
    (13, include_str!("../migrations/postgres/0013_reports.sql")),
    (
        14,
        include_str!("../migrations/postgres/0014_schema_compat.sql"),
    ),
    (
        15,
        include_str!("../migrations/postgres/0015_components.sql"),
    ),
    (
        16,
        include_str!("../migrations/postgres/0016_advisories.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_vuln_items.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_admission.sql"),
    ),
    (19, include_str!("../migrations/postgres/0019_drills.sql")),
    (
        20,
        include_str!("../migrations/postgres/0020_gather_marks.sql"),
    ),
    (
        21,
        include_str!("../migrations/postgres/0021_gate_context_marks.sql"),
    ),
];

/// The oldest schema version whose servers may write once this binary's migrations are
/// applied: the version of the newest contract migration (one that removes or changes what
/// older servers write). An expand migration (new tables, columns, indexes that older
/// servers can ignore) leaves it alone, so servers of the previous version keep writing
/// while a rolling upgrade replaces them.
pub const WRITERS_FROM: i64 = 14;

/// The newest schema version this binary knows.
pub fn known(backend: Backend) -> i64 {
    let steps = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    steps.last().map_or(0, |s| s.0)
}

/// The schema a database holds: its newest migration and the oldest version whose servers
/// may write to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaState {
    /// The newest migration applied.
    pub newest: i64,
    /// The oldest server schema version that may write (`schema_compat`).
    pub writers_from: i64,
}

impl SchemaState {
    /// Why a server knowing schema `known` must not write to this database, if it must not.
    pub fn refuses(&self, known: i64) -> Option<String> {
        (self.writers_from > known).then(|| {
            format!(
                "this database has schema version {}, and its migrations let only Andon of schema {} or newer write (this one knows {known}): this server writes nothing more; replace it with the newer Andon",
                self.newest, self.writers_from
            )
        })
    }
}

pub(crate) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    let fail = |version| move |source| StoreError::Migration { version, source };
    // Servers starting together on one PostgreSQL migrate one at a time: the others wait,
    // then find the work done.
    let mut conn = pool.acquire().await.map_err(fail(0))?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(fail(0))?;
    }
    let result = migrate(&mut conn, backend).await;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await
            .map_err(fail(0))?;
    }
    result
}

/// The migration that adds commits' places in their push, filled from the ledger.
const COMMIT_ORDER: i64 = 11;

/// `b"andon-mg"` as an integer.
const MIGRATION_LOCK: i64 = 0x616e_646f_6e2d_6d67;

async fn migrate(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), StoreError> {
    use sqlx::Connection as _;
    let fail = |version| move |source| StoreError::Migration { version, source };
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(fail(0))?;
    let steps = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    // A database a newer Andon has migrated holds tables and meanings this binary does not
    // know: writing to it could lose them. Refuse, before touching anything.
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await
        .map_err(fail(0))?;
    let known = steps.last().map_or(0, |s| s.0);
    if let Some(newest) = newest.filter(|n| *n > known) {
        // Migrated by a newer Andon: this one may still run on it while the newer one's
        // migrations since were expand steps (a rolling upgrade); nothing is migrated here.
        let writers_from = writers_from(&mut *conn).await.map_err(fail(0))?;
        if writers_from.is_none_or(|w| w > known) {
            return Err(StoreError::NewerSchema { newest, known });
        }
        tracing::info!(
            schema = newest,
            known,
            "the database was migrated by a newer Andon with expand steps only; running on it"
        );
        return Ok(());
    }
    let mut applied = 0u32;
    for &(version, sql) in steps {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(version)
                .fetch_optional(&mut *conn)
                .await
                .map_err(fail(version))?;
        if done.is_some() {
            continue;
        }
        let mut tx = conn.begin().await.map_err(fail(version))?;
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(fail(version))?;
        if version == COMMIT_ORDER {
            crate::scm::fill_commit_positions(&mut tx)
                .await
                .map_err(fail(version))?;
        }
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(version)
            .bind(0i64)
            .execute(&mut *tx)
            .await
            .map_err(fail(version))?;
        tx.commit().await.map_err(fail(version))?;
        tracing::debug!(version, "applied migration");
        applied += 1;
    }
    sqlx::query("UPDATE schema_compat SET writers_from = $1 WHERE writers_from < $1")
        .bind(WRITERS_FROM)
        .execute(&mut *conn)
        .await
        .map_err(fail(known))?;
    if applied > 0 {
        tracing::info!(applied, schema = known, "database migrated");
    }
    Ok(())
}

/// `schema_compat.writers_from`, if the table is there.
async fn writers_from(conn: &mut sqlx::AnyConnection) -> Result<Option<i64>, sqlx::Error> {
    let exists =
        sqlx::query_scalar::<_, i64>("SELECT writers_from FROM schema_compat WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await;
    match exists {
        Ok(v) => Ok(v),
        // No such table: migrated before rolling upgrades were possible.
        Err(sqlx::Error::Database(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl crate::Store {
    /// The schema the database holds now (a running server watches it: a newer Andon's
    /// contract migration stops an older server's writes).
    pub async fn schema_state(&self) -> Result<SchemaState, StoreError> {
        use crate::error::Op as _;
        let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(&self.pool)
            .await
            .op("reading the schema version")?;
        let writers_from: i64 =
            sqlx::query_scalar("SELECT writers_from FROM schema_compat WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .op("reading which schema versions may write")?;
        Ok(SchemaState {
            newest: newest.unwrap_or(0),
            writers_from,
        })
    }
}
