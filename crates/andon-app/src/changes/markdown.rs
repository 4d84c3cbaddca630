//! The request for change as Markdown, rendered from its JSON document (`andon.rfc/v1`).

use std::fmt::Write;

use serde_json::Value;

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Markdown for people, from the RFC document.
pub fn markdown(rfc: &Value) -> String {
    let c = &rfc["change"];
    let what = &rfc["what"];
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Request for change {}: {} {} to {}\n",
        text(&c["id"]),
        text(&rfc["affected"]["application"]),
        text(&what["artifact"]["digest"]),
        text(&rfc["affected"]["environment"])
    );
    let _ = writeln!(out, "| | |\n| --- | --- |");
    for (k, v) in [
        ("Class", &c["class"]),
        ("Status", &c["status"]),
        ("Change type", &c["change_type"]),
        ("Requested by", &c["requested_by"]),
        ("Opened", &c["created_at"]),
        ("Team", &rfc["affected"]["team"]),
        ("Emergency reason", &c["emergency_reason"]),
        ("Review due", &c["review_due_at"]),
        ("Planned start", &c["planned_start"]),
        ("Planned end", &c["planned_end"]),
    ] {
        if !v.is_null() {
            let _ = writeln!(out, "| {k} | {} |", text(v));
        }
    }
    let _ = writeln!(out, "\n## Why\n");
    let reasons = rfc["classification"]["reasons"].as_array();
    for r in reasons.into_iter().flatten() {
        let _ = writeln!(out, "- Classification: {}", text(r));
    }
    let tickets: Vec<String> = rfc["why"]["tickets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    let _ = writeln!(
        out,
        "- Tickets: {}",
        if tickets.is_empty() {
            "none found in commit messages or pull-request titles".into()
        } else {
            tickets.join(", ")
        }
    );
    for pr in rfc["why"]["pull_requests"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "- Pull request {}#{}: {} (by {}, {})",
            text(&pr["repository"]),
            text(&pr["number"]),
            text(&pr["title"]),
            text(&pr["author"]),
            text(&pr["state"])
        );
    }
    let _ = writeln!(out, "\n## What\n");
    let _ = writeln!(
        out,
        "Artifact `{}@{}`, built from commit `{}`.",
        text(&what["artifact"]["name"]),
        text(&what["artifact"]["digest"]),
        text(&what["source_commit"])
    );
    if let Some(p) = what["provenance"].as_object() {
        let _ = writeln!(
            out,
            "Provenance: built by {} from {} (evidence `{}`).",
            text(&p["builder"]),
            text(&p["source_repository"]),
            text(&p["evidence"])
        );
    }
    match what["since"].as_object() {
        Some(s) => {
            let _ = writeln!(
                out,
                "\nCommits since the last production deployment ({}, {} from `{}`):\n",
                text(&s["deployment"]),
                text(&s["deployed_at"]),
                text(&s["source_commit"])
            );
        }
        None => {
            let _ = writeln!(out, "\nCommits (no earlier production deployment):\n");
        }
    }
    let commits = what["commits"].as_array().cloned().unwrap_or_default();
    if commits.is_empty() {
        let _ = writeln!(
            out,
            "- none recorded (the source commit did not reach Andon by webhook)"
        );
    }
    for cm in &commits {
        let sha = text(&cm["sha"]);
        let _ = writeln!(
            out,
            "- `{}` {} ({})",
            &sha[..sha.len().min(10)],
            text(&cm["message"]),
            text(&cm["author"])
        );
    }
    for s in what["scripts"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "\nScript `{}`", text(&s["name"]));
        if let Some(d) = s["dry_run"].as_str() {
            let _ = writeln!(out, "\n```\n{d}\n```");
        }
    }
    let _ = writeln!(out, "\n## Evidence\n");
    let d = &rfc["evidence"]["decision"];
    if d.is_null() {
        let _ = writeln!(out, "No gate decision yet.");
    } else {
        let _ = writeln!(
            out,
            "Gate decision [{}]({}): {}\n",
            text(&d["id"]),
            text(&d["link"]),
            if d["allow"] == true { "ALLOW" } else { "DENY" }
        );
        let _ = writeln!(out, "| control | verdict | reason |\n| --- | --- | --- |");
        for ctl in d["controls"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                text(&ctl["id"]),
                text(&ctl["verdict"]),
                text(&ctl["reason"]).replace('|', "\\|")
            );
        }
    }
    let reports = rfc["evidence"]["reports"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !reports.is_empty() {
        let _ = writeln!(out);
    }
    for r in &reports {
        let _ = writeln!(
            out,
            "- {} [{}]({}) signed by {}",
            text(&r["kind"]),
            text(&r["id"]).chars().take(12).collect::<String>(),
            text(&r["link"]),
            text(&r["signer"])
        );
    }
    let _ = writeln!(out, "\n## Risk and rollback\n");
    let _ = writeln!(out, "- Risk: {}", text(&rfc["risk"]));
    let _ = writeln!(out, "- Rollback plan: {}", text(&rfc["rollback_plan"]));
    let _ = writeln!(out, "\n## Approvals\n");
    let a = &rfc["approvals"];
    let _ = writeln!(
        out,
        "Required: {}{}",
        text(&a["required"]),
        a["group"]
            .as_str()
            .map(|g| format!(" (from {g})"))
            .unwrap_or_default()
    );
    for d in a["decisions"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "- {} by {}: {}",
            if d["approve"] == true {
                "approved"
            } else {
                "rejected"
            },
            text(&d["approver"]),
            text(&d["comment"])
        );
        if let Some(p) = provenance_words(&d["provenance"]) {
            let _ = writeln!(out, "  - Provenance: {p}");
        }
        for w in d["provenance"]["warnings"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  - **Warning:** {}", text(w));
        }
    }
    out
}

/// An approver's provenance (`approvals.decisions[].provenance`) in words: who created the
/// identity and when, who handed out the enrollment code its token was issued with, the
/// token; `None` without one.
pub fn provenance_words(p: &Value) -> Option<String> {
    p.as_object()?;
    let mut parts = Vec::new();
    if let Some(by) = p["identity_created_by"].as_str() {
        parts.push(format!(
            "identity created by {by}, {} (ledger entry {})",
            text(&p["identity_created_at"]),
            text(&p["identity_created_index"])
        ));
    }
    if let Some(by) = p["enrolled_by"].as_str() {
        parts.push(format!(
            "enrolled with a code from {by}, {} (ledger entry {})",
            text(&p["enrollment_created_at"]),
            text(&p["enrollment_index"])
        ));
    }
    if let Some(token) = p["token"].as_str() {
        parts.push(format!(
            "token {token} issued by {} (ledger entry {})",
            text(&p["token_issued_by"]),
            text(&p["token_issued_index"])
        ));
    }
    Some(parts.join("; "))
}
