//! What a package says for people: `controls.csv` and `report.html`, rendered from the
//! entries in scope alone, so verification renders them again and compares.

use std::collections::BTreeMap;

use andon_domain::LedgerEntry;
use andon_domain::gate::Verdict;
use andon_ledger::leaf_hash;

use super::{InScope, Manifest};

/// One control's line: how the decisions in scope went.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct ControlRow {
    pub(super) id: String,
    pub(super) title: String,
    pub(super) decisions: u64,
    counts: BTreeMap<Verdict, u64>,
}

impl ControlRow {
    /// The count of each verdict, in the order of [`Verdict::ALL`].
    fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        Verdict::ALL
            .iter()
            .map(|v| self.counts.get(v).copied().unwrap_or(0))
    }
}

/// Per control, how the decisions in scope went (by control id).
pub(super) fn control_rows(entries: &[InScope]) -> Vec<ControlRow> {
    let mut by_control: BTreeMap<String, ControlRow> = BTreeMap::new();
    for e in entries {
        let Ok(entry) = serde_json::from_slice::<LedgerEntry>(&e.entry) else {
            continue;
        };
        if entry.kind != andon_domain::EntryKind::GateDecision {
            continue;
        }
        let Some(doc) = e
            .document
            .as_ref()
            .and_then(|d| andon_domain::Envelope::parse(d).ok())
            .and_then(|env| {
                serde_json::from_slice::<andon_domain::gate::DecisionDoc>(&env.payload).ok()
            })
        else {
            continue;
        };
        for c in doc.controls {
            let t = by_control
                .entry(c.id.clone())
                .or_insert_with(|| ControlRow {
                    id: c.id.clone(),
                    ..Default::default()
                });
            t.title = c.title.clone();
            t.decisions += 1;
            *t.counts.entry(c.verdict).or_default() += 1;
        }
    }
    by_control.into_values().collect()
}

/// `controls.csv`: one line per control, written by a CSV writer (RFC 4180 quoting), so a
/// title with commas, quotes or line breaks stays one cell.
pub(super) fn controls_csv(rows: &[ControlRow]) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["control", "title", "decisions"];
    header.extend(Verdict::ALL.map(Verdict::as_str));
    w.write_record(&header)?;
    for r in rows {
        let mut record = vec![r.id.clone(), r.title.clone(), r.decisions.to_string()];
        record.extend(r.counts().map(|n| n.to_string()));
        w.write_record(&record)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `report.html`: the package for a reader, from the entries alone (deterministic, so
/// verification renders it again and compares).
pub(super) fn report_html(
    m: &Manifest,
    checkpoint: &str,
    entries: &[InScope],
    controls: &[ControlRow],
) -> String {
    let mut rows = String::new();
    for e in entries {
        let (kind, time, actor) = serde_json::from_slice::<LedgerEntry>(&e.entry)
            .map(|l| (l.kind.as_str().to_owned(), l.time, l.actor))
            .unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>\n",
            e.index,
            html(&kind),
            html(&time),
            html(&actor),
            hex::encode(leaf_hash(&e.entry)),
        ));
    }
    let mut control_rows = String::new();
    for c in controls {
        control_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            html(&c.id),
            html(&c.title),
            c.decisions
        ));
        for n in c.counts() {
            control_rows.push_str(&format!("<td>{n}</td>"));
        }
        control_rows.push_str("</tr>\n");
    }
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Audit package: {app}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.3rem .5rem;text-align:left}}code,pre{{font-size:.85rem}}</style>
</head><body>
<h1>Audit package: {app}</h1>
<p>Period: {since} to {until}. Log <code>{origin}</code>, {n} entries of a tree of {size}.</p>
<p>Check it offline: <code>andon verify --package &lt;this archive&gt; --log-key '{key}'</code>
(obtain the key from someone other than the operator).</p>
<h2>Checkpoint</h2><pre>{checkpoint}</pre>
<h2>Controls</h2>
<table><thead><tr><th>control</th><th>title</th><th>decisions</th><th>pass</th><th>fail</th><th>missing</th><th>waived</th><th>not applicable</th><th>error</th></tr></thead><tbody>
{control_rows}</tbody></table>
<h2>Entries</h2>
<table><thead><tr><th>index</th><th>kind</th><th>time</th><th>actor</th><th>leaf hash</th></tr></thead><tbody>
{rows}</tbody></table>
</body></html>
"#,
        app = html(&m.application),
        since = html(m.since.as_deref().unwrap_or("the beginning")),
        until = html(m.until.as_deref().unwrap_or("the export")),
        origin = html(&m.origin),
        n = m.entries,
        size = m.tree_size,
        key = html(&m.verifier_key),
        checkpoint = html(checkpoint),
    )
}
