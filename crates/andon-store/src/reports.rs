//! Reports uploaded on their own, content-addressed by their SHA-256: the bytes of evidence
//! too large to carry inline. The caller checks the digest before it stores; the row is
//! never changed afterwards (a trigger refuses updates).

use sqlx::Row as _;

use crate::error::Op as _;
use crate::{Store, StoreError};

impl Store {
    /// Stores a report under its digest (64 lowercase hex), unless it is already stored;
    /// whether it was new. `content` is taken, not copied: a report may be large.
    pub async fn put_report(
        &self,
        digest_hex: &str,
        content: Vec<u8>,
        at_ms: i64,
    ) -> Result<bool, StoreError> {
        let size = content.len() as i64;
        let done = sqlx::query(
            "INSERT INTO reports (digest, size, content, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest_hex.to_owned())
        .bind(size)
        .bind(content)
        .bind(at_ms)
        .execute(&self.pool)
        .await
        .op("storing a report")?;
        Ok(done.rows_affected() == 1)
    }

    /// The size a stored report says it has, without reading it.
    pub async fn report_size(&self, digest_hex: &str) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query("SELECT size FROM reports WHERE digest = $1")
            .bind(digest_hex.to_owned())
            .fetch_optional(&self.pool)
            .await
            .op("reading a report's size")?;
        row.map(|r| r.try_get::<i64, _>("size").map(|s| s as u64))
            .transpose()
            .op("reading a report's size")
    }

    /// A stored report's bytes.
    pub async fn report(&self, digest_hex: &str) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT content FROM reports WHERE digest = $1")
            .bind(digest_hex.to_owned())
            .fetch_optional(&self.pool)
            .await
            .op("reading a report")
    }
}
