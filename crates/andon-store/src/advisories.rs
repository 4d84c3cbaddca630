//! OSV advisories as imported: the effect of an `advisory.imported` entry, and the reads the
//! impact query makes (an id or alias to its advisories, and their affected packages).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::error::{Op as _, StoreError};
use crate::read::get;
use crate::store::Store;

/// The rows an imported advisory writes: it replaces any earlier version of the same id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdvisoryEffect {
    /// The record's id.
    pub id: String,
    /// Its `modified` time, as the record gives it.
    pub modified: String,
    /// Its `published` time.
    pub published: Option<String>,
    /// When it was withdrawn.
    pub withdrawn: Option<String>,
    /// One line.
    pub summary: Option<String>,
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    pub severity: String,
    /// SHA-256 (hex) of the record as sent.
    pub sha256: String,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// Its affected packages, in the record's order.
    pub packages: Vec<AdvisoryPackage>,
}

/// One affected package of an advisory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryPackage {
    /// The OSV ecosystem (`PyPI`, `npm`, `Debian:12`).
    pub ecosystem: String,
    /// The package key: purl type (empty when Andon cannot map the package).
    pub purl_type: String,
    /// Purl namespace.
    pub purl_namespace: String,
    /// Purl name.
    pub purl_name: String,
    /// The record's `affected` entry (ranges, versions), JSON.
    pub affected: String,
}

/// An advisory as stored, with its affected packages.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredAdvisory {
    /// The entry that imported this version.
    pub ledger_idx: u64,
    /// The rows.
    pub advisory: AdvisoryEffect,
}

/// Writes an imported advisory, replacing an earlier version of the same id.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    idx: i64,
    at: i64,
    a: &AdvisoryEffect,
) -> Result<(), StoreError> {
    for table in ["advisory_aliases", "advisory_packages"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE advisory_id = $1"
        )))
        .bind(a.id.clone())
        .execute(&mut **tx)
        .await
        .op("replacing an advisory")?;
    }
    sqlx::query("DELETE FROM advisories WHERE id = $1")
        .bind(a.id.clone())
        .execute(&mut **tx)
        .await
        .op("replacing an advisory")?;
    sqlx::query(
        "INSERT INTO advisories (id, ledger_idx, modified, published, withdrawn, summary, severity, sha256, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.id.clone())
    .bind(idx)
    .bind(a.modified.clone())
    .bind(a.published.clone())
    .bind(a.withdrawn.clone())
    .bind(a.summary.clone())
    .bind(a.severity.clone())
    .bind(a.sha256.clone())
    .bind(at)
    .execute(&mut **tx)
    .await
    .op("recording an advisory")?;
    let aliases: BTreeSet<&String> = a.aliases.iter().collect();
    for alias in aliases {
        sqlx::query("INSERT INTO advisory_aliases (alias, advisory_id) VALUES ($1, $2)")
            .bind(alias.clone())
            .bind(a.id.clone())
            .execute(&mut **tx)
            .await
            .op("recording an advisory's aliases")?;
    }
    for (seq, p) in a.packages.iter().enumerate() {
        sqlx::query(
            "INSERT INTO advisory_packages (advisory_id, seq, ecosystem, purl_type, purl_namespace, purl_name, affected) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.id.clone())
        .bind(seq as i64)
        .bind(p.ecosystem.clone())
        .bind(p.purl_type.clone())
        .bind(p.purl_namespace.clone())
        .bind(p.purl_name.clone())
        .bind(p.affected.clone())
        .execute(&mut **tx)
        .await
        .op("recording an advisory's packages")?;
    }
    Ok(())
}

impl Store {
    /// The `modified` time recorded for each of `ids` that is recorded.
    pub async fn advisory_versions(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id, modified FROM advisories WHERE id IN ({})",
                marks.join(", ")
            )));
            for id in chunk {
                q = q.bind(id.clone());
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .op("reading advisory versions")?
            {
                out.push((get(&r, "id")?, get(&r, "modified")?));
            }
        }
        Ok(out)
    }

    /// The advisories a vulnerability id names: the advisory of that id, those listing it
    /// as an alias, and those sharing an alias with either (a CVE's GHSA and PYSEC records).
    pub async fn advisories_named(&self, id: &str) -> Result<Vec<StoredAdvisory>, StoreError> {
        let mut names: BTreeSet<String> = BTreeSet::from([id.to_owned()]);
        let direct: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM advisories WHERE id = $1 UNION SELECT advisory_id FROM advisory_aliases WHERE alias = $1",
        )
        .bind(id.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("finding advisories")?;
        for a in &direct {
            names.insert(a.clone());
            let aliases: Vec<String> =
                sqlx::query_scalar("SELECT alias FROM advisory_aliases WHERE advisory_id = $1")
                    .bind(a.clone())
                    .fetch_all(&self.pool)
                    .await
                    .op("finding advisories")?;
            names.extend(aliases);
        }
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for n in &names {
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM advisories WHERE id = $1 UNION SELECT advisory_id FROM advisory_aliases WHERE alias = $1",
            )
            .bind(n.clone())
            .fetch_all(&self.pool)
            .await
            .op("finding advisories")?;
            ids.extend(found);
        }
        let mut out = Vec::new();
        for id in ids {
            if let Some(a) = self.advisory(&id).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// The advisories with an affected package among `keys` (type, namespace, name).
    pub async fn advisories_on(
        &self,
        keys: &[(String, String, String)],
    ) -> Result<Vec<StoredAdvisory>, StoreError> {
        let wanted: BTreeSet<&(String, String, String)> = keys.iter().collect();
        let names: BTreeSet<&String> = keys.iter().map(|k| &k.2).collect();
        let names: Vec<&String> = names.into_iter().collect();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for chunk in names.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT advisory_id, purl_type, purl_namespace, purl_name FROM advisory_packages \
                 WHERE purl_name IN ({})",
                marks.join(", ")
            )));
            for n in chunk {
                q = q.bind((*n).clone());
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .op("finding packages' advisories")?
            {
                let key = (
                    get(&r, "purl_type")?,
                    get(&r, "purl_namespace")?,
                    get(&r, "purl_name")?,
                );
                if wanted.contains(&key) {
                    ids.insert(get(&r, "advisory_id")?);
                }
            }
        }
        let mut out = Vec::new();
        for id in ids {
            if let Some(a) = self.advisory(&id).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// The advisories recorded, newest import first, at most `limit`, with their aliases.
    pub async fn advisory_list(&self, limit: u32) -> Result<Vec<StoredAdvisory>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, ledger_idx, modified, published, withdrawn, summary, severity, sha256 \
             FROM advisories ORDER BY ledger_idx DESC LIMIT {}",
            limit.clamp(1, 1000)
        )))
        .fetch_all(&self.pool)
        .await
        .op("listing advisories")?;
        let mut aliases: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        for r in sqlx::query("SELECT alias, advisory_id FROM advisory_aliases ORDER BY alias")
            .fetch_all(&self.pool)
            .await
            .op("listing advisory aliases")?
        {
            aliases
                .entry(get(&r, "advisory_id")?)
                .or_default()
                .push(get(&r, "alias")?);
        }
        rows.iter()
            .map(|r| {
                let id: String = get(r, "id")?;
                Ok(StoredAdvisory {
                    ledger_idx: get::<i64>(r, "ledger_idx")? as u64,
                    advisory: AdvisoryEffect {
                        aliases: aliases.remove(&id).unwrap_or_default(),
                        id,
                        modified: get(r, "modified")?,
                        published: get(r, "published")?,
                        withdrawn: get(r, "withdrawn")?,
                        summary: get(r, "summary")?,
                        severity: get(r, "severity")?,
                        sha256: get(r, "sha256")?,
                        packages: Vec::new(),
                    },
                })
            })
            .collect()
    }

    /// Whether any advisory was ever imported.
    pub async fn any_advisory(&self) -> Result<bool, StoreError> {
        let one: Option<String> = sqlx::query_scalar("SELECT id FROM advisories LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .op("looking for advisories")?;
        Ok(one.is_some())
    }

    /// One advisory by its own id.
    pub async fn advisory(&self, id: &str) -> Result<Option<StoredAdvisory>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT id, ledger_idx, modified, published, withdrawn, summary, severity, sha256 FROM advisories WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(&self.pool)
        .await
        .op("reading an advisory")?
        else {
            return Ok(None);
        };
        let aliases: Vec<String> = sqlx::query_scalar(
            "SELECT alias FROM advisory_aliases WHERE advisory_id = $1 ORDER BY alias",
        )
        .bind(id.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading an advisory's aliases")?;
        let packages = sqlx::query(
            "SELECT ecosystem, purl_type, purl_namespace, purl_name, affected FROM advisory_packages WHERE advisory_id = $1 ORDER BY seq",
        )
        .bind(id.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("reading an advisory's packages")?
        .iter()
        .map(|p| {
            Ok(AdvisoryPackage {
                ecosystem: get(p, "ecosystem")?,
                purl_type: get(p, "purl_type")?,
                purl_namespace: get(p, "purl_namespace")?,
                purl_name: get(p, "purl_name")?,
                affected: get(p, "affected")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(StoredAdvisory {
            ledger_idx: get::<i64>(&r, "ledger_idx")? as u64,
            advisory: AdvisoryEffect {
                id: get(&r, "id")?,
                modified: get(&r, "modified")?,
                published: get(&r, "published")?,
                withdrawn: get(&r, "withdrawn")?,
                summary: get(&r, "summary")?,
                severity: get(&r, "severity")?,
                sha256: get(&r, "sha256")?,
                aliases,
                packages,
            },
        }))
    }
}
