//! The tables against the ledger: the whole ledger replayed into a fresh database
//! ([`crate::projection`]) and compared with the database, each difference a problem
//! naming the table, the row, the column, what the ledger says and what the table holds.

use andon_store::Store;

use super::Problem;
use crate::projection::{Mismatch, Replayed, compare, fill};

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
    // The tables are read as they stand when the snapshot begins, however long the replay
    // takes: entries appended meanwhile are neither replayed nor read.
    // On SQLite the replay's database is attached to the snapshot, so the database itself
    // tells whether a table matches before any row is read out.
    let mut replayed = Replayed::create().await?;
    let mut live = store
        .snapshot(Some(replayed.path()))
        .await
        .map_err(|e| e.to_string())?;
    let size = live.size();
    fill(&mut replayed, store, size, Some(&mut live)).await?;
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
    let (mismatches, total) = compare(&mut live, &replayed.store, LISTED).await?;
    live.end().await.map_err(|e| e.to_string())?;
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
