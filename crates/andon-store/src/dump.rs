//! Whole tables as text, for comparing the database with the ledger's projection.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Op;
use crate::{Store, StoreError};

/// One row: its columns by name, each value as text (`None` for NULL; bytes as
/// `sha256:<hex>` of them, so documents compare without being held twice).
pub type TextRow = Vec<(String, Option<String>)>;

fn cell(row: &AnyRow, i: usize) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return v.map(|b| {
            format!(
                "sha256:{}",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b))
            )
        });
    }
    Some("<undecodable>".into())
}

/// Reads one table inside `ex` (a pool or a transaction).
async fn rows_on<'e, E>(
    ex: E,
    table: &'static str,
    order: &'static [&'static str],
) -> Result<Vec<TextRow>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!("SELECT * FROM {table} ORDER BY {}", order.join(", "));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(ex)
        .await
        .op("reading a table")?;
    Ok(rows
        .iter()
        .map(|r| {
            r.columns()
                .iter()
                .enumerate()
                .map(|(i, c)| (sqlx::Column::name(c).to_owned(), cell(r, i)))
                .collect()
        })
        .collect())
}

impl Store {
    /// The number of ledger entries and every row of `tables` (name, ordering columns),
    /// read in one snapshot: no append lands between them.
    pub async fn snapshot_tables(
        &self,
        tables: &[(&'static str, &'static [&'static str])],
    ) -> Result<(u64, Vec<Vec<TextRow>>), StoreError> {
        let mut tx = self.pool.begin().await.op("starting a snapshot")?;
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut *tx)
                .await
                .op("starting a snapshot")?;
        }
        let size: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries")
            .fetch_one(&mut *tx)
            .await
            .op("counting ledger entries")?;
        let mut out = Vec::with_capacity(tables.len());
        for (table, order) in tables {
            out.push(rows_on(&mut *tx, table, order).await?);
        }
        tx.commit().await.op("ending a snapshot")?;
        Ok((size as u64, out))
    }

    /// Every row of `table`, ordered by `order` (column names; the caller's constants, never
    /// input).
    pub async fn table_rows(
        &self,
        table: &'static str,
        order: &'static [&'static str],
    ) -> Result<Vec<TextRow>, StoreError> {
        rows_on(&self.pool, table, order).await
    }
}
