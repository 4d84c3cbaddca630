//! The order of a paged listing: one column and a direction, ties broken by ledger index,
//! paged by the ledger index of the last row shown (a keyset, so a page costs the same
//! wherever it starts and rows recorded meanwhile shift nothing).

/// How a listing is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// The column (one the listing names; never from a caller's text).
    pub column: &'static str,
    /// Largest, latest or Z first.
    pub descending: bool,
}

impl Sort {
    /// Ledger order, newest first: every listing's default.
    pub const RECORDED: Sort = Sort {
        column: "ledger_idx",
        descending: true,
    };

    /// The condition for the rows after the one at ledger index `param` of `table`.
    pub(crate) fn after(&self, table: &str, param: &str) -> String {
        let op = if self.descending { "<" } else { ">" };
        if self.column == "ledger_idx" {
            format!("ledger_idx {op} {param}")
        } else {
            let c = self.column;
            format!(
                "({c}, ledger_idx) {op} (SELECT {c}, ledger_idx FROM {table} WHERE ledger_idx = {param})"
            )
        }
    }

    /// The ORDER BY clause.
    pub(crate) fn order_by(&self) -> String {
        let d = if self.descending { "DESC" } else { "ASC" };
        if self.column == "ledger_idx" {
            format!(" ORDER BY ledger_idx {d}")
        } else {
            format!(" ORDER BY {} {d}, ledger_idx {d}", self.column)
        }
    }
}

/// A search: a statement whose best plan depends on its values (a range of times or ledger
/// indexes, a digest with many ties). On PostgreSQL it is an unnamed statement, planned for
/// its values each time it runs; every other statement is prepared once per connection and
/// may run on the generic plan PostgreSQL keeps for it. On `bench load`'s mix, planning
/// every statement for its values was more than half of PostgreSQL's statement time, and a
/// generic plan for the check of what changed since a gate gathered was 25 times slower
/// than one made for its values. SQLite plans without the values: the statement stays
/// prepared there.
impl crate::Store {
    pub(crate) fn search<'q>(
        &self,
        sql: String,
    ) -> sqlx::query::Query<'q, sqlx::Any, <sqlx::Any as sqlx::Database>::Arguments> {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .persistent(self.backend() != crate::store::Backend::Postgres)
    }
}
