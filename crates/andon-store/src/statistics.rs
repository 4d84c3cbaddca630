//! Fresh planner statistics on PostgreSQL. Andon's tables only grow, and every plan, the
//! searches' made for their values and the generic ones PostgreSQL keeps for prepared
//! statements (made again when a table's statistics change), is only as good as the
//! statistics it reads. Autovacuum keeps them fresh where it runs; where it is
//! switched off, or has not come round yet after a fast start, the planner keeps estimating
//! from the tables as they were: on `bench load`'s mix a subject search estimated 695 rows
//! for a digest that has 10, scanned the whole table in parallel, and the mix fell from 884
//! to 143 calls/s over ten minutes.

use sqlx::Row as _;

use crate::error::{Op as _, StoreError};
use crate::store::{Backend, Store};

impl Store {
    /// Analyzes every table of the schema that changed by more than autovacuum's default
    /// threshold since it was last analyzed (50 rows and a tenth of the table), and returns
    /// their names. Where autovacuum runs it usually gets there first and this finds nothing.
    /// SQLite plans from its schema alone (no statistics are gathered): nothing to do.
    pub async fn refresh_statistics(&self) -> Result<Vec<String>, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let stale: Vec<String> = sqlx::query(
            "SELECT relname::text AS tbl FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() \
             AND n_mod_since_analyze > 50 + 0.1 * GREATEST(n_live_tup, 0) ORDER BY relname",
        )
        .fetch_all(&self.pool)
        .await
        .op("finding tables with stale statistics")?
        .iter()
        .map(|r| r.try_get("tbl"))
        .collect::<Result<_, sqlx::Error>>()
        .op("finding tables with stale statistics")?;
        for table in &stale {
            let quoted = table.replace('"', "\"\"");
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE \"{quoted}\"")))
                .execute(&self.pool)
                .await
                .op("analyzing a table")?;
        }
        Ok(stale)
    }
}
