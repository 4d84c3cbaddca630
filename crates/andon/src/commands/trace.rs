//! `andon trace <commit | sha256:digest>`: the chain an auditor follows, printed from the
//! artifact down to reviews, tickets and deployments.

use std::process::ExitCode;

use andon_domain::api::{CommitTrace, EvidenceBrief, PullRequestTrace, TraceView};
use serde_json::Value;

use crate::cli::context::{Context, client};
use crate::cli::output::{Output, emit, plural};

/// Flags of `andon trace`.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// A commit id (7 or more hex digits) or an artifact digest (sha256:<hex>).
    pub target: String,
}

/// Runs `andon trace`.
pub fn run(ctx: &Context, t: &TraceArgs, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    let view = if t.target.starts_with("sha256:") {
        c.trace_artifact(&t.target)?
    } else {
        c.trace_commit(&t.target)?
    };
    emit(out, &view, print)?;
    Ok(ExitCode::SUCCESS)
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
}

/// One line per kind of summary: the numbers a reader looks for first.
pub fn one_line(kind: &str, s: &Value) -> String {
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    let t = |k: &str| s[k].as_str().unwrap_or("-").to_owned();
    match kind {
        "junit" => format!(
            "{}, {}, {}, {} skipped",
            plural(n("tests"), "test", "tests"),
            plural(n("failures"), "failure", "failures"),
            plural(n("errors"), "error", "errors"),
            n("skipped")
        ),
        "coverage" => format!(
            "line coverage {:.1}% of {}",
            s["line_rate"].as_f64().unwrap_or(0.0) * 100.0,
            plural(n("lines_total"), "line", "lines")
        ),
        "sarif" => format!(
            "{} ({} suppressed), max security severity {}",
            plural(n("findings"), "finding", "findings"),
            n("suppressed"),
            s["max_security_severity"]
                .as_f64()
                .map_or("-".into(), |v| v.to_string())
        ),
        "sbom" => format!(
            "{} {}, {} with purl",
            t("format"),
            plural(n("components"), "component", "components"),
            n("with_purl")
        ),
        "vulnerabilities" => format!(
            "{} (max {}), {} fixable, {} not affected",
            plural(n("findings"), "open finding", "open findings"),
            t("max_severity"),
            n("fixable"),
            n("not_affected")
        ),
        "provenance" => format!(
            "builder {}, source {} @ {}",
            t("builder_id"),
            t("source_repository"),
            short(&t("source_commit"))
        ),
        "pipeline-definition" => format!("{} sha256:{}", t("path"), short(&t("sha256"))),
        "review" => "review attested by the pipeline".into(),
        _ => String::new(),
    }
}

fn evidence_line(e: &EvidenceBrief) -> String {
    let kind = e.kind.as_deref().unwrap_or("generic");
    let detail = e
        .summary
        .as_ref()
        .map(|s| one_line(kind, s))
        .unwrap_or_else(|| e.predicate_type.clone());
    format!("#{:<5} {kind:<20} {detail}", e.ledger_index)
}

fn print_pull_request(pr: &PullRequestTrace) {
    let r = &pr.review;
    println!(
        "  pull request {}#{} \"{}\" ({} -> {}) by {}, {}{}",
        pr.repository,
        pr.number,
        pr.title,
        pr.source_branch,
        pr.target_branch,
        r.author.as_deref().unwrap_or("unknown author"),
        r.state,
        r.merged_by
            .as_deref()
            .map(|m| format!(" by {m}"))
            .unwrap_or_default()
    );
    // Events and reviews in the order the ledger recorded them.
    let mut lines: Vec<(u64, String)> = pr
        .events
        .iter()
        .map(|(i, e)| {
            let merge = e
                .merge_sha
                .as_deref()
                .map(|m| format!(" -> merge {}", short(m)))
                .unwrap_or_default();
            let head = e.head_sha.as_deref().map(short).unwrap_or("-");
            (*i, format!("{:<12} head {head}{merge}", e.action))
        })
        .chain(pr.reviews.iter().map(|(i, rv)| {
            let on = rv.commit.as_deref().map(short).unwrap_or("-");
            (
                *i,
                format!("review       {} {} on {on}", rv.reviewer, rv.state),
            )
        }))
        .collect();
    lines.sort_by_key(|(i, _)| *i);
    for (i, line) in lines {
        println!("    #{i:<5} {line}");
    }
    let ok = r.approved_exact_head
        && r.commits_after_approval.is_empty()
        && !r.independent_approvers.is_empty();
    println!("    {} {}", if ok { "✓" } else { "✗" }, r.finding);
    if !r.commits_after_approval.is_empty() {
        let heads: Vec<&str> = r.commits_after_approval.iter().map(|s| short(s)).collect();
        println!("      not reviewed: {}", heads.join(", "));
    }
}

fn print_commit(c: &CommitTrace) {
    match &c.commit {
        Some(p) => println!(
            "commit {} ({}) \"{}\" by {}",
            short(&c.sha),
            p.repository,
            p.message.lines().next().unwrap_or(""),
            p.author.as_deref().unwrap_or("-")
        ),
        None => println!("commit {}", short(&c.sha)),
    }
    if !c.tickets.is_empty() {
        let mut tickets: Vec<(String, Vec<String>)> = Vec::new();
        for t in &c.tickets {
            match tickets.iter_mut().find(|(id, _)| *id == t.ticket) {
                Some((_, sources)) if !sources.contains(&t.source) => {
                    sources.push(t.source.clone())
                }
                Some(_) => {}
                None => tickets.push((t.ticket.clone(), vec![t.source.clone()])),
            }
        }
        let tickets: Vec<String> = tickets
            .into_iter()
            .map(|(id, sources)| format!("{id} ({})", sources.join(", ")))
            .collect();
        println!("  tickets  {}", tickets.join(", "));
    } else {
        println!("  tickets  none found");
    }
    if c.pull_requests.is_empty() {
        println!("  ✗ no pull request recorded for this commit");
    }
    for pr in &c.pull_requests {
        print_pull_request(pr);
    }
    for e in &c.evidence {
        println!("  evidence {}", evidence_line(e));
    }
    for d in &c.deployments {
        println!(
            "  deployed {} {} ({}{}){}",
            d.environment,
            d.state,
            d.repository,
            d.deployment_id
                .as_deref()
                .map(|i| format!(" deployment {i}"))
                .unwrap_or_default(),
            d.at.as_deref()
                .map(|a| format!(" at {a}"))
                .unwrap_or_default()
        );
    }
}

/// Prints a trace for people, as `andon trace` does.
pub fn print(v: &TraceView) {
    println!("trace of {}", v.query);
    for a in &v.artifacts {
        println!("artifact {}  {}", a.digest, a.names.join(", "));
        for e in &a.evidence {
            println!("  evidence {}", evidence_line(e));
        }
    }
    for c in &v.commits {
        print_commit(c);
    }
    if v.commits.is_empty() {
        println!(
            "no commit is named by the evidence of this artifact (attest provenance to link it)"
        );
    }
}
