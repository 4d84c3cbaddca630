//! Entries of chosen kinds, for state the application rebuilds from the ledger itself.

use crate::error::Op;
use crate::read::get;
use crate::{Store, StoreError};

impl Store {
    /// The entries of `kinds` among `[start, end)`, as (index, entry bytes), in order, at
    /// most `limit`. The caller checks each against the verified tree: the `kind` column is
    /// only an index.
    pub async fn entries_of_kinds(
        &self,
        start: u64,
        end: u64,
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        // Only placeholders are formatted in; the kinds are bound.
        let list = (0..kinds.len())
            .map(|i| format!("${}", i + 4))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT idx, entry FROM ledger_entries WHERE idx >= $1 AND idx < $2 AND kind IN ({list}) ORDER BY idx LIMIT $3"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(start as i64)
            .bind(end as i64)
            .bind(limit as i64);
        for k in kinds {
            q = q.bind(*k);
        }
        let rows = q
            .fetch_all(&self.pool)
            .await
            .op("reading ledger entries by kind")?;
        rows.iter()
            .map(|r| {
                let idx: i64 = get(r, "idx")?;
                Ok((idx as u64, get(r, "entry")?))
            })
            .collect()
    }
}
