//! Markdown Andon wrote (the request for change) as HTML, safely: CommonMark with tables by
//! `pulldown-cmark`, every raw HTML block or span shown as text, links kept only when they
//! go to the web (`http`, `https`) or to the interface itself (a path or a fragment), and
//! images shown as their alternative text (an RFC must not fetch anything when opened).
//! The fields pipelines fill (risk, rollback plan, scripts) reach the document, so its
//! Markdown is not trusted.

use maud::{Markup, PreEscaped};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd, html};

/// A link destination the rendering keeps.
fn safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with('#')
        || (lower.starts_with('/') && !lower.starts_with("//"))
}

/// Renders `markdown` as HTML (see the module's notes on what is kept).
pub fn render(markdown: &str) -> Markup {
    let mut in_image = false;
    let mut dropped_links = Vec::new();
    let events = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Image { .. }) => {
            in_image = true;
            None
        }
        Event::End(TagEnd::Image) => {
            in_image = false;
            None
        }
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let keep = safe_link(&dest_url) && link_type != LinkType::Email;
            dropped_links.push(!keep);
            keep.then_some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::End(TagEnd::Link) => match dropped_links.pop() {
            Some(true) => None,
            _ => Some(Event::End(TagEnd::Link)),
        },
        other if in_image => match other {
            Event::Text(t) | Event::Code(t) => Some(Event::Text(t)),
            _ => None,
        },
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    PreEscaped(out)
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
