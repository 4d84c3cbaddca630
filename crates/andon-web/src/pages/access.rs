//! Production access: break-glass requests and the grants valid now, the standing-access
//! register, and access debt.

use maud::{Markup, html};
use serde_json::Value;

use crate::charts::{Point, bars};
use crate::{Section, Viewer, layout, n, s, verdict, when};

/// The access page: `GET /v1/access/requests`, `/grants`, `/accounts`, `/standing` and
/// `/debt` answers.
pub fn access(
    viewer: &Viewer,
    requests: &[Value],
    grants: &[Value],
    accounts: &[Value],
    standing: &[Value],
    debt: &Value,
) -> Markup {
    let points: Vec<Point> = debt["periods"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Point {
            label: s(p, "start").to_owned(),
            value: Some(n(p, "points")),
            partial: false,
        })
        .collect();
    let body = html! {
        h2 { "Grants valid now" }
        @if grants.is_empty() { p { "No one holds break-glass access to production now." } }
        @else {
            table {
                caption { (grants.len()) @if grants.len() == 1 { " grant" } @else { " grants" } }
                thead { tr { th scope="col" { "Holder" } th scope="col" { "Level" } th scope="col" { "Application" } th scope="col" { "Environment" } th scope="col" { "Ticket" } th scope="col" { "Approved by" } th scope="col" { "Expires" } } }
                tbody { @for g in grants { tr {
                    td { (s(g, "holder")) } td { (s(g, "level")) } td { (s(g, "application")) } td { (s(g, "environment")) }
                    td { (s(g, "ticket")) } td { (s(g, "approved_by")) } td.nowrap { (when(s(g, "expires_at"))) }
                } } }
            }
        }
        h2 { "Break-glass requests" }
        (super::exports("/v1/access/requests", ""))
        table {
            caption { (requests.len()) " requests, newest first" }
            thead { tr { th scope="col" { "Request" } th scope="col" { "Requested" } th scope="col" { "By" } th scope="col" { "Level" } th scope="col" { "Application" } th scope="col" { "Reason" } th scope="col" { "Decided by" } th scope="col" { "State" } } }
            tbody { @for r in requests { tr {
                td.mono.nowrap { (s(r, "id")) } td.nowrap { (when(s(r, "requested_time"))) } td { (s(r, "requested_by")) }
                td { (s(r, "level")) " · " (r["minutes"]) " min" } td { (s(r, "application")) " " span.muted { (s(r, "environment")) } }
                td { (s(r, "reason")) " " span.muted { (s(r, "ticket")) } } td { (s(r, "decided_by")) } td { (verdict(s(r, "state"))) }
            } } }
        }
        h2 { "Standing-access register" }
        table {
            caption { "Shared and standing accounts with production access" }
            thead { tr { th scope="col" { "Account" } th scope="col" { "Application" } th scope="col" { "Environment" } th scope="col" { "Owners" } th.num scope="col" { "Uses" } th scope="col" { "Retired" } } }
            tbody { @for a in accounts { tr {
                td.mono { (s(a, "name")) } td { (s(a, "application")) } td { (s(a, "environment")) }
                td { (a["owners"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")) }
                td.num { (a["uses"]) } td { @if a["retired_at"].is_null() { span.warn { "in use" } } @else { "retired" } }
            } } }
        }
        table {
            caption { "Who holds standing access" }
            thead { tr { th scope="col" { "Person" } th scope="col" { "Accounts" } } }
            tbody { @for p in standing { tr {
                td { (s(p, "person")) }
                td { (p["accounts"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")) }
            } } }
        }
        h2 { "Access debt" }
        p { "Total " strong { (n(&debt["total"], "points")) } " points over the period, trend " strong { (s(debt, "trend")) } "." }
        div.charts { (bars("debt", "Production access debt per week", "points", &points)) }
    };
    layout("Access", Section::Access, viewer, body)
}
