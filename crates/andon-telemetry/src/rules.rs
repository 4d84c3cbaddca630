//! The telemetry rules and their decisions.
//!
//! Each rule is evaluated for what a batch touched, never by rescanning history: the server
//! gathers the counts of the window an event falls in (an indexed range query) and asks the
//! rule here.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A minute, in milliseconds.
pub const MINUTE_MS: i64 = 60_000;

/// Every rule, with its parameters. Unset fields take their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// Too many failed sign-ins against successful ones.
    pub login_failures: LoginFailureRule,
    /// A configuration, security-group or IAM change no pipeline deployment explains.
    pub config_change: ConfigChangeRule,
    /// Maintenance mode switched when no change record scheduled it.
    pub maintenance: MaintenanceRule,
    /// 5xx responses jump right after a production deployment.
    pub error_spike: ErrorSpikeRule,
}

/// Failed sign-ins against successful ones, per source and application, over a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginFailureRule {
    /// Whether it runs.
    pub enabled: bool,
    /// The window, ending at the latest sign-in a batch reported.
    pub window_minutes: u32,
    /// Alert when failures exceed this many times the successes ...
    pub max_ratio: f64,
    /// ... and there are at least this many failures (a few typos are not an attack).
    pub min_failures: u64,
}

impl Default for LoginFailureRule {
    fn default() -> Self {
        Self {
            enabled: true,
            window_minutes: 10,
            max_ratio: 1.0,
            min_failures: 20,
        }
    }
}

impl LoginFailureRule {
    /// Whether the window's sign-ins deserve an alert, and why.
    pub fn check(&self, failures: u64, successes: u64) -> Option<String> {
        if !self.enabled || failures < self.min_failures {
            return None;
        }
        if failures as f64 <= self.max_ratio * successes as f64 {
            return None;
        }
        let per = if self.max_ratio == 1.0 {
            "failure"
        } else {
            "failures"
        };
        Some(format!(
            "{failures} failed against {successes} successful sign-ins in {} minutes (alert above {} {per} per success, from {} failures)",
            self.window_minutes, self.max_ratio, self.min_failures
        ))
    }

    /// The window in milliseconds.
    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes) * MINUTE_MS
    }
}

/// A configuration change is explained by a pipeline deployment when the event names a
/// deployment of the application, or one of it to the environment was recorded within
/// `match_minutes` of the change (either side: a reporter may be faster than the pipeline).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigChangeRule {
    /// Whether it runs.
    pub enabled: bool,
    /// How close a deployment must be.
    pub match_minutes: u32,
}

impl Default for ConfigChangeRule {
    fn default() -> Self {
        Self {
            enabled: true,
            match_minutes: 15,
        }
    }
}

impl ConfigChangeRule {
    /// The matching distance in milliseconds.
    pub fn match_ms(&self) -> i64 {
        i64::from(self.match_minutes) * MINUTE_MS
    }

    /// Whether a deployment at `deployed_at` explains a change at `at`.
    pub fn explains(&self, at: i64, deployed_at: i64) -> bool {
        (at - deployed_at).abs() <= self.match_ms()
    }
}

/// Maintenance mode may only be switched inside the planned window of a change record of
/// the application and environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceRule {
    /// Whether it runs.
    pub enabled: bool,
}

impl Default for MaintenanceRule {
    fn default() -> Self {
        Self { enabled: true }
    }
}

impl MaintenanceRule {
    /// Whether one of the planned windows `(start, end)` covers `at`.
    pub fn scheduled(&self, at: i64, windows: &[(i64, i64)]) -> bool {
        windows.iter().any(|&(s, e)| s <= at && at <= e)
    }
}

/// Requests and 5xx responses over a span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Requests served.
    pub requests: u64,
    /// 5xx responses among them.
    pub errors: u64,
}

impl Counts {
    /// The 5xx rate (0 with no requests).
    pub fn rate(self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} 5xx of {} requests ({:.1}%)",
            self.errors,
            self.requests,
            self.rate() * 100.0
        )
    }
}

/// A spike of 5xx responses in the `after_minutes` following a production deployment,
/// against the same span before it. The deployment is marked suspect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorSpikeRule {
    /// Whether it runs.
    pub enabled: bool,
    /// How long after a deployment errors are blamed on it (and how long before it the
    /// baseline is read).
    pub after_minutes: u32,
    /// At least this many 5xx after the deployment ...
    pub min_errors: u64,
    /// ... at a rate of at least this ...
    pub min_rate: f64,
    /// ... and at least this many times the rate before it (when there was traffic).
    pub baseline_factor: f64,
}

impl Default for ErrorSpikeRule {
    fn default() -> Self {
        Self {
            enabled: true,
            after_minutes: 30,
            min_errors: 20,
            min_rate: 0.05,
            baseline_factor: 3.0,
        }
    }
}

impl ErrorSpikeRule {
    /// The span in milliseconds.
    pub fn after_ms(&self) -> i64 {
        i64::from(self.after_minutes) * MINUTE_MS
    }

    /// Whether the responses after a deployment, against those before it, are a spike.
    pub fn check(&self, after: Counts, before: Counts) -> Option<String> {
        if !self.enabled || after.errors < self.min_errors || after.rate() < self.min_rate {
            return None;
        }
        if before.requests > 0 && after.rate() < self.baseline_factor * before.rate() {
            return None;
        }
        Some(format!(
            "{after} in the {} minutes after the deployment, against {before} in the {} minutes before",
            self.after_minutes, self.after_minutes
        ))
    }
}

/// Rules that cannot work as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesError(pub String);

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RulesError {}

impl Rules {
    /// Reads rules from JSON (unset fields and rules take their defaults) and checks them.
    pub fn from_json(text: &str) -> Result<Self, RulesError> {
        let rules: Rules =
            serde_json::from_str(text).map_err(|e| RulesError(format!("telemetry rules: {e}")))?;
        rules.check()?;
        Ok(rules)
    }

    /// Checks the parameters are usable.
    pub fn check(&self) -> Result<(), RulesError> {
        let bad = |m: &str| Err(RulesError(format!("telemetry rules: {m}")));
        let day = 24 * 60;
        if !(1..=day).contains(&self.login_failures.window_minutes) {
            return bad("login_failures.window_minutes is 1 to 1440");
        }
        if !(self.login_failures.max_ratio.is_finite() && self.login_failures.max_ratio >= 0.0) {
            return bad("login_failures.max_ratio is a number, at least 0");
        }
        if self.config_change.match_minutes > day {
            return bad("config_change.match_minutes is at most 1440");
        }
        if !(1..=day).contains(&self.error_spike.after_minutes) {
            return bad("error_spike.after_minutes is 1 to 1440");
        }
        if !(0.0..=1.0).contains(&self.error_spike.min_rate) {
            return bad("error_spike.min_rate is between 0 and 1");
        }
        if !(self.error_spike.baseline_factor.is_finite()
            && self.error_spike.baseline_factor >= 1.0)
        {
            return bad("error_spike.baseline_factor is a number, at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_failures_need_both_the_ratio_and_the_floor() {
        let r = LoginFailureRule::default();
        assert!(r.check(20, 19).is_some());
        assert!(r.check(20, 20).is_none(), "ratio 1.0 is not above 1.0");
        assert!(r.check(19, 0).is_none(), "under the floor");
        assert!(r.check(500, 0).is_some());
        let off = LoginFailureRule {
            enabled: false,
            ..r
        };
        assert!(off.check(500, 0).is_none());
    }

    #[test]
    fn a_spike_is_against_the_baseline() {
        let r = ErrorSpikeRule::default();
        let c = |requests, errors| Counts { requests, errors };
        assert!(r.check(c(1000, 100), c(1000, 10)).is_some());
        assert!(
            r.check(c(1000, 100), c(1000, 40)).is_none(),
            "10% vs 4%: not 3x"
        );
        assert!(
            r.check(c(1000, 19), c(1000, 0)).is_none(),
            "under the floor"
        );
        assert!(
            r.check(c(1000, 40), c(0, 0)).is_none(),
            "4% is under the 5% rate"
        );
        assert!(
            r.check(c(500, 40), c(0, 0)).is_some(),
            "no baseline traffic"
        );
    }

    #[test]
    fn windows_and_distances() {
        let m = MaintenanceRule::default();
        assert!(m.scheduled(10, &[(0, 5), (10, 20)]));
        assert!(!m.scheduled(6, &[(0, 5), (10, 20)]));
        let c = ConfigChangeRule::default();
        assert!(c.explains(15 * MINUTE_MS, 0));
        assert!(c.explains(0, 15 * MINUTE_MS));
        assert!(!c.explains(15 * MINUTE_MS + 1, 0));
    }

    #[test]
    fn rules_read_from_json_with_defaults() {
        let r = Rules::from_json(r#"{"login_failures":{"min_failures":5}}"#).unwrap();
        assert_eq!(r.login_failures.min_failures, 5);
        assert_eq!(r.login_failures.window_minutes, 10);
        assert_eq!(r.error_spike, ErrorSpikeRule::default());
        for bad in [
            r#"{"login_failures":{"window_minutes":0}}"#,
            r#"{"error_spike":{"min_rate":2}}"#,
            r#"{"error_spike":{"baseline_factor":0.5}}"#,
            r#"{"nonsense":{}}"#,
        ] {
            assert!(Rules::from_json(bad).is_err(), "{bad}");
        }
    }
}
