//! The demo's game day, before any CVE is real: the payments team rehearses rebuilding its
//! image for a vulnerable package. The drill starts, the pipeline rebuilds, the production
//! gate allows the rebuild and it ships; the drill finishes with its time to production and
//! each step before it, and the retrospective is signed. Payments is then made a high-risk
//! application, which the `drill-recent` control holds to a drill every 90 days.

use andon_client::Client;
use andon_domain::drills::{DrillAction, DrillStart, Retrospective};

use super::gates::{Gated, Role};

/// Runs the game day; answers the drill's id.
pub(crate) fn run(admin: &Client, g: &Gated, suffix: &str) -> anyhow::Result<Option<String>> {
    let Some((_, commit)) = g.find(Role::Clean) else {
        return Ok(None);
    };
    let start = DrillStart {
        application: g.app.clone(),
        scenario: "game day: a critical CVE in a Python package of the payments image".into(),
        rehearses: "rebuild the payments image and ship it through the gates".into(),
        vulnerability: None,
        participants: vec![format!("alice-{suffix}"), format!("bob-{suffix}")],
    };
    let drill = g.ci.start_drill(&start)?;
    println!(
        "\n$ andon drill start --app {} --scenario \"{}\" --rehearses \"{}\" --participant alice --participant bob    # a game day, before any CVE is real",
        g.app, start.scenario, start.rehearses
    );
    println!(
        "    drill {} started (ledger entry {})",
        drill.id, drill.ledger_index
    );
    let rebuilt = g.rebuild("game-day", &commit, "9200001", None)?;
    let decided = g.gate_production(&rebuilt)?;
    let deployed = g.deploy_production(&rebuilt, "9200001")?;
    println!(
        "    the pipeline rebuilds (run 9200001), the production gate {} it, it ships as {deployed}",
        if decided.decision.allow {
            "allows"
        } else {
            "denies"
        }
    );
    let finished = g.ci.finish_drill(&drill.id, false)?;
    println!("\n$ andon drill finish {}", drill.id);
    crate::commands::drill::print_one(&finished);
    let retro = Retrospective {
        went_well: vec!["the SBOM named the package and its version at once".into()],
        went_badly: vec!["nobody knew who may approve a production change at night".into()],
        actions: vec![DrillAction {
            what: "name a second production approver on the on-call rota".into(),
            owner: format!("bob-{suffix}"),
            due: None,
        }],
    };
    // The team records what it learned (a person, not the pipeline).
    let reviewed = admin.drill_retrospective(&drill.id, &retro)?;
    println!(
        "\n$ andon drill retro {} --went-well \"…\" --went-badly \"…\" --action \"name a second production approver=bob\"",
        drill.id
    );
    if let Some(r) = &reviewed.retrospective {
        println!(
            "    signed by the server's key as a DSSE envelope, sha256:{} (ledger entry {})",
            r.document, r.ledger_index
        );
    }
    let risk = admin.set_application_risk(&g.app, "high")?;
    println!(
        "\n$ andon app risk {} high    # ledger entry {}: high-risk applications must have drilled within 90 days (control drill-recent)",
        g.app, risk["ledger_index"]
    );
    Ok(Some(drill.id))
}
