//! SBOM components: the rows of one evidence entry (the audit hashes them against the
//! entry's binding) and the artifacts whose SBOM lists a package (the blast radius).

use andon_domain::components::ComponentRow;

use crate::error::{Op as _, StoreError};
use crate::read::get;
use crate::store::Store;

/// A component of a package found in an SBOM, with the artifacts that SBOM describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageHit {
    /// The SBOM evidence's ledger index.
    pub evidence_idx: u64,
    /// The evidence id.
    pub evidence: String,
    /// The application it was recorded for.
    pub application: String,
    /// That application's team.
    pub team: String,
    /// When the evidence was recorded (Unix ms).
    pub recorded_at: i64,
    /// The component as the SBOM gives it.
    pub component: ComponentRow,
    /// The subjects of the evidence (stored digest form: bare sha256 hex).
    pub digests: Vec<String>,
}

/// A component an SBOM of an artifact lists, with its package key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactComponent {
    /// The artifact (`sha256:<hex>`).
    pub digest: String,
    /// The SBOM evidence.
    pub evidence: String,
    /// The application it was recorded for.
    pub application: String,
    /// That application's team.
    pub team: String,
    /// When the SBOM was recorded (Unix ms).
    pub recorded_at: i64,
    /// The component as the SBOM gives it.
    pub component: ComponentRow,
    /// Its package key: purl type, namespace, name.
    pub key: (String, String, String),
}

impl Store {
    /// The components of every SBOM describing each of `digests` (`sha256:<hex>`), of one
    /// application or any; components without a package key are left out. An artifact
    /// with several SBOMs (the image's and the language's, say) has what any of them lists.
    pub async fn artifact_components(
        &self,
        digests: &[String],
        application: Option<&str>,
    ) -> Result<Vec<ArtifactComponent>, StoreError> {
        let mut out = Vec::new();
        for chunk in digests.chunks(200) {
            let bare: Vec<String> = chunk
                .iter()
                .map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_owned())
                .collect();
            let marks: Vec<String> = (1..=bare.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT s.digest, c.name, c.version, c.purl, c.purl_type, c.purl_namespace, c.purl_name, \
                 e.id, e.application, e.created_at, a.team \
                 FROM evidence_subjects s \
                 JOIN evidence e ON e.ledger_idx = s.evidence_idx \
                 JOIN applications a ON a.name = e.application \
                 JOIN sbom_components c ON c.evidence_idx = s.evidence_idx \
                 WHERE s.digest IN ({}) AND c.purl_type <> '' \
                 ORDER BY s.digest, c.evidence_idx, c.seq",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for d in bare {
                q = q.bind(d);
            }
            for r in q
                .fetch_all(&self.pool)
                .await
                .op("reading the components of running artifacts")?
            {
                let app: String = get(&r, "application")?;
                if application.is_some_and(|a| a != app) {
                    continue;
                }
                out.push(ArtifactComponent {
                    digest: format!("sha256:{}", get::<String>(&r, "digest")?),
                    evidence: get(&r, "id")?,
                    application: app,
                    team: get(&r, "team")?,
                    recorded_at: get(&r, "created_at")?,
                    component: ComponentRow {
                        name: get(&r, "name")?,
                        version: get(&r, "version")?,
                        purl: get(&r, "purl")?,
                    },
                    key: (
                        get(&r, "purl_type")?,
                        get(&r, "purl_namespace")?,
                        get(&r, "purl_name")?,
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The components an evidence entry stored, in document order.
    pub async fn sbom_components(
        &self,
        evidence_idx: u64,
    ) -> Result<Vec<ComponentRow>, StoreError> {
        sqlx::query(
            "SELECT name, version, purl FROM sbom_components WHERE evidence_idx = $1 ORDER BY seq",
        )
        .bind(evidence_idx as i64)
        .fetch_all(&self.pool)
        .await
        .op("reading sbom components")?
        .iter()
        .map(|r| {
            Ok(ComponentRow {
                name: get(r, "name")?,
                version: get(r, "version")?,
                purl: get(r, "purl")?,
            })
        })
        .collect()
    }

    /// Every component of the package `(ty, namespace, name)` in any SBOM, with the
    /// evidence, its application and team, and the artifacts it describes; oldest evidence
    /// first. One query on the package index.
    pub async fn package_components(
        &self,
        ty: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<PackageHit>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.evidence_idx, c.seq, c.name, c.version, c.purl, e.id, e.application, \
             a.team, e.created_at, s.digest \
             FROM sbom_components c \
             JOIN evidence e ON e.ledger_idx = c.evidence_idx \
             JOIN applications a ON a.name = e.application \
             JOIN evidence_subjects s ON s.evidence_idx = c.evidence_idx \
             WHERE c.purl_type = $1 AND c.purl_namespace = $2 AND c.purl_name = $3 \
             ORDER BY c.evidence_idx, c.seq, s.digest",
        )
        .bind(ty.to_owned())
        .bind(namespace.to_owned())
        .bind(name.to_owned())
        .fetch_all(&self.pool)
        .await
        .op("finding a package's components")?;
        let mut out: Vec<PackageHit> = Vec::new();
        let mut last: Option<(i64, i64)> = None;
        for r in &rows {
            let key = (get::<i64>(r, "evidence_idx")?, get::<i64>(r, "seq")?);
            let digest: String = get(r, "digest")?;
            if last == Some(key)
                && let Some(hit) = out.last_mut()
            {
                hit.digests.push(digest);
                continue;
            }
            last = Some(key);
            out.push(PackageHit {
                evidence_idx: key.0 as u64,
                evidence: get(r, "id")?,
                application: get(r, "application")?,
                team: get(r, "team")?,
                recorded_at: get(r, "created_at")?,
                component: ComponentRow {
                    name: get(r, "name")?,
                    version: get(r, "version")?,
                    purl: get(r, "purl")?,
                },
                digests: vec![digest],
            });
        }
        Ok(out)
    }

    /// Which of `digests` (`sha256:<hex>`) an SBOM with components describes.
    pub async fn digests_with_components(
        &self,
        digests: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut out = std::collections::HashSet::new();
        for chunk in digests.chunks(500) {
            let bare: Vec<String> = chunk
                .iter()
                .map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_owned())
                .collect();
            let marks: Vec<String> = (1..=bare.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT s.digest FROM evidence_subjects s WHERE s.digest IN ({}) \
                 AND EXISTS (SELECT 1 FROM sbom_components c WHERE c.evidence_idx = s.evidence_idx)",
                marks.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for d in bare {
                q = q.bind(d);
            }
            out.extend(
                q.fetch_all(&self.pool)
                    .await
                    .op("finding artifacts with an SBOM")?
                    .into_iter()
                    .map(|d| format!("sha256:{d}")),
            );
        }
        Ok(out)
    }

    /// The environments anything was ever reported running in or deployed to.
    pub async fn runtime_environments(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar::<_, String>(
            "SELECT environment FROM runtime_snapshots UNION SELECT environment FROM deployments ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await
        .op("listing environments")
    }
}
