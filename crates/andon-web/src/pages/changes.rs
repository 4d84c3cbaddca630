//! Change records and their requests for change.

use maud::{Markup, html};
use serde_json::Value;

use super::overview::ms_to_rfc;
use crate::{Section, Viewer, layout, s, short, verdict, when};

/// One approval or rejection: who, how, when, with its comment; who stands behind the
/// approver (who created the identity, whose enrollment code issued the token that decided),
/// and a warning for each admin behind it who is also involved in the change.
pub(crate) fn approval(a: &Value) -> Markup {
    let at = a["at"]
        .as_i64()
        .map(|ms| when(&ms_to_rfc(ms)))
        .unwrap_or_default();
    let p = &a["provenance"];
    html! {
        (s(a, "approver")) " "
        (verdict(if a["approve"].as_bool() == Some(true) { "approved" } else { "rejected" }))
        " " span.muted { (at) }
        @if !s(a, "comment").is_empty() { ": " q { (s(a, "comment")) } }
        @if p.is_object() {
            br; span.muted { (provenance(p)) }
            @for w in p["warnings"].as_array().into_iter().flatten() {
                br; strong.warn { "Warning: " (w.as_str().unwrap_or("")) }
            }
        }
    }
}

/// An approver's provenance in words.
fn provenance(p: &Value) -> String {
    let entry = |k: &str| {
        p[k].as_u64()
            .map(|i| format!(" (ledger entry {i})"))
            .unwrap_or_default()
    };
    let mut parts = Vec::new();
    if let Some(by) = p["identity_created_by"].as_str() {
        parts.push(format!(
            "identity created by {by}, {}{}",
            when(s(p, "identity_created_at")),
            entry("identity_created_index")
        ));
    }
    if let Some(by) = p["enrolled_by"].as_str() {
        parts.push(format!(
            "enrolled with a code from {by}, {}{}",
            when(s(p, "enrollment_created_at")),
            entry("enrollment_index")
        ));
    }
    if let Some(token) = p["token"].as_str() {
        parts.push(format!(
            "token {token} issued by {}{}",
            s(p, "token_issued_by"),
            entry("token_issued_index")
        ));
    }
    parts.join("; ")
}

/// The change records listing (`GET /v1/changes` items), with its filters (application,
/// environment). `next` is the query string of the next (older) page.
pub fn changes(
    viewer: &Viewer,
    rows: &[Value],
    (application, environment, applications): (&str, &str, &[String]),
    sorting: &super::Sorting,
    api_query: &str,
    next: Option<&str>,
) -> Markup {
    let body = html! {
        form.search method="get" action="/ui/changes" aria-label="Changes" {
            (super::application_choice(application, applications, false))
            div.field { label for="f-env" { "Environment" } input #f-env name="environment" value=(environment) placeholder="any"; }
            (sorting.kept())
            button type="submit" { "Show" }
        }
        (super::exports("/v1/changes", api_query))
        table {
            caption { (rows.len()) " change records, " (sorting.words()) }
            thead { tr {
                th scope="col" { "Change" } (sorting.header("Created", "recorded")) (sorting.header("Application", "application"))
                (sorting.header("Environment", "environment")) (sorting.header("Class", "class")) (sorting.header("Status", "status"))
                th scope="col" { "Artifact" } th scope="col" { "Requested by" }
            } }
            tbody {
                @for c in rows {
                    tr {
                        td.nowrap { a href={ "/ui/changes/" (s(c, "id")) } { (s(c, "id")) } }
                        td.nowrap { (c["created_at"].as_i64().map(|ms| when(&ms_to_rfc(ms))).unwrap_or_default()) }
                        td { (s(c, "application")) }
                        td { (s(c, "environment")) }
                        td { @if s(c, "class") == "emergency" { span.fail { "emergency" } } @else { (s(c, "class")) } }
                        td { (verdict(s(c, "status"))) }
                        td.nowrap { (short(s(c, "artifact_digest"))) }
                        td { (s(c, "requested_by")) }
                    }
                }
            }
        }
        @if let Some(next) = next {
            p.pager { a href={ "/ui/changes" (next) } rel="next" { "Next changes →" } }
        }
    };
    layout("Changes", Section::Changes, viewer, body)
}

/// One change record with its request for change (Markdown, as Andon wrote it).
pub fn change(viewer: &Viewer, c: &Value, rfc_markdown: &str) -> Markup {
    let id = s(c, "id");
    let body = html! {
        dl.facts {
            dt { "Class" } dd { (s(c, "class")) }
            dt { "Status" } dd { (verdict(s(c, "status"))) }
            dt { "Application" } dd { (s(c, "application")) " → " (s(c, "environment")) }
            dt { "Artifact" } dd.mono { (s(c, "artifact_name")) "@" (s(c, "artifact_digest")) }
            dt { "Why this class" } dd { @for r in c["classification"]["reasons"].as_array().into_iter().flatten() { (r.as_str().unwrap_or("")) br; } }
            @if let Some(reason) = c["emergency_reason"].as_str() { dt { "Emergency" } dd { (reason) } }
            @if let Some(due) = c["review_due_at"].as_i64() { dt { "Review due" } dd { (when(&ms_to_rfc(due))) } }
            dt { "Approvals" } dd {
                @let approvals = c["approvals"].as_array().cloned().unwrap_or_default();
                @if approvals.is_empty() { span.muted { "none" } }
                @for a in &approvals { (approval(a)) br; }
            }
            dt { "Ledger index" } dd { (c["ledger_index"]) }
        }
        p.exports {
            a href={ "/v1/changes/" (id) "/rfc.md" } { "RFC (Markdown)" }
            a href={ "/v1/changes/" (id) "/rfc.json" } { "RFC (JSON)" }
        }
        article.document aria-label="Request for change" {
            (crate::markdown::render(rfc_markdown))
        }
    };
    layout(&format!("Change {id}"), Section::Changes, viewer, body)
}
