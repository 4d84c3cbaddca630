//! The overview: each application's last production deployment, gate pass rate, open
//! alerts, access debt and the four keys with their bands.

use maud::{Markup, html};
use serde_json::Value;

use crate::{Section, Viewer, layout, n, query, s, verdict, when};

/// What the overview shows of one application (the server gathers it from the API).
#[derive(Clone, Debug, Default)]
pub struct AppSummary {
    /// Name.
    pub name: String,
    /// Owning team.
    pub team: String,
    /// The last production deployment (`GET /v1/deployments` item), if any.
    pub last_production: Option<Value>,
    /// Gate decisions for production over the period, and how many allowed.
    pub decisions: u64,
    /// Of which allowed.
    pub allowed: u64,
    /// Open alerts.
    pub open_alerts: u64,
    /// `GET /v1/access/debt` answer over the period.
    pub debt: Option<Value>,
    /// `GET /v1/metrics` answer's `total` over the period.
    pub metrics: Option<Value>,
}

fn band(metrics: &Value, key: &str) -> Markup {
    let b = metrics["bands"][key].as_str().unwrap_or("–");
    let class = match b {
        "elite" | "high" => "pass",
        "medium" => "warn",
        "low" => "fail",
        _ => "muted",
    };
    html! { span class=(class) { (b) } }
}

/// The overview page over `days` days.
pub fn overview(viewer: &Viewer, apps: &[AppSummary], days: i64) -> Markup {
    let body = html! {
        p.muted { (apps.len()) " applications; rates and the four keys over the last " (days) " days." }
        div.cards {
            @for a in apps {
                section.card aria-labelledby={ "app-" (a.name) } {
                    h3 #{ "app-" (a.name) } { (a.name) " " span.muted { "(" (a.team) ")" } }
                    dl.facts {
                        dt { "Last production deployment" }
                        dd {
                            @if let Some(d) = &a.last_production {
                                a href={ "/ui/deployments/" (s(d, "id")) } { (s(d, "id")) }
                                " " (verdict(s(d, "state")))
                                @if let Some(ms) = d["deployed_at"].as_i64() {
                                    br; span.muted { (when(&ms_to_rfc(ms))) }
                                }
                            } @else { span.muted { "none" } }
                        }
                        dt { "Gate pass rate" }
                        dd {
                            @if a.decisions > 0 {
                                (format!("{:.0}%", 100.0 * a.allowed as f64 / a.decisions as f64))
                                span.muted { " of " (a.decisions) " production decisions" }
                            } @else { span.muted { "no decisions" } }
                        }
                        dt { "Open alerts" }
                        dd {
                            a href={ "/ui/alerts" (query(&[("application", &a.name), ("state", "open")])) } {
                                (a.open_alerts)
                            }
                        }
                        dt { "Access debt" }
                        dd {
                            @if let Some(d) = &a.debt {
                                (n(&d["total"], "points")) " points, " (s(d, "trend"))
                            } @else { span.muted { "–" } }
                        }
                    }
                    @if let Some(m) = &a.metrics {
                        table {
                            caption { "The four keys" }
                            thead { tr { th scope="col" { "Key" } th scope="col" { "Value" } th scope="col" { "Band" } } }
                            tbody {
                                tr { th scope="row" { "Deployment frequency" }
                                     td { (n(m, "deployments")) " deployments on " (n(m, "deployment_days")) " days" }
                                     td { (band(m, "deployment_frequency")) } }
                                tr { th scope="row" { "Lead time (median)" }
                                     td { (hours(m["lead_time_median_hours"].as_f64())) }
                                     td { (band(m, "lead_time")) } }
                                tr { th scope="row" { "Change failure rate" }
                                     td { (format!("{:.1}%", 100.0 * n(m, "change_failure_rate"))) }
                                     td { (band(m, "change_failure_rate")) } }
                                tr { th scope="row" { "Time to restore (median)" }
                                     td { (minutes(m["time_to_restore_median_minutes"].as_f64())) }
                                     td { (band(m, "time_to_restore")) } }
                            }
                        }
                    }
                    p {
                        a href={ "/ui/controls" (query(&[("application", &a.name)])) } { "Controls" } " · "
                        a href={ "/ui/metrics" (query(&[("application", &a.name)])) } { "Charts" } " · "
                        a href={ "/ui/evidence" (query(&[("app", &a.name)])) } { "Evidence" }
                    }
                }
            }
        }
    };
    layout("Overview", Section::Overview, viewer, body)
}

/// Unix milliseconds as RFC 3339.
pub(crate) fn ms_to_rfc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn hours(h: Option<f64>) -> String {
    match h {
        Some(h) if h < 48.0 => format!("{h:.1} h"),
        Some(h) => format!("{:.1} days", h / 24.0),
        None => "–".into(),
    }
}

fn minutes(m: Option<f64>) -> String {
    match m {
        Some(m) if m < 120.0 => format!("{m:.0} min"),
        Some(m) => format!("{:.1} h", m / 60.0),
        None => "–".into(),
    }
}
