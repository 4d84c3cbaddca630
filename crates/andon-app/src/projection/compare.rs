//! The database against the ledger's projection, table by table and row by row.

use std::collections::BTreeMap;

use andon_store::{Store, TextRow};
use serde::Serialize;

/// Every table the API, the gate, authorization, the pages and the jobs read, with the
/// columns that identify a row. Left out: the ledger itself and its checkpoints (the audit
/// checks them), `meta` (the log's settings), and the notification outbox (delivery state,
/// not history).
pub const PROJECTED_TABLES: &[(&str, &[&str])] = &[
    ("applications", &["name"]),
    ("identities", &["name"]),
    ("tokens", &["hash"]),
    ("signing_keys", &["keyid"]),
    ("evidence", &["ledger_idx"]),
    ("evidence_subjects", &["evidence_idx", "name", "digest"]),
    ("evidence_commits", &["evidence_idx", "sha"]),
    ("scm_deliveries", &["provider", "delivery"]),
    ("scm_commits", &["repository", "sha"]),
    (
        "scm_changes",
        &["ledger_idx", "repository", "number", "action"],
    ),
    (
        "scm_reviews",
        &["ledger_idx", "repository", "number", "reviewer"],
    ),
    (
        "scm_deployments",
        &["ledger_idx", "repository", "sha", "environment"],
    ),
    (
        "scm_tickets",
        &["ledger_idx", "repository", "ticket", "source"],
    ),
    ("policies", &["version"]),
    ("decisions", &["id"]),
    ("waivers", &["id"]),
    ("changes", &["id"]),
    ("change_approvals", &["ledger_idx"]),
    ("deployments", &["id"]),
    ("deployment_commits", &["deployment_id", "sha"]),
    ("deployment_events", &["ledger_idx"]),
    ("alerts", &["id"]),
    ("alert_updates", &["ledger_idx"]),
    ("telemetry_events", &["ledger_idx", "seq"]),
    (
        "telemetry_minutes",
        &["kind", "application", "environment", "source", "minute"],
    ),
    ("access_requests", &["id"]),
    ("standing_accounts", &["name"]),
    ("account_uses", &["ledger_idx"]),
    ("runtime_snapshots", &["ledger_idx"]),
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

fn key_of(row: &TextRow, key: &[&str]) -> String {
    key.iter()
        .map(|k| {
            let v = row
                .iter()
                .find(|(c, _)| c == k)
                .and_then(|(_, v)| v.clone())
                .unwrap_or_else(|| "NULL".into());
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn index_of(row: &TextRow) -> Option<u64> {
    row.iter()
        .find(|(c, _)| c == "ledger_idx" || c == "evidence_idx")
        .and_then(|(_, v)| v.as_deref())
        .and_then(|v| v.parse().ok())
}

/// Compares the database's rows (`live`, one list per [`PROJECTED_TABLES`] entry, read in
/// one snapshot) with `projection` (the ledger replayed), table by table; answers every
/// difference (at most `cap`) and how many there were.
pub async fn compare(
    live: Vec<Vec<TextRow>>,
    projection: &Store,
    cap: usize,
) -> Result<(Vec<Mismatch>, usize), String> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut push = |m: Mismatch| {
        total += 1;
        if out.len() < cap {
            out.push(m);
        }
    };
    for ((table, key), live) in PROJECTED_TABLES.iter().zip(live) {
        let want = projection
            .table_rows(table, key)
            .await
            .map_err(|e| format!("reading the projection's {table}: {e}"))?;
        let live: BTreeMap<String, TextRow> =
            live.into_iter().map(|r| (key_of(&r, key), r)).collect();
        let want: BTreeMap<String, TextRow> =
            want.into_iter().map(|r| (key_of(&r, key), r)).collect();
        for (k, w) in &want {
            match live.get(k) {
                None => push(Mismatch {
                    table: (*table).into(),
                    key: k.clone(),
                    column: None,
                    expected: Some("the row".into()),
                    found: None,
                    ledger_index: index_of(w),
                }),
                Some(l) => {
                    for (col, expected) in w {
                        let found = l
                            .iter()
                            .find(|(c, _)| c == col)
                            .and_then(|(_, v)| v.clone());
                        if &found != expected {
                            push(Mismatch {
                                table: (*table).into(),
                                key: k.clone(),
                                column: Some(col.clone()),
                                expected: expected.clone(),
                                found,
                                ledger_index: index_of(w),
                            });
                        }
                    }
                }
            }
        }
        for (k, l) in &live {
            if !want.contains_key(k) {
                push(Mismatch {
                    table: (*table).into(),
                    key: k.clone(),
                    column: None,
                    expected: None,
                    found: Some("a row no entry wrote".into()),
                    ledger_index: index_of(l),
                });
            }
        }
    }
    Ok((out, total))
}
