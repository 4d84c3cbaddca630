//! Evidence search, and one record with its ledger index, inclusion proof and document.

use maud::{Markup, html};
use serde_json::Value;

use crate::{Section, Viewer, layout, query, s, short};

/// The search as the viewer filled it in, and its answer.
#[derive(Clone, Debug, Default)]
pub struct EvidenceSearch {
    /// Application.
    pub app: String,
    /// Control whose cited evidence to list (needs an application).
    pub control: String,
    /// Predicate type.
    pub predicate_type: String,
    /// Signer (the pipeline identity that sent it).
    pub signer: String,
    /// Subject digest.
    pub subject: String,
    /// From this date (YYYY-MM-DD), inclusive.
    pub since: String,
    /// Until this date (YYYY-MM-DD), inclusive.
    pub until: String,
    /// Applications to choose from.
    pub applications: Vec<String>,
    /// The application's controls to choose from: id and title.
    pub controls: Vec<(String, String)>,
    /// Predicate types to choose from.
    pub predicate_types: Vec<String>,
    /// The matching records (`GET /v1/evidence` items).
    pub rows: Vec<Value>,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
    /// The API query string that answers the same search (for the exports).
    pub api_query: Option<String>,
}

/// The evidence search page.
pub fn evidence(viewer: &Viewer, q: &EvidenceSearch) -> Markup {
    let apps: Vec<(String, String)> = q
        .applications
        .iter()
        .map(|a| (a.clone(), a.clone()))
        .collect();
    let controls: Vec<(String, String)> = q
        .controls
        .iter()
        .map(|(id, title)| (id.clone(), format!("{id}: {title}")))
        .collect();
    let types: Vec<(String, String)> = q
        .predicate_types
        .iter()
        .map(|t| (t.clone(), t.clone()))
        .collect();
    let body = html! {
        form.search method="get" action="/ui/evidence" role="search" aria-label="Evidence" {
            (super::choice("f-app", "Application", "app", &q.app, &apps))
            (super::choice("f-control", "Relied on by control (needs an application)", "control", &q.control, &controls))
            (super::choice("f-type", "Type", "predicate_type", &q.predicate_type, &types))
            div.field { label for="f-signer" { "Actor (signer)" } input #f-signer name="signer" value=(q.signer); }
            div.field { label for="f-subject" { "Subject digest" } input #f-subject name="subject" value=(q.subject) placeholder="sha256:…"; }
            div.field { label for="f-since" { "From" } input #f-since type="date" name="since" value=(q.since); }
            div.field { label for="f-until" { "Until" } input #f-until type="date" name="until" value=(q.until); }
            button type="submit" { "Search" }
        }
        @if let Some(api) = &q.api_query {
            (super::exports("/v1/evidence", api))
        }
        @if q.rows.is_empty() {
            p { "No evidence matches this search." }
        } @else {
            table {
                caption { (q.rows.len()) " records, newest first" }
                thead { tr {
                    th.num scope="col" { "Ledger index" } th scope="col" { "Accepted" }
                    th scope="col" { "Application" } th scope="col" { "Kind" } th scope="col" { "Signer" }
                    th scope="col" { "Subject" } th scope="col" { "Record" }
                } }
                tbody {
                    @for r in &q.rows {
                        tr {
                            td.num { a href={ "/ui/ledger" (query(&[("index", &r["ledger_index"].to_string())])) } { (r["ledger_index"]) } }
                            td.nowrap { (crate::when(s(r, "accepted_at"))) }
                            td { (s(r, "application")) }
                            td { (r["summary"]["kind"].as_str().unwrap_or(s(r, "predicate_type"))) }
                            td { (s(r, "signer")) }
                            td { @for subj in r["subjects"].as_array().into_iter().flatten() { (short(subj.as_str().unwrap_or(""))) " " } }
                            td {
                                a href={ "/ui/evidence/" (s(r, "id")) } { "open " span.mono { (&s(r, "id")[..12.min(s(r, "id").len())]) } }
                                " · "
                                a href={ "/v1/evidence/" (s(r, "id")) "/document" } aria-label={ "raw document " (s(r, "id")) } { "raw" }
                            }
                        }
                    }
                }
            }
            @if let Some(next) = &q.next {
                p.pager { a href={ "/ui/evidence" (next) } rel="next" { "Older records →" } }
            }
        }
    };
    layout("Evidence", Section::Evidence, viewer, body)
}

/// One evidence record (`GET /v1/evidence/{id}`, with its statement).
pub fn evidence_record(viewer: &Viewer, r: &Value) -> Markup {
    let id = s(r, "id");
    let index = r["ledger_index"].to_string();
    let body = html! {
        dl.facts {
            dt { "Id (SHA-256 of the envelope)" } dd.mono { (id) }
            dt { "Ledger index" } dd { (index) }
            dt { "Application" } dd { (s(r, "application")) }
            dt { "Type" } dd { (s(r, "predicate_type")) }
            dt { "Signer" } dd { (s(r, "signer")) " " span.muted { "key " span.mono { (s(r, "keyid")) } } }
            dt { "Run" } dd { (s(r, "run")) }
            dt { "Accepted" } dd { (crate::when(s(r, "accepted_at"))) }
            dt { "Subjects" } dd { @for subj in r["subjects"].as_array().into_iter().flatten() { span.mono { (subj.as_str().unwrap_or("")) } br; } }
        }
        p.exports {
            a href={ "/ui/ledger" (query(&[("index", &index)])) } { "Check its inclusion proof" }
            a href={ "/v1/ledger/proof/inclusion" (query(&[("index", &index)])) } { "Inclusion proof (JSON)" }
            a href={ "/v1/evidence/" (id) "/document" } { "Raw document (DSSE envelope)" }
        }
        h2 { "Summary" }
        @if r["summary"].is_object() {
            p { (super::summary::in_words(&r["summary"])) }
            details {
                summary { "The summary as recorded (JSON)" }
                pre tabindex="0" { (serde_json::to_string_pretty(&r["summary"]).unwrap_or_default()) }
            }
        } @else {
            p.muted { "No summary: Andon does not read this predicate type; the statement is below." }
        }
        h2 { "Statement" }
        pre tabindex="0" { (serde_json::to_string_pretty(&r["statement"]).unwrap_or_default()) }
    };
    layout("Evidence record", Section::Evidence, viewer, body)
}
