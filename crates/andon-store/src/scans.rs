//! The vulnerability reports attested for a set of artifacts, in one query per batch of
//! digests: what the vulnerability items and the impact query read of what runs.

use crate::error::{Op as _, StoreError};
use crate::read::{evidence_row, get};
use crate::rows::EvidenceRow;
use crate::store::Store;

/// Digests per query.
const BATCH: usize = 500;

impl Store {
    /// The evidence of `predicate_type` naming each of `digests` (`sha256:<hex>`), newest
    /// first: (the digest asked, the record). A record naming several of them is listed
    /// once per digest. Subjects are not read.
    pub async fn evidence_on_digests(
        &self,
        predicate_type: &str,
        digests: &[String],
    ) -> Result<Vec<(String, EvidenceRow)>, StoreError> {
        let mut out = Vec::new();
        for chunk in digests.chunks(BATCH) {
            let stored: Vec<String> = chunk
                .iter()
                .map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_owned())
                .collect();
            let placeholders: Vec<String> =
                (2..=stored.len() + 1).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT e.id, e.ledger_idx, e.application, e.run, e.predicate_type, e.signer, e.keyid, \
                 e.created_at, e.summary, e.keyless, s.digest AS subject FROM evidence e \
                 JOIN evidence_subjects s ON s.evidence_idx = e.ledger_idx \
                 WHERE e.predicate_type = $1 AND s.digest IN ({}) ORDER BY e.ledger_idx DESC",
                placeholders.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(predicate_type.to_owned());
            for d in &stored {
                q = q.bind(d.clone());
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .op("reading reports on artifacts")?
            {
                let subject: String = get(&r, "subject")?;
                let digest = if subject.contains(':') {
                    subject
                } else {
                    format!("sha256:{subject}")
                };
                out.push((digest, evidence_row(&r)?));
            }
        }
        Ok(out)
    }
}
