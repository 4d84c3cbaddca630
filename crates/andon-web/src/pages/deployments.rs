//! Deployments, and one production deployment's trace on one page: the decision with each
//! control's verdict, the artifact and its provenance, commits, reviews, tickets, the
//! change record and its approvals.

use maud::{Markup, html};
use serde_json::Value;

use super::overview::ms_to_rfc;
use crate::{Section, Viewer, layout, query, s, short, verdict, when};

/// Everything one deployment's page shows.
#[derive(Clone, Debug)]
pub struct DeploymentTrace {
    /// `GET /v1/deployments/{id}`.
    pub deployment: Value,
    /// `GET /v1/decisions/{id}` of its gate decision, if it had one (a bypass has none).
    pub decision: Option<Value>,
    /// `GET /v1/changes/{id}` of its change record.
    pub change: Option<Value>,
    /// `GET /v1/trace?artifact=` of its artifact, if any evidence names it.
    pub trace: Option<Value>,
}

/// The deployments listing in `sorting`'s order; `next` is the query string of the next
/// page.
pub fn deployments(
    viewer: &Viewer,
    rows: &[Value],
    (application, applications): (&str, &[String]),
    sorting: &super::Sorting,
    api_query: &str,
    next: Option<&str>,
) -> Markup {
    let body = html! {
        form.search method="get" action="/ui/deployments" aria-label="Deployments" {
            (super::application_choice(application, applications, false))
            (sorting.kept())
            button type="submit" { "Show" }
        }
        (super::exports("/v1/deployments", api_query))
        table {
            caption {
                (rows.len()) " deployments, " (sorting.words())
                @if sorting.key == "recorded" { " (a deployment recorded late sits where it was recorded; When says when it happened)" }
            }
            thead { tr {
                th scope="col" { "Deployment" } (sorting.header("When", "deployed")) (sorting.header("Application", "application"))
                (sorting.header("Environment", "environment")) th scope="col" { "Artifact" } (sorting.header("State", "state"))
                th scope="col" { "Change" } th scope="col" { "Gate" } (sorting.header("Recorded", "recorded"))
            } }
            tbody {
                @for d in rows {
                    tr {
                        td.nowrap { a href={ "/ui/deployments/" (s(d, "id")) } { (s(d, "id")) } }
                        td.nowrap { (d["deployed_at"].as_i64().map(|ms| when(&ms_to_rfc(ms))).unwrap_or_default()) }
                        td { (s(d, "application")) }
                        td { (s(d, "environment")) }
                        td.nowrap { (short(s(d, "artifact_digest"))) }
                        td { (verdict(s(d, "state"))) }
                        td.nowrap { a href={ "/ui/changes/" (s(d, "change")) } { (s(d, "change")) } }
                        td { @if d["bypass"].as_bool() == Some(true) { span.fail { "bypassed" } } @else { span.pass { "gated" } } }
                        td { (late_marks(d)) }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p.pager { a href={ "/ui/deployments" (next) } rel="next" { "Next deployments →" } }
        }
    };
    layout("Deployments", Section::Deployments, viewer, body)
}

/// One deployment's trace.
pub fn deployment(viewer: &Viewer, t: &DeploymentTrace) -> Markup {
    let d = &t.deployment;
    let digest = s(d, "artifact_digest");
    let body = html! {
        dl.facts {
            dt { "Application" } dd { (s(d, "application")) }
            dt { "Environment" } dd { (s(d, "environment")) }
            dt { "Deployed" } dd { (d["deployed_at"].as_i64().map(|ms| when(&ms_to_rfc(ms))).unwrap_or_default()) " by " (s(d, "recorded_by")) ", run " (s(d, "run")) }
            dt { "State" } dd { (verdict(s(d, "state"))) }
            @if !d["late"].is_null() || !d["state_late"].is_null() {
                dt { "Recorded late" } dd { (late_marks(d)) }
            }
            dt { "Artifact" } dd.mono { (s(d, "artifact_name")) "@" (digest) }
            dt { "Ledger index" } dd { a href={ "/ui/ledger" (query(&[("index", &d["ledger_index"].to_string())])) } { (d["ledger_index"]) } }
        }
        h2 #decision { "Gate decision" }
        @if let Some(dec) = &t.decision {
            @let doc = &dec["decision"];
            p {
                (verdict(if doc["allow"].as_bool() == Some(true) { "allow" } else { "deny" }))
                " at " (when(s(&doc["input"], "time"))) " under policy " strong { (s(&doc["policy"], "name")) } " "
                (short(s(&doc["policy"], "version")))
                " · ledger index " (dec["ledger_index"])
            }
            table {
                caption { "Each control's verdict" }
                thead { tr { th scope="col" { "Control" } th scope="col" { "Verdict" } th scope="col" { "Reason" } th scope="col" { "Evidence" } } }
                tbody {
                    @for c in doc["controls"].as_array().into_iter().flatten() {
                        tr {
                            td { strong { (s(c, "id")) } br; span.muted { (s(c, "title")) } }
                            td { (verdict(s(c, "verdict"))) }
                            td { (s(c, "reason")) }
                            td { @for e in c["evidence"].as_array().into_iter().flatten() {
                                a href={ "/ui/evidence/" (e.as_str().unwrap_or("")) } { (short(e.as_str().unwrap_or(""))) } " "
                            } }
                        }
                    }
                }
            }
        } @else {
            p.error-box { "No gate decision: this deployment bypassed the gate." }
        }
        h2 #artifact { "Artifact, provenance and evidence" }
        @if let Some(tr) = &t.trace {
            @for a in tr["artifacts"].as_array().into_iter().flatten() {
                table {
                    caption { "Evidence naming " span.mono { (s(a, "digest")) } }
                    thead { tr { th scope="col" { "Kind" } th scope="col" { "Summary" } th scope="col" { "Record" } } }
                    tbody {
                        @for e in a["evidence"].as_array().into_iter().flatten() {
                            tr {
                                td { (s(e, "kind")) }
                                td { (summary_line(&e["summary"])) }
                                td { a href={ "/ui/evidence/" (s(e, "id")) } { "#" (e["ledger_index"]) } }
                            }
                        }
                    }
                }
            }
            h2 #commits { "Commits, pull requests, reviews and tickets" }
            @for c in tr["commits"].as_array().into_iter().flatten() {
                section.card {
                    h3 { "Commit " span.mono { (&s(c, "sha")[..12.min(s(c, "sha").len())]) } }
                    p { (s(&c["commit"], "message")) }
                    p.muted { (s(&c["commit"], "repository")) " · " (s(&c["commit"], "author")) " · " (when(s(&c["commit"], "timestamp"))) }
                    @for pr in c["pull_requests"].as_array().into_iter().flatten() {
                        p { "Pull request #" (pr["number"]) ": " (s(pr, "title")) }
                        p { "Review: " (s(&pr["review"], "finding")) }
                    }
                    @let tickets: Vec<&str> = c["tickets"].as_array().into_iter().flatten().filter_map(|t| t["ticket"].as_str()).collect();
                    @if !tickets.is_empty() {
                        p { "Tickets: " (dedup(tickets).join(", ")) }
                    }
                }
            }
        } @else {
            p.muted { "No evidence names this artifact." }
        }
        h2 #change { "Change record" }
        @if let Some(c) = &t.change {
            dl.facts {
                dt { "Change" } dd { a href={ "/ui/changes/" (s(c, "id")) } { (s(c, "id")) } }
                dt { "Class" } dd { (s(c, "class")) }
                dt { "Status" } dd { (verdict(s(c, "status"))) }
                dt { "Why this class" } dd { @for r in c["classification"]["reasons"].as_array().into_iter().flatten() { (r.as_str().unwrap_or("")) br; } }
                dt { "Approvals" } dd {
                    @let approvals = c["approvals"].as_array().cloned().unwrap_or_default();
                    @if approvals.is_empty() {
                        @match (s(c, "status"), s(c, "class")) {
                            ("bypassed", _) => { strong { "none: deployed without an allowing gate decision (a gate bypass; see its " a href="/ui/alerts" { "alert" } ")" } }
                            (_, "standard") => { span.muted { "none required: a standard change, pre-approved" } }
                            (_, "emergency") => { span.muted { "none yet: the first approval after deployment is the emergency review" } }
                            _ => { span.muted { "none given yet" } }
                        }
                    }
                    @for a in &approvals { (super::changes::approval(a)) br; }
                }
            }
        } @else {
            p.muted { "No change record." }
        }
    };
    layout(
        &format!("Deployment {}", s(d, "id")),
        Section::Deployments,
        viewer,
        body,
    )
}

/// A late mark in words: "late: <reason> (allowed by <admin>)".
pub(crate) fn late_mark(what: &str, late: &Value) -> Markup {
    html! {
        span.warn { (what) } " " (s(late, "reason")) " " span.muted { "(allowed by " (s(late, "allowed_by")) ")" }
    }
}

/// What of a deployment arrived after the late window: its record, a state change; "on
/// time" when nothing did.
fn late_marks(d: &Value) -> Markup {
    html! {
        @if d["late"].is_null() && d["state_late"].is_null() { span.muted { "on time" } }
        @if !d["late"].is_null() { (late_mark("late", &d["late"])) }
        @if !d["state_late"].is_null() { br; (late_mark("state late", &d["state_late"])) }
    }
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v.dedup();
    v
}

/// An evidence summary in words (see `summary::in_words`).
pub(crate) fn summary_line(v: &Value) -> String {
    super::summary::in_words(v)
}
