//! Multi-row inserts: the rows of one table, bound as values and inserted with as few
//! statements as the parameter limits allow, in each backend's placeholder style.

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Transaction};

use crate::error::Op;
use crate::{Backend, StoreError};

/// A value bound into a multi-row insert.
pub(crate) enum Val {
    /// An integer.
    I(i64),
    /// Text.
    T(String),
    /// Text or NULL.
    OptT(Option<String>),
    /// Bytes.
    B(Vec<u8>),
}

/// Rows for one table, inserted with as few statements as the parameter limits allow.
pub(crate) struct Rows {
    head: &'static str,
    width: usize,
    vals: Vec<Val>,
    tail: &'static str,
}

impl Rows {
    /// Rows for the statement `head VALUES (...), (...) tail`, `width` values each.
    pub(crate) fn new(head: &'static str, width: usize, tail: &'static str) -> Self {
        Self {
            head,
            width,
            vals: Vec::new(),
            tail,
        }
    }

    /// Adds one row: `width` values, in the columns' order.
    pub(crate) fn row(&mut self, vals: impl IntoIterator<Item = Val>) {
        self.vals.extend(vals);
    }

    /// Inserts the rows. SQLite gets anonymous `?` placeholders: with `$n` names sqlx looks
    /// each one up by name, which is quadratic in the number of parameters (measured: 40% of
    /// the time of a 200-row batch). PostgreSQL needs `$n`.
    pub(crate) async fn insert(
        self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
        op: &'static str,
    ) -> Result<(), StoreError> {
        const MAX_PARAMS: usize = 30_000;
        let rows_per_stmt = (MAX_PARAMS / self.width).max(1);
        let mut vals = self.vals.into_iter().peekable();
        while vals.peek().is_some() {
            let mut sql = String::from(self.head);
            sql.push_str(" VALUES ");
            let mut args = AnyArguments::default();
            let mut n = 0;
            for r in 0..rows_per_stmt {
                if vals.peek().is_none() {
                    break;
                }
                if r > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for c in 0..self.width {
                    let v = vals.next().ok_or_else(|| StoreError::Corrupt {
                        what: op.into(),
                        detail: "row width mismatch".into(),
                    })?;
                    n += 1;
                    if c > 0 {
                        sql.push(',');
                    }
                    if backend == Backend::Sqlite {
                        sql.push('?');
                    } else {
                        sql.push('$');
                        sql.push_str(&n.to_string());
                    }
                    let bound = match v {
                        Val::I(i) => args.add(i),
                        Val::T(t) => args.add(t),
                        Val::OptT(t) => args.add(t),
                        Val::B(b) => args.add(b),
                    };
                    bound.map_err(|e| StoreError::Query {
                        op,
                        source: sqlx::Error::Encode(e),
                    })?;
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(self.tail);
            sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
                .execute(&mut **tx)
                .await
                .op(op)?;
        }
        Ok(())
    }
}
