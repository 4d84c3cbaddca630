//! How much room each table and its indexes take: what an operator sizes disks by, and what
//! the soak benchmark reports per 100,000 entries.

use sqlx::Row as _;

use crate::error::{Op as _, StoreError};
use crate::store::{Backend, Store};

/// The bytes one table takes, and its indexes beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSize {
    /// The table's name.
    pub table: String,
    /// Its rows (SQLite: its b-tree's pages; PostgreSQL: the heap and TOAST).
    pub table_bytes: u64,
    /// All of its indexes together.
    pub index_bytes: u64,
}

impl Store {
    /// The size of every table of the schema, largest first. SQLite reads every page to
    /// count them (the `dbstat` table), so on a large file this takes as long as reading
    /// it; PostgreSQL answers from its relation sizes at once.
    pub async fn table_sizes(&self) -> Result<Vec<TableSize>, StoreError> {
        let sql = match self.backend() {
            // An index's pages are its table's; a table's implicit primary-key index
            // (`sqlite_autoindex_...`) counts as an index too.
            Backend::Sqlite => {
                "SELECT m.tbl_name AS tbl, \
                 CAST(SUM(CASE WHEN m.type = 'table' THEN d.pgsize ELSE 0 END) AS INTEGER) AS t, \
                 CAST(SUM(CASE WHEN m.type = 'index' THEN d.pgsize ELSE 0 END) AS INTEGER) AS i \
                 FROM dbstat d JOIN sqlite_master m ON m.name = d.name \
                 WHERE m.tbl_name NOT LIKE 'sqlite_%' GROUP BY m.tbl_name"
            }
            Backend::Postgres => {
                "SELECT c.relname::text AS tbl, pg_table_size(c.oid)::bigint AS t, \
                 pg_indexes_size(c.oid)::bigint AS i \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
            }
        };
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .op("reading table sizes")?;
        let mut out = rows
            .iter()
            .map(|r| {
                let bytes = |c: &str| r.try_get::<i64, _>(c).map(|v| v.max(0) as u64);
                Ok(TableSize {
                    table: r.try_get("tbl")?,
                    table_bytes: bytes("t")?,
                    index_bytes: bytes("i")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .op("reading table sizes")?;
        out.sort_by(|a, b| {
            (b.table_bytes + b.index_bytes)
                .cmp(&(a.table_bytes + a.index_bytes))
                .then_with(|| a.table.cmp(&b.table))
        });
        Ok(out)
    }
}
