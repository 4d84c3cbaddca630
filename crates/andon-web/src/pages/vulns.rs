//! Vulnerabilities: the blast radius of a CVE or a package, and the items tracking each
//! vulnerability running in production to its fix.

use maud::{Markup, html};
use serde_json::Value;

use crate::{Section, Viewer, layout, s, short, verdict, when};

/// A Unix-ms time as [`when`] shows it.
fn at(v: &Value) -> String {
    v.as_i64()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| when(&t.to_string()))
        .unwrap_or_default()
}

fn list<'a>(v: &'a Value, key: &str) -> Vec<&'a str> {
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The vulnerabilities page: the impact of what was asked (`GET
/// /v1/vulnerabilities/impact`'s answer, or the refusal's message), and the items (`GET
/// /v1/vulnerabilities/items`), open ones first.
pub fn vulnerabilities(
    viewer: &Viewer,
    asked: &str,
    impact: Option<Result<&Value, &str>>,
    items: &[Value],
) -> Markup {
    let mut sorted: Vec<&Value> = items.iter().collect();
    sorted.sort_by_key(|i| s(i, "state") == "closed");
    let body = html! {
        form.search method="get" action="/ui/vulnerabilities" role="search" aria-label="Blast radius" {
            div.field {
                label for="f-q" { "Blast radius of a CVE, an advisory id or a package URL" }
                input #f-q name="q" value=(asked) placeholder="CVE-2023-32681 or pkg:pypi/requests@2.30.0";
            }
            button type="submit" { "Show where it runs" }
        }
        @match impact {
            Some(Err(message)) => p.error-box role="alert" { (message) },
            Some(Ok(i)) => (impact_section(i)),
            None => {},
        }
        h2 { "Items" }
        @if sorted.is_empty() {
            p { "No vulnerability has been found running in production." }
        } @else {
            table {
                caption { (sorted.len()) " items, open ones first" }
                thead { tr {
                    th scope="col" { "Item" } th scope="col" { "Vulnerability" } th scope="col" { "Application" }
                    th scope="col" { "Priority" } th scope="col" { "State" } th scope="col" { "Detected" } th scope="col" { "Due" }
                } }
                tbody { @for i in sorted { tr {
                    td.mono.nowrap { a href={ "/ui/vulnerabilities/" (s(i, "id")) } { (s(i, "id")) } }
                    td { (s(i, "vulnerability")) " " span.muted { (list(i, "aliases").join(", ")) } }
                    td { (s(i, "application")) " " span.muted { (s(i, "team")) } }
                    td { (s(i, "priority")) " " (verdict(s(i, "severity"))) }
                    td { (s(i, "state").replace('_', " ")) @if let Some(r) = i["close_reason"].as_str() { " " span.muted { "(" (r.replace('_', " ")) ")" } } }
                    td.nowrap { (at(&i["detected_at"])) }
                    td.nowrap { (at(&i["due_at"])) @if i["overdue"] == true { " " span.fail { "overdue" } } }
                } } }
            }
        }
    };
    layout("Vulnerabilities", Section::Vulnerabilities, viewer, body)
}

fn impact_section(i: &Value) -> Markup {
    let rows = |key: &str| i[key].as_array().cloned().unwrap_or_default();
    let affected = rows("affected");
    let built = rows("built");
    let blind = rows("running_without_sbom");
    html! {
        h2 { "Where " (s(i, "query")) " runs" }
        @for a in rows("advisories") {
            p { strong { (s(&a, "id")) } " " (verdict(s(&a, "severity"))) " " (s(&a, "summary"))
                @if let Some(w) = a["withdrawn"].as_str() { " " span.warn { "withdrawn " (when(w)) } } }
        }
        @if affected.is_empty() {
            p { "Nothing running that Andon knows of contains it." }
        } @else {
            table {
                caption { (affected.len()) " running artifacts contain it" }
                thead { tr { th scope="col" { "Environment" } th scope="col" { "Application" } th scope="col" { "Artifact" } th scope="col" { "Workloads" } th scope="col" { "Components" } } }
                tbody { @for a in &affected { tr {
                    td { (s(a, "environment")) }
                    td { (s(a, "application")) " " span.muted { (s(a, "team")) } }
                    td { (short(s(a, "artifact"))) }
                    td { (list(a, "workloads").join(", ")) }
                    td { @for c in a["components"].as_array().into_iter().flatten() {
                        (s(c, "name")) " " (s(c, "version"))
                        @if let Some(f) = c["fixed"].as_str() { " " span.muted { "(fixed in " (f) ")" } }
                        br;
                    } }
                } } }
            }
        }
        @if !built.is_empty() {
            p { (built.len()) " more artifacts contain it and run nowhere Andon knows of." }
        }
        @if !blind.is_empty() {
            p.warn { (blind.len()) " running artifacts have no SBOM: Andon cannot tell whether they contain it." }
        }
    }
}

/// One item: what it is, its deadline, and every step with the ledger entry that recorded it.
pub fn vulnerability_item(viewer: &Viewer, i: &Value) -> Markup {
    let title = format!("{} in {}", s(i, "vulnerability"), s(i, "application"));
    let body = html! {
        dl.facts {
            dt { "Item" } dd.mono { (s(i, "id")) }
            dt { "Also known as" } dd { (list(i, "aliases").join(", ")) }
            dt { "Severity and priority" } dd { (verdict(s(i, "severity"))) " " (s(i, "priority")) }
            dt { "Team" } dd { (s(i, "team")) }
            dt { "Detected" } dd { (at(&i["detected_at"])) }
            dt { "Due" } dd { (at(&i["due_at"])) @if i["overdue"] == true { " " span.fail { "overdue" } } }
            dt { "State" } dd { (s(i, "state").replace('_', " ")) }
            @if let Some(f) = i["fix_artifact"].as_str() { dt { "Fix" } dd { (short(f)) } }
        }
        p { a href={ "/ui/vulnerabilities?q=" (crate::encode(s(i, "vulnerability"))) } { "Where it runs now" } }
        table {
            caption { "Every step, each a ledger entry" }
            thead { tr { th scope="col" { "Entry" } th scope="col" { "When" } th scope="col" { "Step" } th scope="col" { "What moved it" } } }
            tbody { @for e in i["events"].as_array().into_iter().flatten() { tr {
                td.mono { a href={ "/ui/ledger?index=" (e["ledger_index"]) } { (e["ledger_index"]) } }
                td.nowrap { (at(&e["at"])) }
                td { (s(e, "state").replace('_', " ")) }
                td { (s(e, "detail")) }
            } } }
        }
    };
    layout(&title, Section::Vulnerabilities, viewer, body)
}
