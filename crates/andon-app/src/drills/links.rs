//! What a drill's finish records, from what the application did during it: pure.

use andon_domain::drills::{DrillLinks, Segments};
use andon_store::DrillActivity;

/// The runs, decisions and deployments of `activity` (read for `[started_at, now]`), and the
/// time from `started_at` to the first evidence, to the first allowing production gate
/// decision, and to the first production deployment: the drill's time to production.
pub fn links(started_at: i64, activity: DrillActivity) -> DrillLinks {
    let after = |t: i64| Some((t - started_at).max(0));
    let allowing_gate = activity
        .decisions
        .iter()
        .filter(|(_, env, allow, _)| *allow && crate::input::is_production(env))
        .map(|(_, _, _, at)| *at)
        .min();
    let production = activity
        .deployments
        .iter()
        .filter(|(_, production, _)| *production)
        .map(|(_, _, at)| *at)
        .min();
    DrillLinks {
        segments: Segments {
            first_evidence_ms: activity.first_evidence_at.and_then(after),
            allowing_gate_ms: allowing_gate.and_then(after),
            production_ms: production.and_then(after),
        },
        runs: activity.runs,
        decisions: activity.decisions.into_iter().map(|d| d.0).collect(),
        deployments: activity.deployments.into_iter().map(|d| d.0).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_segment_runs_from_the_start_to_the_first_such_step() {
        let activity = DrillActivity {
            runs: vec!["r1".into(), "r2".into()],
            first_evidence_at: Some(1_600),
            decisions: vec![
                ("staging-gate".into(), "staging".into(), true, 2_000),
                ("denied".into(), "production".into(), false, 2_500),
                ("allowed".into(), "production".into(), true, 3_000),
                ("again".into(), "production".into(), true, 3_500),
            ],
            deployments: vec![
                ("D-staging".into(), false, 2_100),
                ("D-prod".into(), true, 4_000),
            ],
        };
        let l = links(1_000, activity);
        assert_eq!(
            l.segments,
            Segments {
                first_evidence_ms: Some(600),
                allowing_gate_ms: Some(2_000),
                production_ms: Some(3_000),
            }
        );
        assert_eq!(l.runs, ["r1", "r2"]);
        assert_eq!(l.decisions, ["staging-gate", "denied", "allowed", "again"]);
        assert_eq!(l.deployments, ["D-staging", "D-prod"]);
    }

    #[test]
    fn a_drill_that_never_reached_production_has_no_time_to_it() {
        let l = links(
            1_000,
            DrillActivity {
                decisions: vec![("d".into(), "production".into(), false, 2_000)],
                deployments: vec![("D-1".into(), false, 2_100)],
                ..Default::default()
            },
        );
        assert_eq!(l.segments, Segments::default());
    }
}
