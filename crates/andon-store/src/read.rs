//! Read queries.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::error::Op;
use crate::{
    ApplicationRow, Counts, EvidenceFilter, EvidenceRow, IdentityRow, KeyRow, Store, StoreError,
    StoredCheckpoint, StoredEntry,
};

fn hash32(v: Vec<u8>, what: impl FnOnce() -> String) -> Result<[u8; 32], StoreError> {
    v.try_into().map_err(|_| StoreError::Corrupt {
        what: what(),
        detail: "not 32 bytes".into(),
    })
}

/// One column of a row, decoded.
pub(crate) fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).op("decoding a row")
}

/// The late mark kept in a row's `late_reason` and `late_by` columns (with `prefix`), if
/// the fact arrived after the late window.
pub(crate) fn late(
    row: &AnyRow,
    prefix: &str,
) -> Result<Option<andon_domain::late::Late>, StoreError> {
    let reason: Option<String> = get(row, &format!("{prefix}late_reason"))?;
    let by: Option<String> = get(row, &format!("{prefix}late_by"))?;
    Ok(reason.map(|reason| andon_domain::late::Late {
        reason,
        allowed_by: by.unwrap_or_default(),
    }))
}

/// Evidence whose subject is named by a digest (`$?`): by that digest itself, or by another
/// digest that a record of the same application tied to it (one subject of one statement
/// naming both). The ties are found first, as (digest, application) pairs, so every step
/// is a lookup by the digest index: an earlier form correlated the tie with each evidence
/// row and scanned the whole table for every search. This one statement is used only for a
/// digest with more than [`MAX_TIES`] ties (each `$?` takes the digest).
const SUBJECT_CLAUSE: &str = " AND ledger_idx IN (\
     SELECT evidence_idx FROM evidence_subjects WHERE digest = $? \
     UNION SELECT x.evidence_idx FROM (\
       SELECT DISTINCT t.digest, e.application FROM evidence_subjects s \
       JOIN evidence e ON e.ledger_idx = s.evidence_idx \
       JOIN evidence_subjects t ON t.evidence_idx = s.evidence_idx AND t.name = s.name \
         AND t.digest <> s.digest \
       WHERE s.digest = $?) tie \
     JOIN evidence_subjects x ON x.digest = tie.digest \
     JOIN evidence ex ON ex.ledger_idx = x.evidence_idx AND ex.application = tie.application)";

/// The digests tied to a digest, each with the application of the record that tied them.
const TIES: &str = "SELECT DISTINCT t.digest, e.application FROM evidence_subjects s \
     JOIN evidence e ON e.ledger_idx = s.evidence_idx \
     JOIN evidence_subjects t ON t.evidence_idx = s.evidence_idx AND t.name = s.name \
       AND t.digest <> s.digest \
     WHERE s.digest = $1 ORDER BY t.digest, e.application";

/// Past this many ties a search by subject is one statement ([`SUBJECT_CLAUSE`]) rather
/// than one branch per tie.
const MAX_TIES: usize = 16;

/// The search by subject as two statements, each cheap to plan: the ties of the digest
/// ([`TIES`]), then the evidence naming the digest or one of its ties within the tie's
/// application, one branch per tie (usually none). As one statement, planning it for its
/// values took longer than running it (0.7-1 ms against 0.2-0.3 on PostgreSQL) and was a
/// third of PostgreSQL's statement time on `bench load`'s mix. [`TIES`] is prepared once,
/// and so is the evidence statement unless the search has a range or the digest has more
/// than [`MAX_TIES`] ties (then it is a search, planned for its values). Returns the
/// clause and its values in order.
async fn subject_clause(pool: &AnyPool, digest: &str) -> Result<(String, Vec<String>), StoreError> {
    let ties: Vec<(String, String)> = sqlx::query_as(TIES)
        .bind(digest.to_owned())
        .fetch_all(pool)
        .await
        .op("finding the digests tied to a subject")?;
    if ties.len() > MAX_TIES {
        return Ok((SUBJECT_CLAUSE.to_owned(), vec![digest.to_owned(); 2]));
    }
    let mut clause = String::from(
        " AND ledger_idx IN (SELECT evidence_idx FROM evidence_subjects WHERE digest = $?",
    );
    let mut values = vec![digest.to_owned()];
    for (tied, application) in ties {
        clause.push_str(
            " UNION SELECT x.evidence_idx FROM evidence_subjects x \
             JOIN evidence ex ON ex.ledger_idx = x.evidence_idx \
             WHERE x.digest = $? AND ex.application = $?",
        );
        values.extend([tied, application]);
    }
    clause.push(')');
    Ok((clause, values))
}

impl Store {
    /// The number of ledger entries.
    pub async fn ledger_size(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_entries")
            .fetch_one(&self.pool)
            .await
            .op("counting ledger entries")?;
        Ok(n as u64)
    }

    /// The stored leaf hashes of entries `[start, end)`, in order.
    pub async fn leaf_hashes(&self, start: u64, end: u64) -> Result<Vec<[u8; 32]>, StoreError> {
        leaf_hashes_on(&self.pool, start, end).await
    }

    /// Entries `[start, start + limit)` with their documents (an evidence envelope, a webhook
    /// payload, a signed decision, a policy bundle), in order.
    pub async fn entries(&self, start: u64, limit: u32) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(ENTRIES_WITH_DOCUMENTS)
            .bind(start as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .op("reading ledger entries")?;
        rows.iter().map(entry_with_document).collect()
    }

    /// Entries from index `start` (at most `limit`, in index order) without their documents:
    /// what a start checks. A leaf hash that is not 32 bytes reads as zeros, so it fails
    /// its check instead of the read.
    pub async fn ledger_rows(
        &self,
        start: u64,
        limit: u32,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(LEDGER_ROWS)
            .bind(start as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .op("reading ledger entries")?;
        rows.iter().map(ledger_row).collect()
    }

    /// The newest stored checkpoint.
    pub async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row =
            sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await
                .op("reading the latest checkpoint")?;
        row.map(|r| checkpoint_row(&r)).transpose()
    }

    /// Every stored checkpoint with `from <= size <= to`, oldest first.
    pub async fn checkpoints(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows = sqlx::query("SELECT size, root, note FROM checkpoints WHERE size >= $1 AND size <= $2 ORDER BY size")
            .bind(from as i64)
            .bind(to as i64)
            .fetch_all(&self.pool)
            .await
            .op("reading checkpoints")?;
        rows.iter().map(checkpoint_row).collect()
    }

    /// The evidence ids among `ids` that exist, with their ledger index.
    pub async fn existing_evidence(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, ledger_idx FROM evidence WHERE id IN ({})",
                placeholders.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&self.pool).await.op("looking up evidence")? {
                let idx: i64 = get(&r, "ledger_idx")?;
                out.push((get(&r, "id")?, idx as u64));
            }
        }
        Ok(out)
    }

    /// One evidence record.
    pub async fn evidence(&self, id: &str) -> Result<Option<EvidenceRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{EVIDENCE_SELECT} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .op("reading evidence")?;
        match row {
            Some(r) => {
                let mut e = evidence_row(&r)?;
                e.subjects = subjects_of(&self.pool, e.ledger_index).await?;
                Ok(Some(e))
            }
            None => Ok(None),
        }
    }

    /// Evidence matching `filter`, newest first.
    pub async fn list_evidence(&self, f: &EvidenceFilter) -> Result<Vec<EvidenceRow>, StoreError> {
        enum Bind {
            T(String),
            I(i64),
        }
        let subject = match &f.subject_digest {
            Some(d) => Some(subject_clause(&self.pool, d).await?),
            None => None,
        };
        let mut sql = format!("{EVIDENCE_SELECT} WHERE 1 = 1");
        let mut binds: Vec<Bind> = Vec::new();
        // Each `$?` of the clause takes the next value; no values, no clause.
        let mut and = |clause: &str, values: Vec<Bind>| {
            if values.is_empty() {
                return;
            }
            let mut clause = clause.to_owned();
            for v in values {
                binds.push(v);
                clause = clause.replacen("$?", &format!("${}", binds.len()), 1);
            }
            sql.push_str(&clause);
        };
        let text = |v: &Option<String>| v.iter().cloned().map(Bind::T).collect();
        let int = |v: Option<i64>| v.into_iter().map(Bind::I).collect();
        and(" AND application = $?", text(&f.application));
        and(" AND predicate_type = $?", text(&f.predicate_type));
        and(" AND run = $?", text(&f.run));
        and(" AND signer = $?", text(&f.signer));
        let many_ties = subject
            .as_ref()
            .is_some_and(|(clause, _)| clause == SUBJECT_CLAUSE);
        if let Some((clause, values)) = subject {
            and(&clause, values.into_iter().map(Bind::T).collect());
        }
        // A range's plan depends on where it falls: such a search is planned for its values.
        let ranged = f.since_ms.is_some() || f.until_ms.is_some() || f.before_index.is_some();
        and(" AND created_at >= $?", int(f.since_ms));
        and(" AND created_at < $?", int(f.until_ms));
        and(
            " AND ledger_idx < $?",
            int(f.before_index.map(|i| i as i64)),
        );
        sql.push_str(&format!(
            " ORDER BY ledger_idx DESC LIMIT {}",
            f.limit.clamp(1, 1000)
        ));
        let mut q = if ranged || many_ties {
            self.search(sql)
        } else {
            sqlx::query(sqlx::AssertSqlSafe(sql))
        };
        for b in binds {
            q = match b {
                Bind::T(t) => q.bind(t),
                Bind::I(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await.op("listing evidence")?;
        let mut out: Vec<EvidenceRow> = rows.iter().map(evidence_row).collect::<Result<_, _>>()?;
        // The subjects of the whole page in one query, not one per row.
        if !out.is_empty() {
            let placeholders: Vec<String> = (1..=out.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT evidence_idx, name, digest FROM evidence_subjects WHERE evidence_idx IN ({}) \
                 ORDER BY evidence_idx, name, digest",
                placeholders.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in &out {
                q = q.bind(e.ledger_index as i64);
            }
            let mut by_idx: std::collections::HashMap<u64, Vec<(String, String)>> =
                std::collections::HashMap::new();
            for r in q.fetch_all(&self.pool).await.op("reading subjects")? {
                let idx: i64 = get(&r, "evidence_idx")?;
                by_idx
                    .entry(idx as u64)
                    .or_default()
                    .push((get(&r, "name")?, get(&r, "digest")?));
            }
            for e in &mut out {
                e.subjects = by_idx.remove(&e.ledger_index).unwrap_or_default();
            }
        }
        Ok(out)
    }

    /// The raw document of an evidence record, by its id (sha256 hex).
    pub async fn document(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT document FROM evidence WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .op("reading a document")
    }

    /// The identity a token hash belongs to.
    pub async fn identity_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<IdentityRow>, StoreError> {
        let row = sqlx::query(
            "SELECT i.name, i.role, i.applications, i.approver_groups, i.ledger_idx FROM tokens t \
             JOIN identities i ON i.name = t.identity WHERE t.hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .op("authenticating a token")?;
        row.map(|r| identity_row(&r)).transpose()
    }

    /// One identity.
    pub async fn identity(&self, name: &str) -> Result<Option<IdentityRow>, StoreError> {
        let row = sqlx::query(
            "SELECT name, role, applications, approver_groups, ledger_idx FROM identities WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .op("reading an identity")?;
        row.map(|r| identity_row(&r)).transpose()
    }

    /// All identities, by name.
    pub async fn identities(&self) -> Result<Vec<IdentityRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, role, applications, approver_groups, ledger_idx FROM identities ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .op("listing identities")?;
        rows.iter().map(identity_row).collect()
    }

    /// All applications, by name.
    pub async fn applications(&self) -> Result<Vec<ApplicationRow>, StoreError> {
        let rows = sqlx::query("SELECT name, team, ledger_idx FROM applications ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .op("listing applications")?;
        rows.iter()
            .map(|r| {
                let idx: i64 = get(r, "ledger_idx")?;
                Ok(ApplicationRow {
                    name: get(r, "name")?,
                    team: get(r, "team")?,
                    ledger_index: idx as u64,
                })
            })
            .collect()
    }

    /// Whether an application of this name was created (one row by its key, not the list).
    pub async fn application_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT 1 FROM applications WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&self.pool)
                .await
                .op("finding an application")?
                .is_some(),
        )
    }

    /// A signing key by id.
    pub async fn key(&self, keyid: &str) -> Result<Option<KeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT keyid, identity, public_key, revoked_at FROM signing_keys WHERE keyid = $1",
        )
        .bind(keyid)
        .fetch_optional(&self.pool)
        .await
        .op("reading a key")?;
        row.map(|r| {
            let keyid: String = get(&r, "keyid")?;
            Ok(KeyRow {
                public_key: get(&r, "public_key")?,
                identity: get(&r, "identity")?,
                revoked_at: get(&r, "revoked_at")?,
                keyid,
            })
        })
        .transpose()
    }

    /// Row counts of the tables that intake writes.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM ledger_entries) AS l, (SELECT COUNT(*) FROM evidence) AS e, \
             (SELECT COUNT(*) FROM evidence_subjects) AS s, \
             (SELECT COUNT(*) FROM identities) AS i, (SELECT COUNT(*) FROM signing_keys) AS k, \
             (SELECT COUNT(*) FROM checkpoints) AS c, (SELECT COUNT(*) FROM reports) AS r",
        )
        .fetch_one(&self.pool)
        .await
        .op("counting rows")?;
        let n = |c: &str| get::<i64>(&row, c).map(|v| v as u64);
        Ok(Counts {
            ledger_entries: n("l")?,
            evidence: n("e")?,
            evidence_subjects: n("s")?,
            identities: n("i")?,
            keys: n("k")?,
            checkpoints: n("c")?,
            reports: n("r")?,
        })
    }
}

const EVIDENCE_SELECT: &str = "SELECT id, ledger_idx, application, run, predicate_type, signer, keyid, created_at, summary, keyless FROM evidence";

pub(crate) fn evidence_row(r: &AnyRow) -> Result<EvidenceRow, StoreError> {
    let idx: i64 = get(r, "ledger_idx")?;
    Ok(EvidenceRow {
        id: get(r, "id")?,
        ledger_index: idx as u64,
        application: get(r, "application")?,
        run: get(r, "run")?,
        predicate_type: get(r, "predicate_type")?,
        signer: get(r, "signer")?,
        keyid: get(r, "keyid")?,
        created_at: get(r, "created_at")?,
        summary: get(r, "summary")?,
        keyless: get(r, "keyless")?,
        subjects: Vec::new(),
    })
}

async fn subjects_of(
    pool: &AnyPool,
    ledger_index: u64,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT name, digest FROM evidence_subjects WHERE evidence_idx = $1 ORDER BY name, digest",
    )
    .bind(ledger_index as i64)
    .fetch_all(pool)
    .await
    .op("reading subjects")?;
    rows.iter()
        .map(|r| Ok((get(r, "name")?, get(r, "digest")?)))
        .collect()
}

fn identity_row(r: &AnyRow) -> Result<IdentityRow, StoreError> {
    let name: String = get(r, "name")?;
    let apps: String = get(r, "applications")?;
    let groups: String = get(r, "approver_groups")?;
    let idx: i64 = get(r, "ledger_idx")?;
    Ok(IdentityRow {
        groups: serde_json::from_str(&groups).map_err(|e| StoreError::Corrupt {
            what: format!("groups of identity {name}"),
            detail: e.to_string(),
        })?,
        applications: serde_json::from_str(&apps).map_err(|e| StoreError::Corrupt {
            what: format!("applications of identity {name}"),
            detail: e.to_string(),
        })?,
        role: get(r, "role")?,
        ledger_index: idx as u64,
        name,
    })
}

pub(crate) fn checkpoint_row(r: &AnyRow) -> Result<StoredCheckpoint, StoreError> {
    let size: i64 = get(r, "size")?;
    Ok(StoredCheckpoint {
        size: size as u64,
        root: hash32(get(r, "root")?, || format!("root of checkpoint {size}"))?,
        note: get(r, "note")?,
    })
}

/// The stored leaf hashes of entries `[start, end)`, in order, read through `ex`.
async fn leaf_hashes_on<'e, E>(ex: E, start: u64, end: u64) -> Result<Vec<[u8; 32]>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT idx, leaf_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
    )
    .bind(start as i64)
    .bind(end as i64)
    .fetch_all(ex)
    .await
    .op("reading leaf hashes")?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let idx: i64 = get(r, "idx")?;
        if idx as u64 != start + i as u64 {
            return Err(StoreError::Corrupt {
                what: format!("ledger entry {}", start + i as u64),
                detail: format!("missing; the next stored entry is {idx}"),
            });
        }
        out.push(hash32(get(r, "leaf_hash")?, || {
            format!("leaf hash of entry {idx}")
        })?);
    }
    Ok(out)
}

/// What other servers appended: the leaf hashes of `[start, end)` and the newest checkpoint.
pub(crate) async fn appended_since(
    conn: &mut sqlx::AnyConnection,
    start: u64,
    end: u64,
) -> Result<(Vec<[u8; 32]>, Option<StoredCheckpoint>), StoreError> {
    let leaves = leaf_hashes_on(&mut *conn, start, end).await?;
    let row = sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .op("reading the latest checkpoint")?;
    Ok((leaves, row.map(|r| checkpoint_row(&r)).transpose()?))
}

/// Entries from `$1` (at most `$2`) with their documents. Each join repeats the lower
/// bound: PostgreSQL does not carry it across an outer join, and its merge join then read
/// every document table from its first row for every page (190 ms a page at 100,000
/// entries, 6 ms with it).
pub(crate) const ENTRIES_WITH_DOCUMENTS: &str = "SELECT l.idx, l.kind, l.leaf_hash, l.entry, \
     COALESCE(e.document, d.payload, g.envelope, p.bundle) AS document \
     FROM ledger_entries l \
     LEFT JOIN evidence e ON e.ledger_idx = l.idx AND e.ledger_idx >= $1 \
     LEFT JOIN scm_deliveries d ON d.ledger_idx = l.idx AND d.ledger_idx >= $1 \
     LEFT JOIN decisions g ON g.ledger_idx = l.idx AND g.ledger_idx >= $1 \
     LEFT JOIN policies p ON p.ledger_idx = l.idx AND p.ledger_idx >= $1 \
     WHERE l.idx >= $1 ORDER BY l.idx LIMIT $2";

/// One row of [`ENTRIES_WITH_DOCUMENTS`].
pub(crate) fn entry_with_document(r: &sqlx::any::AnyRow) -> Result<StoredEntry, StoreError> {
    let idx: i64 = get(r, "idx")?;
    Ok(StoredEntry {
        index: idx as u64,
        kind: get(r, "kind")?,
        leaf_hash: hash32(get(r, "leaf_hash")?, || format!("leaf hash of entry {idx}"))?,
        entry: get(r, "entry")?,
        document: get(r, "document")?,
    })
}

/// The query of [`Store::ledger_rows`]: entries from `$1`, at most `$2`, without documents.
const LEDGER_ROWS: &str = "SELECT idx, kind, leaf_hash, entry FROM ledger_entries \
     WHERE idx >= $1 ORDER BY idx LIMIT $2";

/// One row of [`LEDGER_ROWS`]. A leaf hash that is not 32 bytes reads as zeros, so it fails
/// its check instead of the read.
fn ledger_row(r: &sqlx::any::AnyRow) -> Result<StoredEntry, StoreError> {
    let idx: i64 = get(r, "idx")?;
    let leaf: Vec<u8> = get(r, "leaf_hash")?;
    Ok(StoredEntry {
        index: idx as u64,
        kind: get(r, "kind")?,
        leaf_hash: leaf.try_into().unwrap_or([0; 32]),
        entry: get(r, "entry")?,
        document: None,
    })
}
