//! The hardening scans of a gate's environment in its input: a platform team attests each
//! scan (Nmap, XCCDF, InSpec) about the environment itself, as a subject named
//! `environment:<name>`, and every gate for that environment compares the newest scan of each
//! format with the one before it, so the `hardening` control sees the exposure gained since.

use andon_evidence::hardening::{HardeningSummary, diff};
use andon_store::EvidenceFilter;
use serde_json::{Value, json};

use crate::input::rfc3339;
use crate::{App, AppError};

/// The subject name prefix that says which environment a scan is about.
pub const ENVIRONMENT_SUBJECT: &str = "environment:";

/// Scans read per gate, newest first, at most.
const MAX_SCANS: u32 = 500;

/// One scan as the input shows it: its record and its counts, not its listings.
fn scan_input(id: &str, accepted_at: i64, s: &HardeningSummary) -> Value {
    json!({
        "id": id,
        "accepted_at": rfc3339(Some(accepted_at)),
        "tool": s.tool,
        "targets": s.targets.len(),
        "open_ports": s.open_ports_total,
        "rules_fail": s.rules_fail,
    })
}

/// `{"environment", "scans": [{"format", "current", "previous", "diff", "exposure_gained"}]}`:
/// per scan format, the newest scan of the environment and its difference from the one
/// before (none for a first scan, whose exposure is its baseline).
pub async fn hardening_input(app: &App, environment: &str) -> Result<Value, AppError> {
    let rows = app
        .store()
        .list_evidence(&EvidenceFilter {
            predicate_type: Some(andon_domain::HARDENING_PREDICATE_V1.to_owned()),
            limit: MAX_SCANS,
            ..Default::default()
        })
        .await?;
    let subject = format!("{ENVIRONMENT_SUBJECT}{environment}");
    // Newest first: the first two of a format are its current and previous scans.
    let mut by_format: std::collections::BTreeMap<String, Vec<(&str, i64, HardeningSummary)>> =
        Default::default();
    for r in &rows {
        if !r.subjects.iter().any(|(n, _)| *n == subject) {
            continue;
        }
        let Some(s) = r
            .summary
            .as_deref()
            .and_then(|s| serde_json::from_str::<HardeningSummary>(s).ok())
        else {
            continue;
        };
        let scans = by_format.entry(s.format.clone()).or_default();
        if scans.len() < 2 {
            scans.push((r.id.as_str(), r.created_at, s));
        }
    }
    let scans: Vec<Value> = by_format
        .into_iter()
        .map(|(format, scans)| {
            let (id, at, current) = &scans[0];
            let previous = scans.get(1);
            let d = previous.map(|(_, _, p)| diff(p, current));
            json!({
                "format": format,
                "current": scan_input(id, *at, current),
                "previous": previous.map(|(id, at, p)| scan_input(id, *at, p)),
                "exposure_gained": d.as_ref().is_some_and(|d| d.exposure_gained()),
                "diff": d,
            })
        })
        .collect();
    Ok(json!({"environment": environment, "scans": scans}))
}
