//! `andon drill`: game days (docs/drills.md). A drill starts, the team rehearses a change
//! through the real pipeline, gates and deployments, the drill finishes with its time to
//! production, and its retrospective is recorded and signed.

use std::process::ExitCode;

use andon_domain::drills::{Drill, DrillAction, DrillStart, Retrospective};

use crate::cli::context::{Context, client};
use crate::cli::output::duration;
use crate::cli::output::{Output, emit};
use crate::commands::change::time;

/// `andon drill …`.
#[derive(clap::Subcommand, Debug)]
pub enum DrillCmd {
    /// Start a drill now.
    Start {
        /// The application whose delivery is rehearsed.
        #[arg(long = "app")]
        application: String,
        /// What happens in the exercise.
        #[arg(long)]
        scenario: String,
        /// The change it rehearses ("rebuild the checkout image for CVE-…").
        #[arg(long)]
        rehearses: String,
        /// The vulnerability the exercise pretends to fix.
        #[arg(long)]
        vuln: Option<String>,
        /// Who takes part (repeat the flag).
        #[arg(long = "participant")]
        participants: Vec<String>,
    },
    /// Finish a drill: Andon links what happened during it and measures its time to
    /// production.
    Finish {
        /// `DR-…`.
        id: String,
        /// It stopped before its goal.
        #[arg(long)]
        aborted: bool,
    },
    /// Record a finished drill's retrospective (signed by the server).
    Retro {
        /// `DR-…`.
        id: String,
        /// What went well (repeat the flag).
        #[arg(long = "went-well")]
        went_well: Vec<String>,
        /// What went badly (repeat the flag).
        #[arg(long = "went-badly")]
        went_badly: Vec<String>,
        /// An action and its owner, `WHAT=OWNER` or `WHAT=OWNER@DUE` (repeat the flag).
        #[arg(long = "action")]
        actions: Vec<String>,
    },
    /// Drills, newest first.
    List {
        /// Only this application's.
        #[arg(long = "app")]
        application: Option<String>,
    },
    /// One drill, with what happened during it and its retrospective.
    Show {
        /// `DR-…`.
        id: String,
    },
}

/// `WHAT=OWNER` or `WHAT=OWNER@DUE`: the owner is after the last `=`, and a due date (it
/// starts with a digit) after the owner's last `@`, so an owner may be an e-mail address.
fn action(s: &str) -> anyhow::Result<DrillAction> {
    let (what, rest) = s
        .rsplit_once('=')
        .ok_or_else(|| anyhow::anyhow!("an action is WHAT=OWNER or WHAT=OWNER@DUE, not {s:?}"))?;
    let (owner, due) = match rest.rsplit_once('@') {
        Some((o, d)) if d.starts_with(|c: char| c.is_ascii_digit()) => (o, Some(d.to_owned())),
        _ => (rest, None),
    };
    Ok(DrillAction {
        what: what.trim().to_owned(),
        owner: owner.trim().to_owned(),
        due,
    })
}

/// Runs `andon drill`.
pub fn run(ctx: &Context, cmd: &DrillCmd, out: Output) -> anyhow::Result<ExitCode> {
    let c = client(ctx);
    match cmd {
        DrillCmd::Start {
            application,
            scenario,
            rehearses,
            vuln,
            participants,
        } => {
            let d = c.start_drill(&DrillStart {
                application: application.clone(),
                scenario: scenario.clone(),
                rehearses: rehearses.clone(),
                vulnerability: vuln.clone(),
                participants: participants.clone(),
            })?;
            emit(out, &d, print_one)?;
        }
        DrillCmd::Finish { id, aborted } => {
            emit(out, &c.finish_drill(id, *aborted)?, print_one)?;
        }
        DrillCmd::Retro {
            id,
            went_well,
            went_badly,
            actions,
        } => {
            let retro = Retrospective {
                went_well: went_well.clone(),
                went_badly: went_badly.clone(),
                actions: actions
                    .iter()
                    .map(|a| action(a))
                    .collect::<anyhow::Result<_>>()?,
            };
            emit(out, &c.drill_retrospective(id, &retro)?, print_one)?;
        }
        DrillCmd::List { application } => {
            let list = c.drills(application.as_deref())?;
            emit(out, &list, |l| {
                if l.is_empty() {
                    println!("no drills");
                }
                l.iter().for_each(print_line);
            })?;
        }
        DrillCmd::Show { id } => emit(out, &c.drill(id)?, print_one)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per drill.
pub(crate) fn print_line(d: &Drill) {
    println!(
        "{}  {}  started {}  {}  to production {}  {}",
        d.id,
        d.application,
        time(Some(d.started_at)),
        d.outcome.as_deref().unwrap_or("running"),
        duration(d.time_to_production_ms),
        d.rehearses
    );
}

/// A drill in full.
pub(crate) fn print_one(d: &Drill) {
    println!(
        "drill {} of {} (entry {}), started {} by {}",
        d.id,
        d.application,
        d.ledger_index,
        time(Some(d.started_at)),
        d.started_by
    );
    println!("  scenario:  {}", d.scenario);
    println!("  rehearses: {}", d.rehearses);
    if let Some(v) = &d.vulnerability {
        println!("  vulnerability: {v}");
    }
    if !d.participants.is_empty() {
        println!("  participants: {}", d.participants.join(", "));
    }
    if let (Some(at), Some(outcome)) = (d.finished_at, &d.outcome) {
        println!(
            "  finished {} ({outcome}, entry {}); time to production {}",
            time(Some(at)),
            d.finished_index.unwrap_or_default(),
            duration(d.time_to_production_ms)
        );
    }
    if let Some(l) = &d.links {
        let s = &l.segments;
        println!(
            "  start → first evidence {} → allowing production gate {} → production {}",
            duration(s.first_evidence_ms),
            duration(s.allowing_gate_ms),
            duration(s.production_ms)
        );
        println!(
            "  during it: {} runs, {} gate decisions, {} deployments",
            l.runs.len(),
            l.decisions.len(),
            l.deployments.len()
        );
    }
    if let Some(r) = &d.retrospective {
        println!(
            "  retrospective by {} (entry {}, signed envelope sha256:{})",
            r.recorded_by, r.ledger_index, r.document
        );
        let rr = &r.retrospective;
        rr.went_well.iter().for_each(|w| println!("    + {w}"));
        rr.went_badly.iter().for_each(|w| println!("    - {w}"));
        for a in &rr.actions {
            println!(
                "    → {} ({}{})",
                a.what,
                a.owner,
                a.due
                    .as_deref()
                    .map(|d| format!(", by {d}"))
                    .unwrap_or_default()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_names_its_owner_after_the_last_equals_sign() {
        let a = action("set TIMEOUT=30 in the deploy job=ops@2027-01-15").expect("parses");
        assert_eq!(a.what, "set TIMEOUT=30 in the deploy job");
        assert_eq!(a.owner, "ops");
        assert_eq!(a.due.as_deref(), Some("2027-01-15"));
        assert!(action("no owner").is_err());
        let mail = action("rotate the key=bob@example.com").expect("parses");
        assert_eq!((mail.owner.as_str(), mail.due), ("bob@example.com", None));
        let both = action("rotate the key=bob@example.com@2027-02-01").expect("parses");
        assert_eq!(both.owner, "bob@example.com");
        assert_eq!(both.due.as_deref(), Some("2027-02-01"));
    }
}
