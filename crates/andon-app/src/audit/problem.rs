//! What an audit found: problems, each naming the ledger entry it is about, kept up to a cap
//! and counted beyond it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many problems a report lists; the rest are counted.
pub const PROBLEM_CAP: usize = 100;

/// One thing wrong with the stored ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The ledger index it is about. For a checkpoint whose root differs: the first entry
    /// that may differ (the first after the last checkpoint that still matches).
    pub index: u64,
    /// The kind of that entry (`gate.decision`, ...), when it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Which check failed: `missing`, `order`, `leaf_hash`, `malformed`, `document`,
    /// `meaning`, `signature`, `key_rotation`, `checkpoint_signature`, `checkpoint_root`,
    /// `checkpoint_file`, or a rule's own name.
    pub check: String,
    /// For a problem found through a checkpoint: its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<u64>,
    /// What is wrong, in a sentence.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "entry {}", self.index)?;
        if let Some(k) = &self.kind {
            write!(f, " ({k})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The problems found so far: the first [`PROBLEM_CAP`] in full, all of them counted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Findings {
    /// The first problems, in the order they were found (index order, then checkpoints).
    pub problems: Vec<Problem>,
    /// How many problems there are in all.
    pub total: u64,
    /// How many of each check failed.
    pub by_check: BTreeMap<String, u64>,
}

impl Findings {
    /// Records a problem.
    pub fn push(&mut self, p: Problem) {
        self.total += 1;
        *self.by_check.entry(p.check.clone()).or_default() += 1;
        if self.problems.len() < PROBLEM_CAP {
            self.problems.push(p);
        }
    }

    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.total == 0
    }

    /// The problem with the lowest index (the first bad entry).
    pub fn first(&self) -> Option<&Problem> {
        self.problems.iter().min_by_key(|p| p.index)
    }

    /// One line: how many problems, of which checks, and the first bad entry.
    pub fn summary(&self) -> String {
        let Some(first) = self.first() else {
            return "no problems".into();
        };
        let checks: Vec<String> = self
            .by_check
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        let listed = if self.total > self.problems.len() as u64 {
            format!(" (the first {} listed)", self.problems.len())
        } else {
            String::new()
        };
        format!(
            "{} problem{}{listed}: {}; the first bad entry is {}",
            self.total,
            if self.total == 1 { "" } else { "s" },
            checks.join(", "),
            first.index
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(index: u64) -> Problem {
        Problem {
            index,
            kind: None,
            check: "leaf_hash".into(),
            checkpoint: None,
            message: "x".into(),
        }
    }

    #[test]
    fn problems_past_the_cap_are_counted_not_listed() {
        let mut f = Findings::default();
        for i in (0..250).rev() {
            f.push(p(i));
        }
        assert_eq!(f.total, 250);
        assert_eq!(f.problems.len(), PROBLEM_CAP);
        assert_eq!(f.by_check["leaf_hash"], 250);
        assert!(
            f.summary()
                .starts_with("250 problems (the first 100 listed)")
        );
        assert_eq!(Findings::default().summary(), "no problems");
    }
}
