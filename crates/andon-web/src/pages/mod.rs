//! One module per page; each renders a whole page from the API's answers.

mod access;
mod changes;
mod controls;
mod deployments;
mod evidence;
mod ledger;
mod metrics;
mod overview;

pub use access::access;
pub use changes::{change, changes};
pub use controls::{ControlCase, control_cases, controls};
pub use deployments::{DeploymentTrace, deployment, deployments};
pub use evidence::{EvidenceSearch, evidence, evidence_record};
pub use ledger::{InclusionCheck, ledger};
pub use metrics::{alerts, metrics};
pub use overview::{AppSummary, overview};

use maud::{Markup, html};

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
