//! The ledger: its checkpoint and size, the last verification, and an inclusion check.

use maud::{Markup, html};
use serde_json::Value;

use crate::{Section, Viewer, layout, query, s};

/// An entry's inclusion proof as the server checked it.
#[derive(Clone, Debug)]
pub struct InclusionCheck {
    /// The index asked for.
    pub index: u64,
    /// `GET /v1/ledger/proof/inclusion` answer, when there is one.
    pub proof: Option<Value>,
    /// The root the proof leads to, recomputed here from the leaf and the path.
    pub computed_root: Option<String>,
    /// The root the signed checkpoint commits to.
    pub checkpoint_root: String,
    /// Whether the checkpoint's signature verified with the log's key.
    pub signature_ok: bool,
    /// Why the check failed, if it did.
    pub error: Option<String>,
}

/// The ledger page: `GET /v1/ledger` answer, the last self-check (`POST /v1/ledger/verify`
/// answer, if one was run) and an optional inclusion check.
pub fn ledger(
    viewer: &Viewer,
    info: &Value,
    last_check: Option<&Value>,
    check: Option<&InclusionCheck>,
) -> Markup {
    let body = html! {
        dl.facts {
            dt { "Origin" } dd.mono { (s(info, "origin")) }
            dt { "Size" } dd { (info["size"]) " entries" }
            dt { "Log key" } dd.mono { (s(info, "verifier_key")) }
            dt { "Last verification" } dd {
                @match last_check {
                    Some(v) => {
                        @if v["verified"].as_bool() == Some(true) { span.pass { "passed" } } @else { span.fail { "FAILED" } " at entry " (v["first_bad_index"]) ": " (s(v, "reason")) }
                        " at " (crate::when(s(v, "checked_at"))) ": "
                        (check_scope(v, info["size"].as_u64().unwrap_or(0)))
                    }
                    None => span.muted { "not run since this server started" },
                }
            }
        }
        h2 { "Current checkpoint" }
        pre.mono tabindex="0" { (s(info, "checkpoint")) }
        p.muted { "Verify everything yourself, trusting only the key above: " code { "andon verify --log-key '" (s(info, "verifier_key")) "'" } }
        h2 #inclusion { "Check an entry's inclusion proof" }
        form.search method="get" action="/ui/ledger#inclusion" aria-label="Inclusion proof" {
            div.field { label for="f-index" { "Ledger index" } input #f-index type="number" min="0" name="index" value=[check.map(|c| c.index)] required; }
            button type="submit" { "Check" }
        }
        @if let Some(c) = check {
            @if let Some(e) = &c.error {
                p.error-box role="alert" { "Entry " (c.index) ": " (e) }
            } @else {
                div.ok-box role="status" {
                    p { strong { "Entry " (c.index) " is included" } " in the log of size " (c.proof.as_ref().map(|p| p["tree_size"].clone()).unwrap_or_default()) ": the path below leads from its leaf hash to the root the signed checkpoint commits to"
                        @if c.signature_ok { ", and the checkpoint's signature verifies with the log key." } @else { "." } }
                }
            }
            @if let Some(p) = &c.proof {
                dl.facts {
                    dt { "Leaf hash" } dd.mono { (s(p, "leaf_hash")) }
                    dt { "Root from the path" } dd.mono { (c.computed_root.clone().unwrap_or_default()) }
                    dt { "Root in the checkpoint" } dd.mono { (c.checkpoint_root) }
                    dt { "Audit path" } dd.mono { @for h in p["proof"].as_array().into_iter().flatten() { (h.as_str().unwrap_or("")) br; } }
                }
                p.exports {
                    a href={ "/v1/ledger/proof/inclusion" (query(&[("index", &c.index.to_string())])) } { "This proof (JSON)" }
                    a href={ "/v1/ledger/entries" (query(&[("start", &c.index.to_string()), ("limit", "1")])) } { "The entry (JSON)" }
                }
            }
        }
    };
    layout("Ledger", Section::Ledger, viewer, body)
}

/// What a self-check covered, in words: the entries the log had then (of how many now),
/// the checkpoints and the tables compared with a replay, and when it runs again.
fn check_scope(v: &Value, now: u64) -> String {
    let size = v["size"].as_u64().unwrap_or(0);
    let mut said = if size == now {
        format!("all {size} entries recomputed")
    } else {
        format!("the {size} entries the log had then recomputed (it has {now} now)")
    };
    if let Some(c) = v["checkpoints_checked"].as_u64() {
        said.push_str(&format!(", {c} signed checkpoints checked"));
    }
    if let Some(t) = v["tables_compared"].as_u64() {
        said.push_str(&format!(
            ", {t} tables compared with a replay of the ledger"
        ));
    }
    said.push_str(
        "; the server checks again every hour (an admin can ask now: POST /v1/ledger/verify)",
    );
    said
}
