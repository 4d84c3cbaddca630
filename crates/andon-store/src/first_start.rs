//! The lock servers starting together on one PostgreSQL take while they set up what a first
//! start creates (the first admin, the built-in policy): one sets it up, the others wait
//! and then find it done, instead of racing and exiting on the loser's conflict.

use sqlx::{Any, Transaction};

use crate::error::Op as _;
use crate::{Backend, Store, StoreError};

/// `b"andon-fs"` as an integer.
const FIRST_START_LOCK: i64 = 0x616e_646f_6e2d_6673;

/// Held while a start sets up the database; released by [`FirstStart::release`], or when
/// the process dies (the lock is transaction-level and goes with the connection).
pub struct FirstStart(Option<Transaction<'static, Any>>);

impl Store {
    /// Waits for the first-start lock (PostgreSQL; SQLite is one process's file, nothing to
    /// wait for).
    pub async fn lock_first_start(&self) -> Result<FirstStart, StoreError> {
        if self.backend() != Backend::Postgres {
            return Ok(FirstStart(None));
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .op("beginning the first-start lock")?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(FIRST_START_LOCK)
            .execute(&mut *tx)
            .await
            .op("taking the first-start lock")?;
        Ok(FirstStart(Some(tx)))
    }
}

impl FirstStart {
    /// Lets the next waiting server go on.
    pub async fn release(self) -> Result<(), StoreError> {
        if let Some(tx) = self.0 {
            tx.commit().await.op("releasing the first-start lock")?;
        }
        Ok(())
    }
}
