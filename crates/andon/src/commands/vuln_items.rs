//! How `andon vuln items` and `andon vuln item` print vulnerability items.

use andon_domain::vuln_items::VulnItem;

use crate::commands::change::time;

/// One line per item: id, state, priority, application, vulnerability, deadline.
pub fn print_list(items: &[VulnItem]) {
    if items.is_empty() {
        println!("no vulnerability items");
    }
    for i in items {
        println!(
            "{}  {:<12} {} {:<8} {:<14} {} ({}), due {}{}",
            i.id,
            i.state,
            i.priority,
            i.severity,
            i.application,
            i.vulnerability,
            i.team,
            time(Some(i.due_at)),
            if i.overdue { "  OVERDUE" } else { "" }
        );
    }
}

/// The item and its transitions.
pub fn print_one(i: &VulnItem) {
    println!(
        "{} {} in {} (team {}): {} {}, {}{}",
        i.id,
        i.vulnerability,
        i.application,
        i.team,
        i.priority,
        i.severity,
        i.state,
        if i.overdue { ", OVERDUE" } else { "" }
    );
    if !i.aliases.is_empty() {
        println!("  also known as {}", i.aliases.join(", "));
    }
    println!("  advisories {}", i.advisories.join(", "));
    println!(
        "  detected {}, due {}",
        time(Some(i.detected_at)),
        time(Some(i.due_at))
    );
    if let Some(a) = &i.fix_artifact {
        println!("  fix {a}");
    }
    for e in &i.events {
        println!(
            "  #{:<6} {} {:<12} {}",
            e.ledger_index,
            time(Some(e.at)),
            e.state,
            e.detail
        );
    }
}
