//! Witnesses' cosignatures on stored checkpoints (C2SP tlog-cosignature): kept as the
//! signature lines the witnesses returned, verified by the caller before they are added.

use sqlx::Row as _;

use crate::error::Op as _;
use crate::read::checkpoint_row;
use crate::{Store, StoreError, StoredCheckpoint};

/// One witness's cosignature on the checkpoint of `size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCosignature {
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The witness's name.
    pub witness: String,
    /// The witness's timestamp, seconds since the epoch.
    pub cosigned_at: u64,
    /// The signature line, without its newline.
    pub line: String,
}

impl Store {
    /// Keeps a cosignature; a witness's later cosignature of the same size replaces its
    /// earlier one.
    pub async fn add_cosignature(&self, c: &StoredCosignature) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cosignatures (size, witness, cosigned_at, line) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size, witness) DO UPDATE SET cosigned_at = excluded.cosigned_at, line = excluded.line",
        )
        .bind(c.size as i64)
        .bind(c.witness.clone())
        .bind(c.cosigned_at as i64)
        .bind(c.line.clone())
        .execute(&self.pool)
        .await
        .op("storing a cosignature")?;
        Ok(())
    }

    /// The cosignatures of the checkpoint of `size`, by witness name.
    pub async fn cosignatures(&self, size: u64) -> Result<Vec<StoredCosignature>, StoreError> {
        let rows = sqlx::query(
            "SELECT size, witness, cosigned_at, line FROM cosignatures WHERE size = $1 ORDER BY witness",
        )
        .bind(size as i64)
        .fetch_all(&self.pool)
        .await
        .op("reading cosignatures")?;
        rows.iter()
            .map(|r| {
                let size: i64 = r.try_get("size")?;
                let at: i64 = r.try_get("cosigned_at")?;
                Ok(StoredCosignature {
                    size: size as u64,
                    witness: r.try_get("witness")?,
                    cosigned_at: at as u64,
                    line: r.try_get("line")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .op("reading cosignatures")
    }

    /// The newest checkpoint that a witness cosigned, with its cosignatures.
    pub async fn latest_cosigned(
        &self,
    ) -> Result<Option<(StoredCheckpoint, Vec<StoredCosignature>)>, StoreError> {
        let row = sqlx::query(
            "SELECT c.size, c.root, c.note FROM checkpoints c \
             WHERE c.size = (SELECT MAX(size) FROM cosignatures)",
        )
        .fetch_optional(&self.pool)
        .await
        .op("reading the latest cosigned checkpoint")?;
        let Some(row) = row else { return Ok(None) };
        let cp = checkpoint_row(&row)?;
        let cosignatures = self.cosignatures(cp.size).await?;
        Ok(Some((cp, cosignatures)))
    }
}
