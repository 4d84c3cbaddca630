//! Remediation deadlines: a vulnerability's severity gives it a priority and a time to fix
//! it by. The defaults follow the delivery practice the product brief cites: a critical
//! vulnerability is fixed immediately (within a day), a high one by the end of the week.
//!
//! A policy reads as `critical=P1:24h,high=P2:end_of_week,medium=P3:30d,low=P4:90d`
//! (`--vuln-sla`). Severities it does not name take `unknown`'s rule, else `medium`'s.

use std::fmt;

/// Milliseconds in an hour and a day.
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The shortest deadline any rule gives: a fix needs at least a day.
pub const MIN_DEADLINE_MS: i64 = DAY_MS;

/// The policy the brief's figures give.
pub const DEFAULT: &str = "critical=P1:24h,high=P2:end_of_week,medium=P3:30d,low=P4:90d";

/// How long a severity has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// A fixed time after detection.
    After(i64),
    /// Saturday 00:00 UTC of the detection's ISO week (the next week's, when detected on
    /// a Saturday or Sunday), and never less than a day after detection.
    EndOfWeek,
}

/// One severity's rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    pub severity: String,
    /// `P1` to `P4`.
    pub priority: String,
    /// When a fix is due.
    pub deadline: Deadline,
}

/// A whole policy, one rule per severity named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    rules: Vec<Rule>,
}

/// A policy that does not read.
#[derive(Debug, PartialEq, Eq)]
pub struct SlaError(pub String);

impl fmt::Display for SlaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for SlaError {}

impl Default for Policy {
    fn default() -> Self {
        DEFAULT.parse().expect("the default policy reads")
    }
}

impl std::str::FromStr for Policy {
    type Err = SlaError;

    /// Reads `severity=Pn:deadline,...`; a deadline is `Nh`, `Nd` or `end_of_week`.
    fn from_str(text: &str) -> Result<Self, SlaError> {
        let mut rules: Vec<Rule> = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = |why: &str| SlaError(format!("`{part}`: {why}"));
            let (severity, rest) = part
                .split_once('=')
                .ok_or_else(|| bad("write severity=P1:24h"))?;
            let severity = severity.trim().to_ascii_lowercase();
            if !matches!(
                severity.as_str(),
                "critical" | "high" | "medium" | "low" | "unknown"
            ) {
                return Err(bad(
                    "the severity is critical, high, medium, low or unknown",
                ));
            }
            let (priority, deadline) = rest
                .split_once(':')
                .ok_or_else(|| bad("write a priority and a deadline: P1:24h"))?;
            let priority = priority.trim().to_ascii_uppercase();
            if !matches!(priority.as_str(), "P1" | "P2" | "P3" | "P4") {
                return Err(bad("the priority is P1, P2, P3 or P4"));
            }
            let deadline = deadline_of(deadline.trim()).ok_or_else(|| {
                bad("the deadline is hours (24h), days (30d) of at least a day, or end_of_week")
            })?;
            if rules.iter().any(|r| r.severity == severity) {
                return Err(bad("names a severity twice"));
            }
            rules.push(Rule {
                severity,
                priority,
                deadline,
            });
        }
        if !rules.iter().any(|r| r.severity == "medium") {
            return Err(SlaError(
                "the policy needs a rule for medium, which unnamed severities take".into(),
            ));
        }
        Ok(Policy { rules })
    }
}

fn deadline_of(text: &str) -> Option<Deadline> {
    if text == "end_of_week" {
        return Some(Deadline::EndOfWeek);
    }
    let (n, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    let ms = match unit {
        "h" => n.checked_mul(HOUR_MS)?,
        "d" => n.checked_mul(DAY_MS)?,
        _ => return None,
    };
    (MIN_DEADLINE_MS..=3650 * DAY_MS)
        .contains(&ms)
        .then_some(Deadline::After(ms))
}

impl Policy {
    /// The rule for `severity`: its own, else `unknown`'s, else `medium`'s.
    pub fn rule(&self, severity: &str) -> &Rule {
        let find = |s: &str| self.rules.iter().find(|r| r.severity == s);
        find(severity)
            .or_else(|| find("unknown"))
            .or_else(|| find("medium"))
            .expect("a policy always has a medium rule")
    }

    /// The priority and due time (Unix ms) of a vulnerability of `severity` detected at
    /// `detected_ms`.
    pub fn due(&self, severity: &str, detected_ms: i64) -> (String, i64) {
        let rule = self.rule(severity);
        let due = match rule.deadline {
            Deadline::After(ms) => detected_ms + ms,
            Deadline::EndOfWeek => end_of_week(detected_ms),
        };
        (rule.priority.clone(), due)
    }

    /// The policy as it reads.
    pub fn text(&self) -> String {
        self.rules
            .iter()
            .map(|r| {
                let d = match r.deadline {
                    Deadline::EndOfWeek => "end_of_week".to_owned(),
                    Deadline::After(ms) if ms % DAY_MS == 0 => format!("{}d", ms / DAY_MS),
                    Deadline::After(ms) => format!("{}h", ms / HOUR_MS),
                };
                format!("{}={}:{d}", r.severity, r.priority)
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Saturday 00:00 UTC closing the ISO week of `ms` (Monday to Friday), or of the next week
/// for a Saturday or Sunday; at least a day after `ms`.
pub fn end_of_week(ms: i64) -> i64 {
    let day = ms.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: Monday is 0.
    let weekday = (day + 3).rem_euclid(7);
    let to_saturday = if weekday < 5 {
        5 - weekday
    } else {
        12 - weekday
    };
    ((day + to_saturday) * DAY_MS).max(ms + MIN_DEADLINE_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 00:00 UTC, a Monday.
    const MONDAY: i64 = 1_796_601_600_000;

    #[test]
    fn the_week_ends_on_saturday_and_a_weekend_rolls_over() {
        let saturday = MONDAY + 5 * DAY_MS;
        assert_eq!(end_of_week(MONDAY + 10 * HOUR_MS), saturday);
        // Friday 23:00 is still given a day.
        let friday_late = MONDAY + 4 * DAY_MS + 23 * HOUR_MS;
        assert_eq!(end_of_week(friday_late), friday_late + DAY_MS);
        // Thursday 09:00 is due Saturday 00:00; Friday 09:00 a day later, Saturday 09:00.
        assert_eq!(end_of_week(MONDAY + 3 * DAY_MS + 9 * HOUR_MS), saturday);
        assert_eq!(
            end_of_week(MONDAY + 4 * DAY_MS + 9 * HOUR_MS),
            saturday + 9 * HOUR_MS
        );
        // Saturday and Sunday belong to the next week.
        assert_eq!(end_of_week(saturday + HOUR_MS), saturday + 7 * DAY_MS);
        assert_eq!(
            end_of_week(saturday + DAY_MS + HOUR_MS),
            saturday + 7 * DAY_MS
        );
    }

    #[test]
    fn the_default_policy_gives_the_briefs_deadlines() {
        let p = Policy::default();
        assert_eq!(p.text(), DEFAULT.replace("24h", "1d"));
        assert_eq!(p.due("critical", MONDAY), ("P1".into(), MONDAY + DAY_MS));
        assert_eq!(p.due("high", MONDAY), ("P2".into(), MONDAY + 5 * DAY_MS));
        assert_eq!(p.due("low", MONDAY), ("P4".into(), MONDAY + 90 * DAY_MS));
        // An unnamed severity takes medium's rule.
        assert_eq!(
            p.due("unknown", MONDAY),
            ("P3".into(), MONDAY + 30 * DAY_MS)
        );
    }

    #[test]
    fn a_policy_that_does_not_read_is_refused_with_the_part_named() {
        for (text, says) in [
            ("critical=P1", "priority and a deadline"),
            ("urgent=P1:24h,medium=P3:30d", "severity is"),
            ("critical=P0:24h,medium=P3:30d", "P1, P2"),
            ("critical=P1:2h,medium=P3:30d", "at least a day"),
            ("critical=P1:1w,medium=P3:30d", "deadline"),
            ("critical=P1:24h", "rule for medium"),
            ("medium=P3:30d,medium=P2:1d", "twice"),
        ] {
            let e = text.parse::<Policy>().unwrap_err();
            assert!(e.0.contains(says), "{text}: {e}");
        }
        let p: Policy = "critical=P1:48h, medium=P2:end_of_week".parse().unwrap();
        assert_eq!(p.due("critical", MONDAY).1, MONDAY + 2 * DAY_MS);
        assert_eq!(p.due("high", MONDAY).1, MONDAY + 5 * DAY_MS);
    }
}
