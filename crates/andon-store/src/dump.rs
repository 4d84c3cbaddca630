//! Whole tables as text, for comparing the database with the ledger's projection.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::error::Op;
use crate::{Store, StoreError};

/// One row: its columns by name, each value as text (`None` for NULL; bytes as `x<hex>`).
pub type TextRow = Vec<(String, Option<String>)>;

fn cell(row: &AnyRow, i: usize) -> Option<String> {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map(|n| n.to_string());
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v;
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return v.map(|b| format!("x{}", hex::encode(b)));
    }
    Some("<undecodable>".into())
}

impl Store {
    /// Every row of `table`, ordered by `order` (column names; the caller's constants, never
    /// input).
    pub async fn table_rows(
        &self,
        table: &'static str,
        order: &'static [&'static str],
    ) -> Result<Vec<TextRow>, StoreError> {
        let sql = format!("SELECT * FROM {table} ORDER BY {}", order.join(", "));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
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
}
