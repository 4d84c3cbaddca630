//! Andon's web interface, as pure rendering.
//!
//! The server gathers each page's data by calling its own API handlers (so a page shows
//! exactly what the API answers the same caller) and hands the answers to this crate, which
//! renders HTML: one layout, one page per module, SVG charts drawn here. No I/O, no
//! JavaScript: every page works with scripts off, forms are plain GET forms with labelled
//! fields, and every value interpolated into markup is escaped by `maud`.
//!
//! What this crate does not own: authentication (the server's session cookie), the data
//! (the API's JSON answers, read as `serde_json::Value`), and routing.

pub mod charts;
pub mod markdown;
mod pages;

pub use pages::*;

use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

/// The stylesheet every page links to, served by the server at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("../assets/andon.css");

/// Where the server serves [`STYLESHEET`].
pub const STYLESHEET_PATH: &str = "/ui/assets/andon.css";

/// Who is looking: shown in the header, with the sign-out button.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// Identity name.
    pub name: String,
    /// Role (admin, auditor, approver, pipeline ...).
    pub role: String,
}

/// The sections of the interface, in the order of the navigation bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Applications at a glance.
    Overview,
    /// Evidence search and records.
    Evidence,
    /// Production deployments and their traces.
    Deployments,
    /// The Risk Control Matrix.
    Controls,
    /// Change records and their RFCs.
    Changes,
    /// Break-glass grants, the standing-access register and access debt.
    Access,
    /// Alerts.
    Alerts,
    /// Vulnerabilities: blast radius and items.
    Vulnerabilities,
    /// Delivery metrics as charts.
    Metrics,
    /// The ledger and its proofs.
    Ledger,
}

const SECTIONS: [(Section, &str, &str); 10] = [
    (Section::Overview, "/ui/", "Overview"),
    (Section::Evidence, "/ui/evidence", "Evidence"),
    (Section::Deployments, "/ui/deployments", "Deployments"),
    (Section::Controls, "/ui/controls", "Controls"),
    (Section::Changes, "/ui/changes", "Changes"),
    (Section::Access, "/ui/access", "Access"),
    (Section::Alerts, "/ui/alerts", "Alerts"),
    (
        Section::Vulnerabilities,
        "/ui/vulnerabilities",
        "Vulnerabilities",
    ),
    (Section::Metrics, "/ui/metrics", "Metrics"),
    (Section::Ledger, "/ui/ledger", "Ledger"),
];

/// A whole page: the layout (skip link, navigation, who is signed in) around `body`.
pub fn layout(title: &str, section: Section, viewer: &Viewer, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Andon" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui/" { "ANDON" }
                    nav aria-label="Sections" {
                        ul {
                            @for (s, href, label) in SECTIONS {
                                li {
                                    @if s == section {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        span { (viewer.name) " (" (viewer.role) ")" }
                        form method="post" action="/ui/sign-out" {
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The sign-in page: an API token, exchanged for a session cookie.
///
/// With single sign-on configured (`sso`), the first way offered is the organisation's
/// identity provider; the token form stays for automation and installs without one.
pub fn sign_in(error: Option<&str>, next: &str, sso: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Sign in · Andon" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                main #main .sign-in {
                    h1 { "Sign in to Andon" }
                    p.muted {
                        "Paste an API token (an auditor's token shows everything, read-only). "
                        "The token is exchanged for a session of eight hours; it is not kept in the browser."
                    }
                    @if let Some(e) = error {
                        p.error-box role="alert" { (e) }
                    }
                    @if sso {
                        p {
                            a #sso.button href=(format!("/ui/sso?next={}", encode(next))) {
                                "Sign in with your identity provider"
                            }
                        }
                        p.muted { "Or paste an API token:" }
                    }
                    form.stack method="post" action="/ui/sign-in" {
                        input type="hidden" name="next" value=(next);
                        label for="token" { "API token" }
                        input #token type="password" name="token" autocomplete="current-password" required;
                        button type="submit" { "Sign in" }
                    }
                }
            }
        }
    }
}

/// The page a sign-in through the identity provider lands on: it moves on to `next` by
/// itself (a refresh, no script). The browser arrives here from the provider's site, and a
/// `SameSite=Strict` session cookie is not sent on a redirect that began there; the move
/// from this page begins on Andon's own, so the session goes along.
pub fn signed_in(next: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="refresh" content=(format!("0;url={next}"));
                title { "Signed in · Andon" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                main #main .sign-in {
                    h1 { "Signed in" }
                    p { a href=(next) { "Continue to Andon" } }
                }
            }
        }
    }
}

/// An error page inside the layout (a bad query, a record that does not exist).
pub fn error_page(viewer: &Viewer, section: Section, status: u16, message: &str) -> Markup {
    layout(
        if status == 404 {
            "Not found"
        } else {
            "Cannot show this"
        },
        section,
        viewer,
        html! { p.error-box role="alert" { (message) } },
    )
}

/// A string field of a JSON answer, or "" when absent.
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A number field of a JSON answer, or 0 when absent.
pub fn n(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// An RFC 3339 time as `2026-11-24 05:48 UTC`; anything else as given.
pub fn when(t: &str) -> String {
    match t.parse::<jiff::Timestamp>() {
        // Non-breaking spaces: a time in a narrow column stays on one line.
        Ok(ts) => ts
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string()
            .replace(' ', "\u{a0}"),
        Err(_) => t.to_owned(),
    }
}

/// A digest shortened for a table cell (the full value in its title).
pub fn short(d: &str) -> Markup {
    let hex = d.rsplit(':').next().unwrap_or(d);
    let shown = if hex.len() > 12 { &hex[..12] } else { hex };
    html! { span.mono title=(d) { (shown) } }
}

/// A verdict or outcome word with its colour class (the word itself carries the meaning).
pub fn verdict(v: &str) -> Markup {
    let class = match v {
        "pass" | "allow" | "allowed" | "succeeded" | "approved" | "resolved" | "ok" => "pass",
        "fail" | "deny" | "denied" | "failed" | "error" | "rejected" | "critical" | "high" => {
            "fail"
        }
        "missing" | "waived" | "pending" | "open" | "medium" | "rolled_back" => "warn",
        _ => "",
    };
    html! { span class=(class) { (v) } }
}

/// A URL query string from pairs, leaving out empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolated_values_are_escaped() {
        let viewer = Viewer {
            name: "<script>alert(1)</script>".into(),
            role: "auditor".into(),
        };
        let page = layout("x", Section::Overview, &viewer, html! {}).into_string();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;"));
    }

    #[test]
    fn queries_leave_out_empty_values_and_encode_the_rest() {
        assert_eq!(
            query(&[("app", "pay ments"), ("since", ""), ("x", "a&b")]),
            "?app=pay%20ments&x=a%26b"
        );
    }

    #[test]
    fn the_current_section_is_marked_for_assistive_technology() {
        let viewer = Viewer {
            name: "ann".into(),
            role: "auditor".into(),
        };
        let page = layout("Ledger", Section::Ledger, &viewer, html! {}).into_string();
        assert!(
            page.contains(r#"<a href="/ui/ledger" aria-current="page">"#),
            "{page}"
        );
        assert_eq!(page.matches("aria-current").count(), 1);
    }
}
