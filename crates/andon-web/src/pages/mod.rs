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

pub use access::access;
pub use changes::{change, changes};
pub use controls::{ControlCase, control_cases, controls};
pub use deployments::{DeploymentTrace, deployment, deployments};
pub use evidence::{EvidenceSearch, evidence, evidence_record};
pub use ledger::{InclusionCheck, ledger};
pub use metrics::{alerts, metrics};
pub use overview::{AppSummary, overview};

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
