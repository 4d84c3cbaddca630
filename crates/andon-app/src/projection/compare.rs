//! The database against the ledger's projection, table by table and row by row: both read
//! in key order and merged, so memory stays flat whatever the tables' size.

use andon_store::{Cell, Scan, Snapshot, Store};
use serde::Serialize;

/// A table the API, the gate, authorization, the pages or the jobs read.
pub struct Projected {
    /// The table.
    pub table: &'static str,
    /// The columns that identify a row.
    pub key: &'static [&'static str],
    /// Columns holding an entry's document (envelope, payload, bundle). They are not
    /// compared here: the audit checks each against the digest its entry binds, and the
    /// replay does not write them again.
    pub documents: &'static [&'static str],
}

const fn t(table: &'static str, key: &'static [&'static str]) -> Projected {
    Projected {
        table,
        key,
        documents: &[],
    }
}

/// Every projected table. Left out: the ledger itself and its checkpoints (the audit
/// checks them), `meta` (the log's settings), the witnesses' cosignatures (each verifies
/// on its own), and the notification outbox (delivery state, not history).
pub const PROJECTED_TABLES: &[Projected] = &[
    t("applications", &["name"]),
    t("identities", &["name"]),
    t("tokens", &["hash"]),
    t("signing_keys", &["keyid"]),
    Projected {
        table: "evidence",
        key: &["ledger_idx"],
        documents: &["document"],
    },
    t("evidence_subjects", &["evidence_idx", "name", "digest"]),
    t("evidence_commits", &["evidence_idx", "sha"]),
    t("sbom_components", &["evidence_idx", "seq"]),
    t("advisories", &["id"]),
    t("advisory_aliases", &["alias", "advisory_id"]),
    t("advisory_packages", &["advisory_id", "seq"]),
    t("vuln_items", &["id"]),
    t("vuln_item_events", &["ledger_idx"]),
    t("admission_clusters", &["name"]),
    t("admission_events", &["ledger_idx"]),
    t("drills", &["id"]),
    t("application_risks", &["application"]),
    Projected {
        table: "scm_deliveries",
        key: &["provider", "delivery"],
        documents: &["payload"],
    },
    t("scm_commits", &["repository", "sha"]),
    t(
        "scm_changes",
        &["ledger_idx", "repository", "number", "action"],
    ),
    t(
        "scm_reviews",
        &["ledger_idx", "repository", "number", "reviewer"],
    ),
    t(
        "scm_deployments",
        &["ledger_idx", "repository", "sha", "environment"],
    ),
    t(
        "scm_tickets",
        &["ledger_idx", "repository", "ticket", "source"],
    ),
    Projected {
        table: "policies",
        key: &["version"],
        documents: &["bundle"],
    },
    Projected {
        table: "decisions",
        key: &["id"],
        documents: &["envelope"],
    },
    t("waivers", &["id"]),
    t("changes", &["id"]),
    t("change_approvals", &["ledger_idx"]),
    t("deployments", &["id"]),
    t("deployment_commits", &["deployment_id", "sha"]),
    t("deployment_events", &["ledger_idx"]),
    t("alerts", &["id"]),
    t("alert_updates", &["ledger_idx"]),
    t("telemetry_events", &["ledger_idx", "seq"]),
    t(
        "telemetry_minutes",
        &["kind", "application", "environment", "source", "minute"],
    ),
    t("access_requests", &["id"]),
    t("standing_accounts", &["name"]),
    t("account_uses", &["ledger_idx"]),
    t("runtime_snapshots", &["ledger_idx"]),
];

/// One difference between the database and the projection.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Mismatch {
    /// The table.
    pub table: String,
    /// The row's key (`column=value, ...`).
    pub key: String,
    /// The column that differs; `None` when the whole row is missing or extra.
    pub column: Option<String>,
    /// What the ledger says (`None`: the row should not exist, or the value is NULL).
    pub expected: Option<String>,
    /// What the database holds (`None`: the row is missing, or the value is NULL).
    pub found: Option<String>,
    /// The ledger entry that wrote the row, where the row says so (`ledger_idx`).
    pub ledger_index: Option<u64>,
}

/// Differences found so far: the first `cap` kept, all counted.
struct Found {
    kept: Vec<Mismatch>,
    total: usize,
    cap: usize,
}

impl Found {
    fn push(&mut self, m: Mismatch) {
        self.total += 1;
        if self.kept.len() < self.cap {
            self.kept.push(m);
        }
    }
}

/// One side of a table: its scan and where its key and its `ledger_idx` are.
struct Side<'a> {
    scan: Scan<'a>,
    key: Vec<Option<usize>>,
    index: Option<usize>,
}

impl<'a> Side<'a> {
    fn new(scan: Scan<'a>, key: &[&str]) -> Self {
        let at = |name: &str| scan.columns().iter().position(|c| c == name);
        let key = key.iter().map(|k| at(k)).collect();
        let index = at("ledger_idx").or_else(|| at("evidence_idx"));
        Side { scan, key, index }
    }

    fn key_of<'r>(&'r self, row: &'r [Cell]) -> impl Iterator<Item = &'r Cell> + 'r {
        self.key.iter().map(|k| k.map_or(&Cell::Null, |i| &row[i]))
    }

    fn describe(&self, names: &[&str], row: &[Cell]) -> String {
        names
            .iter()
            .zip(self.key_of(row))
            .map(|(k, v)| format!("{k}={}", v.text().unwrap_or_else(|| "NULL".into())))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn index_of(&self, row: &[Cell]) -> Option<u64> {
        match self.index.map(|i| &row[i]) {
            Some(Cell::Int(n)) => u64::try_from(*n).ok(),
            Some(Cell::Text(t)) => t.parse().ok(),
            _ => None,
        }
    }
}

/// Compares the tables as `live` holds them with `projection` (the ledger replayed), table
/// by table; answers every difference (at most `cap`) and how many there were.
pub async fn compare(
    live: &mut Snapshot,
    projection: &Store,
    cap: usize,
) -> Result<(Vec<Mismatch>, usize), String> {
    let mut found = Found {
        kept: Vec::new(),
        total: 0,
        cap,
    };
    for p in PROJECTED_TABLES {
        let read = |e: andon_store::StoreError| format!("reading {}: {e}", p.table);
        // The database's own answer when it can give one; the rows one by one otherwise,
        // and to name each difference.
        if live
            .same_rows_beside(p.table, p.documents)
            .await
            .map_err(read)?
            == Some(true)
        {
            continue;
        }
        let db = Side::new(
            live.scan(p.table, p.key, p.documents).await.map_err(read)?,
            p.key,
        );
        let want = Side::new(
            projection
                .scan(p.table, p.key, p.documents)
                .await
                .map_err(read)?,
            p.key,
        );
        merge(p, db, want, &mut found).await.map_err(read)?;
    }
    Ok((found.kept, found.total))
}

/// Walks both sides of one table in key order: a key on one side only is a missing or an
/// extra row; a key on both has its columns compared.
async fn merge(
    p: &Projected,
    mut db: Side<'_>,
    mut want: Side<'_>,
    found: &mut Found,
) -> Result<(), andon_store::StoreError> {
    let columns: Vec<(String, Option<usize>)> = want
        .scan
        .columns()
        .iter()
        .map(|c| (c.clone(), db.scan.columns().iter().position(|d| d == c)))
        .collect();
    let mut l = db.scan.next().await?;
    let mut w = want.scan.next().await?;
    loop {
        let order = match (&l, &w) {
            (None, None) => return Ok(()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            // Compared in place: this runs for every row of every table on PostgreSQL.
            (Some(a), Some(b)) => db.key_of(a).cmp(want.key_of(b)),
        };
        match (order, &l, &w) {
            (std::cmp::Ordering::Less, Some(a), _) => {
                found.push(Mismatch {
                    table: p.table.into(),
                    key: db.describe(p.key, a),
                    column: None,
                    expected: None,
                    found: Some("a row no entry wrote".into()),
                    ledger_index: db.index_of(a),
                });
                l = db.scan.next().await?;
            }
            (std::cmp::Ordering::Greater, _, Some(b)) => {
                found.push(Mismatch {
                    table: p.table.into(),
                    key: want.describe(p.key, b),
                    column: None,
                    expected: Some("the row".into()),
                    found: None,
                    ledger_index: want.index_of(b),
                });
                w = want.scan.next().await?;
            }
            (_, Some(a), Some(b)) => {
                for ((name, at), expected) in columns.iter().zip(b) {
                    let held = at.map_or(&Cell::Null, |i| &a[i]);
                    if held != expected {
                        found.push(Mismatch {
                            table: p.table.into(),
                            key: want.describe(p.key, b),
                            column: Some(name.clone()),
                            expected: expected.text(),
                            found: held.text(),
                            ledger_index: want.index_of(b),
                        });
                    }
                }
                l = db.scan.next().await?;
                w = want.scan.next().await?;
            }
            _ => unreachable!("an order is taken only from the rows present"),
        }
    }
}
