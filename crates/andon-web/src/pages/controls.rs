//! The Risk Control Matrix, and the cases behind one control's figures.

use maud::{Markup, html};
use serde_json::Value;

use crate::charts::{Point, rates};
use crate::{Section, Viewer, layout, n, query, s, short, verdict, when};

/// One decision a control ran in, with how it came out.
#[derive(Clone, Debug)]
pub struct ControlCase {
    /// Decision id.
    pub decision: String,
    /// Its ledger index.
    pub ledger_index: u64,
    /// When (RFC 3339).
    pub at: String,
    /// `sha256:<hex>` of the artifact.
    pub artifact: String,
    /// Whether the gate allowed the release.
    pub allow: bool,
    /// This control's verdict.
    pub verdict: String,
    /// Its reason.
    pub reason: String,
    /// Evidence ids it relied on.
    pub evidence: Vec<String>,
}

fn period_form(
    action: &str,
    application: &str,
    applications: &[String],
    environment: &str,
    since: &str,
    until: &str,
    extra: Option<(&str, &str)>,
) -> Markup {
    html! {
        form.search method="get" action=(action) aria-label="Period" {
            @if let Some((k, v)) = extra { input type="hidden" name=(k) value=(v); }
            (super::application_choice(application, applications, action != "/ui/controls"))
            div.field { label for="f-env" { "Environment" } input #f-env name="environment" value=(environment); }
            div.field { label for="f-since" { "From" } input #f-since type="date" name="since" value=(since); }
            div.field { label for="f-until" { "Until" } input #f-until type="date" name="until" value=(until); }
            button type="submit" { "Show" }
        }
    }
}

/// The Risk Control Matrix page (`GET /v1/controls` answer), for the period of `since`
/// and `until` as the viewer entered them (dates).
pub fn controls(
    viewer: &Viewer,
    m: &Value,
    applications: &[String],
    since: &str,
    until: &str,
    api_query: &str,
) -> Markup {
    // No application: the organisation's matrix, every application counted together.
    let application = s(m, "application");
    let organisation = application.is_empty();
    let environment = s(m, "environment");
    let rows: Vec<&Value> = m["controls"].as_array().into_iter().flatten().collect();
    let points: Vec<Point> = rows
        .iter()
        .map(|c| Point {
            label: s(c, "id").to_owned(),
            value: (n(c, "decisions") > 0.0).then(|| 100.0 * n(c, "pass") / n(c, "decisions")),
            partial: false,
        })
        .collect();
    let body = html! {
        (period_form("/ui/controls", application, applications, environment, since, until, None))
        @if organisation {
            p {
                "The organisation: every application under its own policy, counted together ("
                (applications.len()) " applications) · decisions from " (when(s(m, "since"))) " to " (when(s(m, "until")))
                ". Choose an application for its own matrix and OSCAL documents."
            }
        } @else {
            p {
                "Policy " strong { (s(&m["policy"], "name")) } " " (short(s(&m["policy"], "version")))
                " · decisions from " (when(s(m, "since"))) " to " (when(s(m, "until")))
            }
        }
        p.exports {
            "Export: "
            a href={ "/v1/controls" (api_query) "&format=csv" } download { "CSV" }
            a href={ "/v1/controls" (api_query) } { "JSON" }
            @if !organisation {
                a href={ "/v1/controls/oscal/assessment-results" (api_query) } download { "OSCAL assessment results" }
                a href={ "/v1/controls/oscal/component-definition" (api_query) } download { "OSCAL component definition" }
            }
        }
        table {
            caption { "Each control: the risk it answers, what it relies on, how it did" }
            thead { tr {
                th scope="col" { "Control" } th scope="col" { "Risk" } th scope="col" { "Evidence" }
                th scope="col" { "Frameworks" } th.num scope="col" { "Ran" } th.num scope="col" { "Passed" }
                th.num scope="col" { "Failed" } th.num scope="col" { "Missing" } th.num scope="col" { "Waived" }
            } }
            tbody {
                @for c in &rows {
                    tr {
                        td {
                            @if organisation {
                                strong { (s(c, "id")) }
                            } @else {
                                a href={ "/ui/controls/" (s(c, "id")) (query(&[("application", application), ("environment", environment), ("since", since), ("until", until)])) } { strong { (s(c, "id")) } }
                            }
                            br; span.muted { (s(c, "title")) } br; span.muted { "stage: " (s(c, "stage")) }
                        }
                        td { (s(c, "risk")) }
                        td { @for e in c["evidence"].as_array().into_iter().flatten() { (e.as_str().unwrap_or("")) br; } }
                        td { @for f in c["frameworks"].as_array().into_iter().flatten() { span.nowrap { (f.as_str().unwrap_or("")) } br; } }
                        td.num { (n(c, "decisions")) }
                        td.num.pass { (n(c, "pass")) }
                        td.num { @if n(c, "fail") > 0.0 { span.fail { (n(c, "fail")) } } @else { "0" } }
                        td.num { (n(c, "missing")) }
                        td.num { (n(c, "waived")) }
                    }
                }
            }
        }
        div.charts { (rates("pass-rates", "Pass rate per control", &points)) }
    };
    layout("Risk Control Matrix", Section::Controls, viewer, body)
}

/// The cases behind one control's figures: each decision it ran in, newest first.
#[allow(clippy::too_many_arguments)] // one page's worth of plain inputs
pub fn control_cases(
    viewer: &Viewer,
    control: &Value,
    application: &str,
    environment: &str,
    since: &str,
    until: &str,
    cases: &[ControlCase],
    verdict_filter: &str,
) -> Markup {
    let id = s(control, "id");
    let filters = [
        "",
        "pass",
        "fail",
        "missing",
        "waived",
        "not_applicable",
        "error",
    ];
    let body = html! {
        p { strong { (s(control, "title")) } }
        dl.facts {
            dt { "Risk" } dd { (s(control, "risk")) }
            dt { "Relies on" } dd { @for e in control["evidence"].as_array().into_iter().flatten() { (e.as_str().unwrap_or("")) " " } }
            dt { "Frameworks" } dd { @for f in control["frameworks"].as_array().into_iter().flatten() { (f.as_str().unwrap_or("")) br; } }
            dt { "Application" } dd { (application) " · " (environment) }
        }
        nav aria-label="Verdicts" {
            p {
                "Show: "
                @for f in filters {
                    @let href = format!("/ui/controls/{id}{}", query(&[("application", application), ("environment", environment), ("since", since), ("until", until), ("verdict", f)]));
                    @if f == verdict_filter { strong aria-current="true" { (if f.is_empty() { "all" } else { f }) } " " }
                    @else { a href=(href) { (if f.is_empty() { "all" } else { f }) } " " }
                }
            }
        }
        table {
            caption { (cases.len()) " decisions" }
            thead { tr {
                th scope="col" { "When" } th scope="col" { "Artifact" } th scope="col" { "Verdict" }
                th scope="col" { "Reason" } th scope="col" { "Evidence" } th scope="col" { "Gate" } th.num scope="col" { "Ledger index" }
            } }
            tbody {
                @for c in cases {
                    tr {
                        td.nowrap { (when(&c.at)) }
                        td { (short(&c.artifact)) }
                        td { (verdict(&c.verdict)) }
                        td { (c.reason) }
                        td { @for e in &c.evidence { a href={ "/ui/evidence/" (e) } { (short(e)) } " " } }
                        td { (verdict(if c.allow { "allow" } else { "deny" })) }
                        td.num { a href={ "/ui/ledger" (query(&[("index", &c.ledger_index.to_string())])) } { (c.ledger_index) } }
                    }
                }
            }
        }
    };
    layout(&format!("Control {id}"), Section::Controls, viewer, body)
}
