//! Whole tables streamed in key order, for comparing the database with the ledger's
//! projection one row at a time (two scans of the same table on two databases meet row by
//! row, whatever the tables' size).

use std::path::Path;
use std::pin::Pin;

use futures_core::Stream;
use sqlx::AnyConnection;
use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{Any, Connection, Row, ValueRef};

use crate::error::Op;
use crate::{Backend, Store, StoreError};

/// One value as a comparison sees it. The order of the variants is the order both backends
/// sort a key column in (NULL first, then numbers, then text by its bytes), so two scans
/// of one table can be merged.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer (booleans as 0 and 1).
    Int(i64),
    /// Text; a real number as its shortest text; bytes as `sha256:<hex>` of them, so
    /// documents compare without being held.
    Text(String),
}

impl Cell {
    /// The value as text (`None` for NULL).
    pub fn text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Int(n) => Some(n.to_string()),
            Cell::Text(t) => Some(t.clone()),
        }
    }
}

fn cell(row: &AnyRow, i: usize) -> Cell {
    let Ok(raw) = row.try_get_raw(i) else {
        return Cell::Text("<unreadable>".into());
    };
    let kind = raw.type_info().kind();
    let value = match kind {
        AnyTypeInfoKind::Null => return Cell::Null,
        AnyTypeInfoKind::Bool => row.try_get::<bool, _>(i).map(|b| Cell::Int(b.into())),
        AnyTypeInfoKind::SmallInt => row.try_get::<i16, _>(i).map(|n| Cell::Int(n.into())),
        AnyTypeInfoKind::Integer => row.try_get::<i32, _>(i).map(|n| Cell::Int(n.into())),
        AnyTypeInfoKind::BigInt => row.try_get::<i64, _>(i).map(Cell::Int),
        AnyTypeInfoKind::Real => row
            .try_get::<f32, _>(i)
            .map(|v| Cell::Text(f64::from(v).to_string())),
        AnyTypeInfoKind::Double => row.try_get::<f64, _>(i).map(|v| Cell::Text(v.to_string())),
        AnyTypeInfoKind::Text => row.try_get::<String, _>(i).map(Cell::Text),
        AnyTypeInfoKind::Blob => row.try_get::<Vec<u8>, _>(i).map(|b| {
            Cell::Text(format!(
                "sha256:{}",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b))
            ))
        }),
    };
    value.unwrap_or_else(|_| Cell::Text(format!("<undecodable {kind:?}>")))
}

type Rows<'a> = Pin<Box<dyn Stream<Item = Result<AnyRow, sqlx::Error>> + Send + 'a>>;

/// One table's rows in key order, read as they are needed.
pub struct Scan<'a> {
    columns: Vec<String>,
    rows: Rows<'a>,
}

impl Scan<'_> {
    /// The columns read, in the order of each row's cells.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The next row's cells (`None` after the last).
    pub async fn next(&mut self) -> Result<Option<Vec<Cell>>, StoreError> {
        let row = std::future::poll_fn(|cx| self.rows.as_mut().poll_next(cx)).await;
        match row {
            None => Ok(None),
            Some(r) => {
                let r = r.op("reading a table")?;
                Ok(Some((0..self.columns.len()).map(|i| cell(&r, i)).collect()))
            }
        }
    }
}

/// The columns of `table` (name, whether it holds text), in table order.
async fn columns_on<'e, E>(
    ex: E,
    backend: Backend,
    table: &str,
) -> Result<Vec<(String, bool)>, StoreError>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    let sql = match backend {
        Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        }
    };
    let rows: Vec<(String, String)> = sqlx::query_as(sql)
        .bind(table)
        .fetch_all(ex)
        .await
        .op("reading a table's columns")?;
    Ok(rows
        .into_iter()
        .map(|(name, ty)| {
            let ty = ty.to_ascii_lowercase();
            let text = ty.contains("text") || ty.contains("char");
            (name, text)
        })
        .collect())
}

/// The query that reads `table` without the `skip` columns, ordered by `key` as [`Cell`]
/// orders (PostgreSQL compares text by its bytes only under the "C" collation).
fn scan_sql(
    backend: Backend,
    table: &str,
    columns: &[(String, bool)],
    key: &[&str],
    skip: &[&str],
) -> (String, Vec<String>) {
    let read: Vec<String> = columns
        .iter()
        .filter(|(c, _)| !skip.contains(&c.as_str()))
        .map(|(c, _)| c.clone())
        .collect();
    let order = key
        .iter()
        .map(|k| {
            let text = columns.iter().any(|(c, t)| c == k && *t);
            match backend {
                Backend::Postgres if text => format!("{k} COLLATE \"C\" NULLS FIRST"),
                Backend::Postgres => format!("{k} NULLS FIRST"),
                Backend::Sqlite => (*k).to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    (
        format!("SELECT {} FROM {table} ORDER BY {order}", read.join(", ")),
        read,
    )
}

/// A read of the whole database at one moment: the ledger's size and every table as they
/// were when it began, whatever is appended meanwhile. It holds a connection of its own,
/// closed when the snapshot ends or is dropped.
pub struct Snapshot {
    conn: AnyConnection,
    backend: Backend,
    size: u64,
    signed: u64,
    beside: bool,
}

/// The schema name a SQLite snapshot gives the database it is read beside.
const BESIDE: &str = "replayed";

impl Snapshot {
    /// How many ledger entries the snapshot holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The size of the largest stored checkpoint the snapshot holds (0: none). Checkpoints
    /// read outside the snapshot up to this size are the ones it holds; a larger one was
    /// stored after it began, with entries it does not see.
    pub fn signed(&self) -> u64 {
        self.signed
    }

    /// Every row of `table` (its name and key columns are the caller's constants, never
    /// input) in key order, without the `skip` columns.
    pub async fn scan(
        &mut self,
        table: &'static str,
        key: &'static [&'static str],
        skip: &'static [&'static str],
    ) -> Result<Scan<'_>, StoreError> {
        let columns = columns_on(&mut self.conn, self.backend, table).await?;
        let (sql, columns) = scan_sql(self.backend, table, &columns, key, skip);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut self.conn);
        Ok(Scan { columns, rows })
    }

    /// Whether `table` holds exactly the rows (each as many times, the `skip` columns left
    /// out) that the same table holds in the database the snapshot was taken beside: a
    /// check the database answers without handing over a row. `None` when there is no
    /// such database (PostgreSQL) or the question cannot be put (the tables' columns
    /// differ); then only a [`Snapshot::scan`] of both tells.
    pub async fn same_rows_beside(
        &mut self,
        table: &'static str,
        skip: &'static [&'static str],
    ) -> Result<Option<bool>, StoreError> {
        if !self.beside {
            return Ok(None);
        }
        let columns = columns_on(&mut self.conn, self.backend, table).await?;
        let cols = columns
            .iter()
            .filter(|(c, _)| !skip.contains(&c.as_str()))
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        // Each distinct row counted +1 per copy here and -1 per copy there: any row whose
        // sum is not zero is on one side more often than on the other.
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT {cols} FROM (\
             SELECT {cols}, 1 AS andon_side FROM main.{table} \
             UNION ALL SELECT {cols}, -1 AS andon_side FROM {BESIDE}.{table}) \
             GROUP BY {cols} HAVING SUM(andon_side) <> 0)"
        );
        let differing: Result<i64, _> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut self.conn)
            .await;
        Ok(differing.ok().map(|n| n == 0))
    }

    /// Entries from `start` (at most `limit`) with their documents, as the snapshot sees
    /// them (see [`Store::entries`]), read on its own connection: a check that held the
    /// snapshot and read entries on another connection would wait forever behind a lock
    /// someone requested on the table meanwhile (a `DROP TRIGGER` queues behind the
    /// snapshot, and every later read behind it).
    pub async fn entries(
        &mut self,
        start: u64,
        limit: u32,
    ) -> Result<Vec<crate::StoredEntry>, StoreError> {
        let rows = sqlx::query(crate::read::ENTRIES_WITH_DOCUMENTS)
            .bind(start as i64)
            .bind(limit as i64)
            .fetch_all(&mut self.conn)
            .await
            .op("reading ledger entries")?;
        rows.iter().map(crate::read::entry_with_document).collect()
    }

    /// Ends the read.
    pub async fn end(mut self) -> Result<(), StoreError> {
        sqlx::raw_sql("COMMIT")
            .execute(&mut self.conn)
            .await
            .op("ending a snapshot")?;
        self.conn.close().await.op("ending a snapshot")
    }
}

impl Store {
    /// Begins a [`Snapshot`]. On SQLite, `beside` (an existing SQLite database file) is
    /// attached to it first, for [`Snapshot::same_rows_beside`].
    pub async fn snapshot(&self, beside: Option<&Path>) -> Result<Snapshot, StoreError> {
        // A connection of its own, never handed back to the pool: it carries an attached
        // database and a transaction begun by hand.
        let mut conn = self
            .pool
            .acquire()
            .await
            .op("starting a snapshot")?
            .detach();
        let beside = match (self.backend(), beside) {
            (Backend::Sqlite, Some(path)) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "ATTACH DATABASE $1 AS {BESIDE}"
                )))
                .bind(path.display().to_string())
                .execute(&mut conn)
                .await
                .op("attaching the replayed database")?;
                true
            }
            _ => false,
        };
        let begin = match self.backend() {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        };
        sqlx::raw_sql(begin)
            .execute(&mut conn)
            .await
            .op("starting a snapshot")?;
        let size: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries")
            .fetch_one(&mut conn)
            .await
            .op("counting ledger entries")?;
        let signed: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(size), 0) FROM checkpoints")
            .fetch_one(&mut conn)
            .await
            .op("reading the largest checkpoint")?;
        Ok(Snapshot {
            conn,
            backend: self.backend(),
            size: size as u64,
            signed: signed.max(0) as u64,
            beside,
        })
    }

    /// Every row of `table` in key order, without the `skip` columns, as
    /// [`Snapshot::scan`] reads it.
    pub async fn scan(
        &self,
        table: &'static str,
        key: &'static [&'static str],
        skip: &'static [&'static str],
    ) -> Result<Scan<'_>, StoreError> {
        let columns = columns_on(&self.pool, self.backend(), table).await?;
        let (sql, columns) = scan_sql(self.backend(), table, &columns, key, skip);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&self.pool);
        Ok(Scan { columns, rows })
    }
}
