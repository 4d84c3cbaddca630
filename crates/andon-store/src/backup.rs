//! Backup and restore (docs/operations.md): a consistent snapshot of every table, taken in
//! one read transaction while the server runs, as JSON lines that either backend restores.
//!
//! The file: a header line `{"format": "andon-backup/v1", "backend", "schema": <migration>,
//! "tables": n}`, then per table a line `{"table", "columns", "rows"}` followed by one line
//! per row, a JSON array of its values (integers, text, `{"b64": …}` for bytes, null).

use std::io::{BufRead, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sqlx::any::AnyArguments;
use sqlx::{Arguments as _, Row as _};

use crate::error::Op;
use crate::{Backend, Store, StoreError};

/// The file format's name and version.
pub const BACKUP_FORMAT: &str = "andon-backup/v1";

/// What a backup or restore moved.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct BackupSummary {
    /// Tables.
    pub tables: u64,
    /// Rows, all tables.
    pub rows: u64,
    /// Ledger entries among them.
    pub ledger_entries: u64,
    /// The schema version (latest migration).
    pub schema: i64,
}

/// A column's storage class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
}

fn kind_of(declared: &str) -> Kind {
    let d = declared.to_ascii_lowercase();
    if d.contains("int") {
        Kind::Int
    } else if d.contains("blob") || d.contains("bytea") {
        Kind::Bytes
    } else {
        Kind::Text
    }
}

/// The migrations' own tables: the target's rows are right for it, and are kept.
const BOOKKEEPING: &[&str] = &["schema_migrations", "schema_compat"];

fn bad(detail: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what: "backup".into(),
        detail: detail.to_string(),
    }
}

impl Store {
    /// The user tables and their columns, in a stable order.
    async fn tables(
        &self,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<Vec<(String, Vec<(String, Kind)>)>, StoreError> {
        let names: Vec<String> = match self.backend() {
            Backend::Sqlite => sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            ),
            Backend::Postgres => sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
            ),
        }
        .fetch_all(&mut *conn)
        .await
        .op("listing tables")?;
        let mut out = Vec::new();
        for t in names {
            let query = match self.backend() {
                Backend::Sqlite => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT name, type FROM pragma_table_info('{t}') ORDER BY cid"
                ))),
                Backend::Postgres => sqlx::query(
                    "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
                )
                .bind(t.clone()),
            };
            let cols: Vec<(String, String)> = query
                .fetch_all(&mut *conn)
                .await
                .op("reading columns")?
                .iter()
                .map(|r| Ok((r.try_get("name")?, r.try_get("type")?)))
                .collect::<Result<_, sqlx::Error>>()
                .op("reading columns")?;
            out.push((t, cols.into_iter().map(|(n, d)| (n, kind_of(&d))).collect()));
        }
        Ok(out)
    }

    /// Writes a consistent snapshot of every table to `out` (one read transaction: what
    /// the server commits meanwhile is either wholly in it or not at all).
    pub async fn backup(&self, out: &mut impl Write) -> Result<BackupSummary, StoreError> {
        let mut tx = self.pool.begin().await.op("beginning a backup")?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .op("isolating the backup")?;
        }
        let tables = self.tables(&mut tx).await?;
        let schema: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&mut *tx)
                .await
                .op("reading the schema version")?;
        let io = |e: std::io::Error| bad(e);
        writeln!(
            out,
            "{}",
            json!({"format": BACKUP_FORMAT, "backend": self.backend().name(), "schema": schema, "tables": tables.len()})
        )
        .map_err(io)?;
        let mut summary = BackupSummary {
            tables: tables.len() as u64,
            schema,
            ..Default::default()
        };
        for (table, cols) in &tables {
            let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM {table}",
                names.join(", ")
            )))
            .fetch_all(&mut *tx)
            .await
            .op("reading a table for backup")?;
            writeln!(
                out,
                "{}",
                json!({"table": table, "columns": names, "rows": rows.len()})
            )
            .map_err(io)?;
            for r in &rows {
                let mut vals = Vec::with_capacity(cols.len());
                for (i, (_, kind)) in cols.iter().enumerate() {
                    let v = match kind {
                        Kind::Int => json!(r.try_get::<Option<i64>, _>(i).op("reading a value")?),
                        Kind::Text => {
                            json!(r.try_get::<Option<String>, _>(i).op("reading a value")?)
                        }
                        Kind::Bytes => {
                            match r.try_get::<Option<Vec<u8>>, _>(i).op("reading a value")? {
                                Some(b) => json!({"b64": STANDARD.encode(b)}),
                                None => Value::Null,
                            }
                        }
                    };
                    vals.push(v);
                }
                writeln!(out, "{}", Value::Array(vals)).map_err(io)?;
            }
            summary.rows += rows.len() as u64;
            if table == "ledger_entries" {
                summary.ledger_entries = rows.len() as u64;
            }
        }
        tx.commit().await.op("ending the backup")?;
        Ok(summary)
    }

    /// Restores a backup into this store, which must be freshly migrated and empty (no
    /// ledger entries). All in one transaction: a failed restore leaves it empty.
    pub async fn restore(&self, input: impl BufRead) -> Result<BackupSummary, StoreError> {
        let mut lines = input.lines();
        let mut next = || -> Result<Option<Value>, StoreError> {
            match lines.next() {
                None => Ok(None),
                Some(l) => Ok(Some(serde_json::from_str(&l.map_err(bad)?).map_err(bad)?)),
            }
        };
        let header = next()?.ok_or_else(|| bad("an empty file"))?;
        if header["format"] != BACKUP_FORMAT {
            return Err(bad(format!("not an {BACKUP_FORMAT} file")));
        }
        let schema = header["schema"].as_i64().unwrap_or(0);
        let mut tx = self.pool.begin().await.op("beginning a restore")?;
        let ours: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&mut *tx)
                .await
                .op("reading the schema version")?;
        if ours != schema {
            return Err(StoreError::RestoreTarget(format!(
                "the backup has schema {schema}, the target database {ours}: restore into a database of the Andon version that wrote the backup (nothing was written)"
            )));
        }
        let tables = self.tables(&mut tx).await?;
        // Every table but the migrations' own bookkeeping must be empty: a server started
        // on the target first (its admin, its settings) would collide with the backup's.
        for (table, _) in &tables {
            if BOOKKEEPING.contains(&table.as_str()) {
                continue;
            }
            let held: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) t"
            )))
            .fetch_one(&mut *tx)
            .await
            .op("checking the target is empty")?;
            if held > 0 {
                return Err(StoreError::RestoreTarget(format!(
                    "the target database is not empty (its table {table} has rows; was a server started on it?): restore into a new, empty database (nothing was written)"
                )));
            }
        }
        let kinds: std::collections::HashMap<String, Vec<(String, Kind)>> =
            tables.into_iter().collect();
        let mut summary = BackupSummary {
            schema,
            ..Default::default()
        };
        while let Some(t) = next()? {
            let table = t["table"]
                .as_str()
                .ok_or_else(|| bad("a table line without its name"))?
                .to_owned();
            let columns: Vec<String> = serde_json::from_value(t["columns"].clone()).map_err(bad)?;
            let n = t["rows"]
                .as_u64()
                .ok_or_else(|| bad("a table line without its row count"))?;
            let known = kinds
                .get(&table)
                .ok_or_else(|| bad(format!("no table {table} here")))?;
            let kind_of_col: Vec<Kind> = columns
                .iter()
                .map(|c| {
                    known
                        .iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, kind)| *kind)
                        .ok_or_else(|| bad(format!("no column {table}.{c} here")))
                })
                .collect::<Result<_, _>>()?;
            // The migrations' own bookkeeping is already here.
            let skip = BOOKKEEPING.contains(&table.as_str());
            if skip {
                for _ in 0..n {
                    next()?;
                }
                continue;
            }
            for _ in 0..n {
                let row = next()?.ok_or_else(|| bad(format!("{table} ends early")))?;
                let vals = row.as_array().ok_or_else(|| bad("a row is not an array"))?;
                let mut args = AnyArguments::default();
                let mut marks = Vec::with_capacity(vals.len());
                for (i, (v, kind)) in vals.iter().zip(&kind_of_col).enumerate() {
                    marks.push(match self.backend() {
                        Backend::Sqlite => "?".to_owned(),
                        Backend::Postgres => format!("${}", i + 1),
                    });
                    let added = match kind {
                        Kind::Int => args.add(v.as_i64()),
                        Kind::Text => args.add(v.as_str().map(str::to_owned)),
                        Kind::Bytes => args.add(match v["b64"].as_str() {
                            Some(b) => Some(STANDARD.decode(b).map_err(bad)?),
                            None => None,
                        }),
                    };
                    added.map_err(|e| bad(e.to_string()))?;
                }
                sqlx::query_with(
                    sqlx::AssertSqlSafe(format!(
                        "INSERT INTO {table} ({}) VALUES ({})",
                        columns.join(", "),
                        marks.join(", ")
                    )),
                    args,
                )
                .execute(&mut *tx)
                .await
                .op("restoring a row")?;
            }
            summary.tables += 1;
            summary.rows += n;
            if table == "ledger_entries" {
                summary.ledger_entries = n;
            }
        }
        // The next start records the restore in the ledger, naming this checkpoint (and
        // what is known lost past it): until then the restore is pending.
        let last: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT size, root FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .op("reading the backup's last checkpoint")?;
        let pending = serde_json::json!({
            "size": last.as_ref().map_or(0, |l| l.0),
            "root": last.as_ref().map(|l| hex::encode(&l.1)).unwrap_or_default(),
            "restored_at": jiff::Timestamp::now().to_string(),
        });
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('restore_pending', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(pending.to_string())
        .execute(&mut *tx)
        .await
        .op("marking the restore for the next start")?;
        tx.commit().await.op("committing the restore")?;
        Ok(summary)
    }
}
