//! Delivery charts, and alerts.

use maud::{Markup, html};
use serde_json::Value;

use super::overview::ms_to_rfc;
use crate::charts::{Point, Threshold, bars, line, rates};
use crate::{Section, Viewer, layout, n, query, s, verdict, when};

fn series(report: &Value, f: impl Fn(&Value) -> Option<f64>) -> Vec<Point> {
    report["periods"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Point {
            label: s(p, "start").get(5..).unwrap_or("").to_owned(),
            value: f(p),
            partial: p["partial"].as_bool().unwrap_or(false),
        })
        .collect()
}

/// The DORA band boundaries of docs/metrics.md, in each chart's unit.
const LEAD_BANDS: &[Threshold] = &[
    Threshold {
        value: 24.0,
        label: "elite | high (1 day)",
    },
    Threshold {
        value: 168.0,
        label: "high | medium (1 week)",
    },
    Threshold {
        value: 720.0,
        label: "medium | low (30 days)",
    },
];
const FAILURE_BANDS: &[Threshold] = &[
    Threshold {
        value: 5.0,
        label: "elite | high (5%)",
    },
    Threshold {
        value: 10.0,
        label: "high | medium (10%)",
    },
    Threshold {
        value: 15.0,
        label: "medium | low (15%)",
    },
];
const RESTORE_BANDS: &[Threshold] = &[
    Threshold {
        value: 60.0,
        label: "elite | high (1 hour)",
    },
    Threshold {
        value: 1440.0,
        label: "high | medium (1 day)",
    },
    Threshold {
        value: 10080.0,
        label: "medium | low (1 week)",
    },
];

/// A critical vulnerability's deadline: a day (docs/vulnerabilities.md).
const SECURITY_BANDS: &[Threshold] = &[Threshold {
    value: 24.0,
    label: "P1 deadline (1 day)",
}];

/// The charts page for one application: `GET /v1/metrics` (weekly), `/v1/access/debt`
/// (weekly) and `/v1/controls` answers.
pub fn metrics(
    viewer: &Viewer,
    application: &str,
    applications: &[String],
    report: &Value,
    debt: &Value,
    controls: &Value,
) -> Markup {
    let deployments = series(report, |p| Some(n(p, "deployments")));
    let lead = series(report, |p| p["lead_time_median_hours"].as_f64());
    let restore = series(report, |p| p["time_to_restore_median_minutes"].as_f64());
    let failure = series(report, |p| {
        (n(p, "deployments") > 0.0).then(|| 100.0 * n(p, "change_failure_rate"))
    });
    let debt_points = series(debt, |p| Some(n(p, "points")));
    let pass: Vec<Point> = controls["controls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Point {
            label: s(c, "id").to_owned(),
            value: (n(c, "decisions") > 0.0).then(|| 100.0 * n(c, "pass") / n(c, "decisions")),
            partial: false,
        })
        .collect();
    // Security lead time, once the application has had a vulnerability in production.
    let sec = &report["security"];
    let security = (n(&sec["total"], "fixed") > 0.0 || n(sec, "open") > 0.0).then(|| {
        let ages = &sec["open_by_age"];
        let age = |label: &str, key: &str| Point {
            label: label.to_owned(),
            value: Some(n(ages, key)),
            partial: false,
        };
        (
            series(sec, |p| p["lead_time_median_hours"].as_f64()),
            vec![
                age("< 1 day", "under_1_day"),
                age("1-7 days", "days_1_to_7"),
                age("7-30 days", "days_7_to_30"),
                age("> 30 days", "over_30_days"),
            ],
        )
    });
    let drills = &sec["drills"];
    let hours = |k: &str| {
        drills[k]
            .as_f64()
            .map_or_else(|| "-".to_owned(), |h| format!("{h:.1} h"))
    };
    let game_days = (n(drills, "finished") > 0.0).then(|| {
        format!(
            "Game days in these 90 days: {} finished, {} reached production; time to production median {}, 90th percentile {} (beside the security lead time of real fixes; docs/drills.md).",
            n(drills, "finished"),
            n(drills, "reached_production"),
            hours("time_to_production_median_hours"),
            hours("time_to_production_p90_hours"),
        )
    });
    let body = html! {
        form.search method="get" action="/ui/metrics" aria-label="Application" {
            (super::application_choice(application, applications, true))
            button type="submit" { "Show" }
        }
        p.exports {
            "Data: "
            a href={ "/v1/metrics" (query(&[("application", application), ("period", "week")])) } { "four keys (JSON)" }
            a href={ "/v1/access/debt" (query(&[("application", application), ("period", "week")])) } { "access debt (JSON)" }
        }
        (arrivals(report, debt))
        p.muted { "Lighter bars and hollow points are weeks only partly measured (the week under way, or cut by the 90 days); dashed lines are the DORA band boundaries (docs/metrics.md)." }
        div.charts {
            (bars("deploys", "Production deployments per week", "deployments", &deployments))
            (line("lead", "Lead time for changes, weekly median", "hours", &lead, LEAD_BANDS))
            (line("cfr", "Change failure rate per week", "%", &failure, FAILURE_BANDS))
            (line("ttr", "Time to restore, weekly median", "minutes", &restore, RESTORE_BANDS))
            (bars("debt", "Production access debt per week", "points", &debt_points))
            (rates("pass", "Control pass rates, last 90 days", &pass))
            @if let Some((lead, ages)) = &security {
                (line("slt", "Security lead time (detected to fix in production), weekly median", "hours", lead, SECURITY_BANDS))
                (bars("open-items", "Open vulnerability items by age", "items", ages))
            }
        }
        @if let Some(line) = &game_days {
            p.drills { (line) }
        }
    };
    layout(
        &format!("Metrics: {application}"),
        Section::Metrics,
        viewer,
        body,
    )
}

/// What arrived late: the facts admitted after the late window, and for each closed week,
/// how many of its facts were recorded after it closed (docs/changes.md, "Time").
fn arrivals(report: &Value, debt: &Value) -> Markup {
    let late = n(&report["total"], "late") + n(&debt["total"], "late_uses");
    let closed: Vec<(String, f64)> = report["periods"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(
            debt["periods"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Some)
                .chain(std::iter::repeat(None)),
        )
        .map(|(p, d)| {
            let after =
                n(p, "recorded_after_close") + d.map_or(0.0, |d| n(d, "recorded_after_close"));
            (s(p, "start").to_owned(), after)
        })
        .filter(|(_, after)| *after > 0.0)
        .collect();
    html! {
        section.late aria-label="Late facts" {
            @if late > 0.0 {
                p { span.warn { (late) " late" } " facts in these weeks were recorded after the late window, each with an admin's reason (see the deployments' Recorded column)." }
            }
            @if !closed.is_empty() {
                @let total: f64 = closed.iter().map(|(_, a)| a).sum();
                details {
                    summary { (total) " facts were recorded after their week had closed, in " (closed.len()) " of these weeks" }
                    table {
                        thead { tr { th scope="col" { "Week of" } th.num scope="col" { "Facts recorded after it closed" } } }
                        tbody { @for (week, after) in &closed { tr { td { (week) } td.num { (after) } } } }
                    }
                }
            }
        }
    }
}

/// The alerts listing (`GET /v1/alerts` items), with its filters.
pub fn alerts(
    viewer: &Viewer,
    rows: &[Value],
    state: &str,
    application: &str,
    api_query: &str,
) -> Markup {
    let body = html! {
        form.search method="get" action="/ui/alerts" aria-label="Alerts" {
            div.field {
                label for="f-state" { "State" }
                select #f-state name="state" {
                    @for (v, t) in [("", "any"), ("open", "open"), ("acknowledged", "acknowledged"), ("resolved", "resolved")] {
                        @if v == state { option value=(v) selected { (t) } } @else { option value=(v) { (t) } }
                    }
                }
            }
            div.field { label for="f-app" { "Application" } input #f-app name="application" value=(application); }
            button type="submit" { "Filter" }
        }
        (super::exports("/v1/alerts", api_query))
        table {
            caption { (rows.len()) " alerts, newest first" }
            thead { tr { th scope="col" { "Alert" } th scope="col" { "Raised" } th scope="col" { "Severity" } th scope="col" { "Kind" } th scope="col" { "Application" } th scope="col" { "What happened" } th scope="col" { "State" } } }
            tbody { @for a in rows { tr {
                td.mono.nowrap { (s(a, "id")) }
                td.nowrap { (a["created_at"].as_i64().map(|ms| when(&ms_to_rfc(ms))).unwrap_or_default()) }
                td { (verdict(s(a, "severity"))) } td { (s(a, "kind")) } td { (s(a, "application")) }
                td.long { (s(a, "message")) } td { (verdict(s(a, "state"))) }
            } } }
        }
    };
    layout("Alerts", Section::Alerts, viewer, body)
}
