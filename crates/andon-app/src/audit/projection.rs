//! The tables against the ledger: the whole ledger replayed into a fresh database
//! ([`crate::projection`]) and compared with the database, each difference a problem
//! naming the table, the row, the column, what the ledger says and what the table holds.

use andon_store::Store;

use super::Problem;
use crate::projection::{Mismatch, compare, replay};

/// How many differences are listed one by one; beyond it one problem counts the rest.
const LISTED: usize = 10_000;

fn problem(m: Mismatch, size: u64) -> Problem {
    let message = match (&m.column, &m.expected, &m.found) {
        (None, Some(_), None) => format!(
            "table {}: the row {} that the ledger writes is missing",
            m.table, m.key
        ),
        (None, _, _) => format!(
            "table {}: the row {} was written by no entry",
            m.table, m.key
        ),
        (Some(c), e, f) => format!(
            "table {}, row {}: column {c} holds {}, the ledger says {}",
            m.table,
            m.key,
            f.as_deref().map_or("NULL".into(), |v| format!("{v:?}")),
            e.as_deref().map_or("NULL".into(), |v| format!("{v:?}")),
        ),
    };
    Problem {
        index: m.ledger_index.unwrap_or(size),
        kind: None,
        check: "projection".into(),
        checkpoint: None,
        message,
    }
}

/// Reads every projected table and the ledger's size in one snapshot, replays that many
/// entries and compares: the problems found, and how many tables were compared.
pub async fn projection_problems(store: &Store) -> Result<(Vec<Problem>, usize), String> {
    let (size, live) = store
        .snapshot_tables(crate::projection::PROJECTED_TABLES)
        .await
        .map_err(|e| e.to_string())?;
    let replayed = replay(store, size).await?;
    let mut out: Vec<Problem> = replayed
        .unreadable
        .iter()
        .map(|(index, why)| Problem {
            index: *index,
            kind: None,
            check: "rows".into(),
            checkpoint: None,
            message: format!("its rows cannot be rebuilt from it: {why}"),
        })
        .collect();
    let (mismatches, total) = compare(live, &replayed.store, LISTED).await?;
    out.extend(mismatches.into_iter().map(|m| problem(m, size)));
    if total > LISTED {
        out.push(Problem {
            index: size,
            kind: None,
            check: "projection".into(),
            checkpoint: None,
            message: format!(
                "and {} more differences between the tables and the ledger",
                total - LISTED
            ),
        });
    }
    Ok((out, crate::projection::PROJECTED_TABLES.len()))
}
