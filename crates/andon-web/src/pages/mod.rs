//! One module per page; each renders a whole page from the API's answers.

mod access;
mod changes;
mod controls;
mod deployments;
mod evidence;
mod ledger;
mod metrics;
mod overview;
mod summary;
mod vulns;

pub use access::access;
pub use changes::{change, changes};
pub use controls::{ControlCase, control_cases, controls};
pub use deployments::{DeploymentTrace, deployment, deployments};
pub use evidence::{EvidenceSearch, evidence, evidence_record};
pub use ledger::{InclusionCheck, ledger};
pub use metrics::{alerts, metrics};
pub use overview::{AppSummary, overview};
pub use vulns::{vulnerabilities, vulnerability_item};

use maud::{Markup, html};

/// A labelled drop-down list: `options` as (value, text), an "any" choice first.
pub(crate) fn choice(
    id: &str,
    label: &str,
    name: &str,
    chosen: &str,
    options: &[(String, String)],
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(name) {
                option value="" { "any" }
                @for (value, text) in options {
                    @if value == chosen {
                        option value=(value) selected { (text) }
                    } @else {
                        option value=(value) { (text) }
                    }
                }
            }
        }
    }
}

/// The application drop-down of a page's form (`application`): with an "any" choice, or
/// (`required`) one of the applications.
pub(crate) fn application_choice(chosen: &str, applications: &[String], required: bool) -> Markup {
    html! {
        div.field {
            label for="f-app" { "Application" }
            select #f-app name="application" required[required] {
                @if !required { option value="" { "all applications" } }
                @for a in applications {
                    @if a == chosen { option value=(a) selected { (a) } } @else { option value=(a) { (a) } }
                }
            }
        }
    }
}

/// Links to the same search as CSV and JSON (the API's own answers).
pub(crate) fn exports(api_path: &str, query: &str) -> Markup {
    let sep = if query.is_empty() { '?' } else { '&' };
    html! {
        p.exports {
            "Export this search: "
            a href={ (api_path) (query) (sep) "format=csv" } download { "CSV" }
            a href={ (api_path) (query) } { "JSON" }
        }
    }
}

/// The order a listing page shows, and what its column headers link to.
#[derive(Clone, Debug)]
pub struct Sorting {
    /// The page (`/ui/deployments`).
    pub page: &'static str,
    /// The filters its links keep, as (name, value).
    pub filters: Vec<(String, String)>,
    /// The key it is sorted by (`recorded` unless asked).
    pub key: String,
    /// Whether the order is descending.
    pub descending: bool,
}

impl Sorting {
    /// The order in words, for the table's caption.
    pub(crate) fn words(&self) -> String {
        match (self.key.as_str(), self.descending) {
            ("recorded", true) => "most recently recorded first".into(),
            ("recorded", false) => "first recorded first".into(),
            ("deployed", true) => "most recently deployed first".into(),
            ("deployed", false) => "first deployed first".into(),
            (k, d) => format!("by {k}, {}", if d { "Z to A" } else { "A to Z" }),
        }
    }

    /// The filter form's hidden fields that keep the order when the filters change.
    pub(crate) fn kept(&self) -> Markup {
        html! {
            @if self.key != "recorded" { input type="hidden" name="sort" value=(self.key); }
            input type="hidden" name="order" value=(if self.descending { "desc" } else { "asc" });
        }
    }

    /// A column header that sorts the listing by `key`: a link (to the other direction when
    /// it is the order now), marked with `aria-sort` when it is.
    pub(crate) fn header(&self, label: &str, key: &str) -> Markup {
        let active = self.key == key;
        let mut pairs: Vec<(&str, &str)> = self
            .filters
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        pairs.push(("sort", key));
        if active {
            pairs.push(("order", if self.descending { "asc" } else { "desc" }));
        }
        let href = format!("{}{}", self.page, crate::query(&pairs));
        let aria = active.then_some(if self.descending {
            "descending"
        } else {
            "ascending"
        });
        html! {
            th scope="col" aria-sort=[aria] {
                a.sort href=(href) title={ "Sort by " (label.to_lowercase()) } { (label) }
                @if active { " " span aria-hidden="true" { (if self.descending { "▼" } else { "▲" }) } }
            }
        }
    }
}
