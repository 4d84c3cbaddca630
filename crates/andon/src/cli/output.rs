//! Text or JSON output for read verbs.

use serde::Serialize;

/// How a verb prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// One JSON document for machines.
    Json,
}

/// Prints `value` as JSON, or calls `text` to print it for people.
pub fn emit<T: Serialize>(out: Output, value: &T, text: impl FnOnce(&T)) -> anyhow::Result<()> {
    match out {
        Output::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Output::Text => text(value),
    }
    Ok(())
}

/// A query string from flags: the ones given, in order.
pub fn query<'a>(flags: &[(&'a str, &Option<String>)]) -> Vec<(&'a str, String)> {
    flags
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone())))
        .collect()
}

/// Prints the alerts an answer carries (`{"alerts": [...]}`), one line each, indented.
pub fn print_alerts(answer: &serde_json::Value, indent: &str) {
    for a in answer["alerts"].as_array().into_iter().flatten() {
        println!(
            "{indent}ALERT {} {}: {}",
            a["severity"].as_str().unwrap_or(""),
            a["kind"].as_str().unwrap_or(""),
            a["message"].as_str().unwrap_or("")
        );
    }
}

/// A listing for people: a header of column names, one aligned row per item, columns two
/// spaces apart, no borders (the look of `kubectl get` or `docker ps`). Columns named in
/// `right` are right-aligned (numbers).
pub struct Listing {
    table: comfy_table::Table,
    rows: usize,
}

impl Listing {
    /// A listing with these column names.
    pub fn new(header: &[&str], right: &[&str]) -> Self {
        let mut table = comfy_table::Table::new();
        table
            .load_style(comfy_table::presets::NOTHING)
            .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
            .set_header(header.iter().map(|h| h.to_uppercase()));
        for (i, h) in header.iter().enumerate() {
            if let Some(c) = table.column_mut(i) {
                c.set_padding((0, 2));
                if right.contains(h) {
                    c.set_cell_alignment(comfy_table::CellAlignment::Right);
                }
            }
        }
        Self { table, rows: 0 }
    }

    /// Adds a row, its cells in the header's order.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<comfy_table::Cell>,
    {
        self.table.add_row(cells);
        self.rows += 1;
    }

    /// Prints the listing, or `empty` when it has no rows.
    pub fn print(&self, empty: &str) {
        if self.rows == 0 {
            println!("{empty}");
            return;
        }
        for line in self.table.lines() {
            println!("{}", line.trim_end());
        }
    }
}

/// `count` with its noun, singular for one: "1 control", "3 controls".
pub fn plural(count: impl Into<u64>, one: &str, many: &str) -> String {
    let n = count.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A duration in seconds, minutes or hours, or `-`.
pub(crate) fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "-".into(),
        Some(m) if m < 60_000 => format!("{:.1} s", m as f64 / 1_000.0),
        Some(m) if m < 7_200_000 => format!("{:.1} min", m as f64 / 60_000.0),
        Some(m) => format!("{:.1} h", m as f64 / 3_600_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_aligns_its_columns_under_a_header() {
        let mut l = Listing::new(&["id", "state", "count"], &["count"]);
        l.row(["D-1", "deployed", "7"]);
        l.row(["D-22", "failed", "120"]);
        let lines: Vec<String> = l.table.lines().map(|s| s.trim_end().to_owned()).collect();
        assert_eq!(lines[0], "ID    STATE     COUNT");
        assert_eq!(lines[1], "D-1   deployed      7");
        assert_eq!(lines[2], "D-22  failed      120");
    }

    #[test]
    fn one_is_singular() {
        assert_eq!(plural(1u64, "control", "controls"), "1 control");
        assert_eq!(plural(0u64, "control", "controls"), "0 controls");
        assert_eq!(plural(2u32, "day", "days"), "2 days");
    }

    #[test]
    fn durations_read_in_the_unit_that_suits_them() {
        assert_eq!(duration(None), "-");
        assert_eq!(duration(Some(2_400)), "2.4 s");
        assert_eq!(duration(Some(40 * 60_000)), "40.0 min");
        assert_eq!(duration(Some(3 * 3_600_000)), "3.0 h");
    }
}
