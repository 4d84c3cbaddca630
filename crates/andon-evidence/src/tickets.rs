//! Ticket ids in commit messages, branch names and pull-request titles.
//!
//! Patterns are regular expressions, configurable per server; the defaults find Jira-style
//! keys (`PAY-123`) and GitHub/GitLab issue references (`#123`). A pattern with a capture
//! group records the group, otherwise the whole match.

use andon_domain::scm::{SourceFacts, TicketLink};
use regex::Regex;

/// The default patterns: Jira-style keys and `#123` issue references.
pub const DEFAULT_PATTERNS: &[&str] = &[
    r"\b([A-Z][A-Z0-9]{1,9}-[1-9][0-9]{0,8})\b",
    r"(?:^|[^\w&])(#[1-9][0-9]{0,8})\b",
];

/// A set of compiled ticket patterns.
#[derive(Clone, Debug)]
pub struct TicketPatterns(Vec<Regex>);

impl Default for TicketPatterns {
    fn default() -> Self {
        Self::new(DEFAULT_PATTERNS).unwrap_or(Self(Vec::new()))
    }
}

impl TicketPatterns {
    /// Compiles patterns; the error names the one that does not compile.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
        patterns
            .iter()
            .map(|p| {
                regex::RegexBuilder::new(p.as_ref())
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("ticket pattern {:?}: {e}", p.as_ref()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The distinct ticket ids in `text`, in order of appearance.
    pub fn find(&self, text: &str) -> Vec<String> {
        let mut found: Vec<(usize, String)> = Vec::new();
        for re in &self.0 {
            for c in re.captures_iter(text) {
                let Some(m) = c.get(1).or_else(|| c.get(0)) else {
                    continue;
                };
                if !found.iter().any(|(_, t)| t == m.as_str()) {
                    found.push((m.start(), m.as_str().to_owned()));
                }
            }
        }
        found.sort();
        found.into_iter().map(|(_, t)| t).collect()
    }

    /// Fills `facts.tickets` from its commits (message, and the branch they were pushed
    /// to) and pull-request events (title and source branch).
    pub fn link(&self, facts: &mut SourceFacts) {
        let mut links = Vec::new();
        let mut add = |repository: &str, text: &str, source: &str, reference: &str| {
            for ticket in self.find(text) {
                links.push(TicketLink {
                    repository: repository.to_owned(),
                    ticket,
                    source: source.to_owned(),
                    reference: reference.to_owned(),
                });
            }
        };
        for c in &facts.commits {
            add(&c.repository, &c.message, "commit_message", &c.sha);
            if let Some(branch) = c
                .git_ref
                .as_deref()
                .and_then(|r| r.strip_prefix("refs/heads/"))
            {
                add(&c.repository, branch, "branch", &c.sha);
            }
        }
        for e in &facts.changes {
            let reference = format!("#{}", e.number);
            add(&e.repository, &e.title, "pull_request_title", &reference);
            add(&e.repository, &e.source_branch, "branch", &reference);
        }
        links.sort();
        links.dedup();
        facts.tickets = links;
    }
}
