//! What an operator with database access can do around the server, for the hostile-operator
//! tests.

use crate::common::Harness;

/// Runs `statements` on the harness's database, around the server.
pub fn execute(h: &Harness, statements: &[String]) {
    h.rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&h.db.url).await.expect("connect");
        for s in statements {
            sqlx::Executor::execute(&pool, sqlx::AssertSqlSafe(s.clone()))
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    });
}
