//! The tables against the ledger, once [`super::audit_database`] has replayed the whole
//! ledger into a fresh database ([`crate::projection`]) beside its walk: compared with the
//! database, each difference a problem
//! naming the table, the row, the column, what the ledger says and what the table holds.

use andon_store::Snapshot;

use super::Problem;
use crate::projection::{Mismatch, Replayed, compare};

/// How many differences are listed one by one; beyond it one problem counts the rest.
const LISTED: usize = 10_000;
/// How many differences of the same shape in one table and one entry are listed one by
/// one; one problem counts the rest, so that one rewritten batch (thirty telemetry events,
/// twenty minute counters) cannot push every other table out of the report's first lines.
const PER_GROUP: usize = 3;

/// What a difference is: a row missing, a row extra, or a column that differs.
fn shape(m: &Mismatch) -> &'static str {
    match (&m.column, &m.expected) {
        (None, Some(_)) => "missing",
        (None, None) => "extra",
        (Some(_), _) => "altered",
    }
}

/// The differences as problems, each group of the same table, entry and shape cut to
/// [`PER_GROUP`] rows and a count of the rest.
fn grouped(mismatches: Vec<Mismatch>, size: u64) -> Vec<Problem> {
    use std::collections::HashMap;
    let key = |m: &Mismatch| (m.table.clone(), m.ledger_index, shape(m));
    let mut counts: HashMap<(String, Option<u64>, &'static str), usize> = HashMap::new();
    for m in &mismatches {
        *counts.entry(key(m)).or_default() += 1;
    }
    let mut seen: HashMap<(String, Option<u64>, &'static str), usize> = HashMap::new();
    let mut out = Vec::new();
    for m in mismatches {
        let k = key(&m);
        let n = seen.entry(k.clone()).or_default();
        *n += 1;
        if *n > PER_GROUP {
            continue;
        }
        let total = counts[&k];
        let last_listed = *n == PER_GROUP && total > PER_GROUP;
        let (table, index) = (m.table.clone(), m.ledger_index.unwrap_or(size));
        out.push(problem(m, size));
        if last_listed {
            let what = match k.2 {
                "missing" => "that the ledger writes are missing",
                "extra" => "were written by no entry",
                _ => "differ from what the ledger says",
            };
            out.push(Problem {
                index,
                kind: None,
                check: "projection".into(),
                checkpoint: None,
                message: format!(
                    "table {table}: and {} more rows like these {what}",
                    total - PER_GROUP
                ),
            });
        }
    }
    out
}

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

/// The differences between the tables `live` reads and the ledger's `size` entries
/// replayed into `replayed`, with the entries whose rows could not be rebuilt, as problems.
pub(crate) async fn table_problems(
    live: &mut Snapshot,
    replayed: &Replayed,
    size: u64,
) -> Result<Vec<Problem>, String> {
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
    out.extend(grouped(mismatches, size));
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(table: &str, key: &str, index: Option<u64>) -> Mismatch {
        Mismatch {
            table: table.into(),
            key: key.into(),
            column: None,
            expected: None,
            found: Some("row".into()),
            ledger_index: index,
        }
    }

    #[test]
    fn a_flood_from_one_entry_is_cut_to_three_rows_and_a_count() {
        let mut ms: Vec<Mismatch> = (1..=29)
            .map(|seq| {
                extra(
                    "telemetry_events",
                    &format!("ledger_idx=705, seq={seq}"),
                    Some(705),
                )
            })
            .collect();
        ms.push(extra("alerts", "id=A-1", Some(9)));
        let p = grouped(ms, 800);
        let messages: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "table telemetry_events: the row ledger_idx=705, seq=1 was written by no entry",
                "table telemetry_events: the row ledger_idx=705, seq=2 was written by no entry",
                "table telemetry_events: the row ledger_idx=705, seq=3 was written by no entry",
                "table telemetry_events: and 26 more rows like these were written by no entry",
                "table alerts: the row id=A-1 was written by no entry",
            ]
        );
        assert_eq!(p[3].index, 705);
        // Three of a kind are listed whole, with no count.
        let three: Vec<Mismatch> = (1..=3)
            .map(|i| extra("alerts", &format!("id=A-{i}"), Some(9)))
            .collect();
        assert_eq!(grouped(three, 800).len(), 3);
    }
}
