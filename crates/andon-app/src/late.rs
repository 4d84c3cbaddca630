//! Time is bounded (docs/changes.md, "Time"). A fact that carries its own past time (a
//! deployment's `deployed_at`, a failure, rollback or restoration, an incident's start and
//! resolution, a standing account's use, a runtime snapshot) is accepted when that time
//! lies within the server's late window (24 hours by default) and not in the future beyond
//! a small skew. An older fact is refused (`too_late`) unless an admin records it with a
//! reason (`"late": {"reason": ...}`), which the fact, its rows and its ledger entry keep
//! with the admin's name, so the figures it changes say so.

use andon_domain::Role;
use andon_domain::api::LateRequest;
use andon_domain::late::Late;

use crate::input::{MAX_TEXT, rfc3339};
use crate::{Actor, App, AppError};

/// How far ahead of the server's clock a reported time may be (clocks drift).
pub const FUTURE_SKEW_MS: i64 = 5 * 60_000;

/// The late window as words: `24h`, `90m`, `7d`, `45s`.
pub fn window_words(window: std::time::Duration) -> String {
    let s = window.as_secs();
    match s {
        0 => "0s".into(),
        s if s % 86_400 == 0 && s >= 172_800 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A request's late flag, checked before anything else of it: only an admin may set one
/// (`late_not_allowed`, 403), and its reason is 1 to 4,000 characters (`invalid_late`).
/// Answers the mark a fact older than the window will carry.
pub fn permission(actor: &Actor, late: Option<&LateRequest>) -> Result<Option<Late>, AppError> {
    let Some(late) = late else {
        return Ok(None);
    };
    if actor.role != Role::Admin {
        return Err(AppError::forbidden(
            "late_not_allowed",
            format!(
                "{} has role {}; only an admin may record a fact older than the late window",
                actor.name, actor.role
            ),
        ));
    }
    let reason = late.reason.trim();
    if reason.is_empty() || reason.len() > MAX_TEXT {
        return Err(AppError::bad_request(
            "invalid_late",
            format!("a late fact's reason is 1 to {MAX_TEXT} characters"),
        ));
    }
    Ok(Some(Late {
        reason: reason.to_owned(),
        allowed_by: actor.name.clone(),
    }))
}

/// Checks the time `at` (Unix ms) of a fact, named `what` in errors, against the server's
/// clock: in the future beyond [`FUTURE_SKEW_MS`] is `future_time`; older than the late
/// window is `too_late` unless `allowed` (from [`permission`]) is given. Answers the mark
/// the fact carries: `allowed` when the fact is older than the window, none when it is on
/// time (a flag on a fact within the window is not recorded: the fact is not late).
pub fn bounded(
    app: &App,
    at: i64,
    what: &str,
    allowed: Option<&Late>,
) -> Result<Option<Late>, AppError> {
    let now = app.now();
    let window = app.config().late_window;
    let shown = rfc3339(Some(at)).unwrap_or_else(|| at.to_string());
    if at > now + FUTURE_SKEW_MS {
        return Err(AppError::bad_request(
            "future_time",
            format!(
                "{what} {shown} is in the future (more than {} ahead of the server's clock, {})",
                window_words(std::time::Duration::from_millis(FUTURE_SKEW_MS as u64)),
                rfc3339(Some(now)).unwrap_or_default()
            ),
        ));
    }
    let oldest = now.saturating_sub(i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
    if at >= oldest {
        return Ok(None);
    }
    match allowed {
        Some(l) => Ok(Some(l.clone())),
        None => Err(AppError::bad_request(
            "too_late",
            format!(
                "{what} {shown} is older than the late window ({}): nothing was recorded; an admin may record it anyway with a reason, \"late\": {{\"reason\": \"...\"}} (CLI: --late \"reason\"), and it will be marked late",
                window_words(window)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            name: "someone".into(),
            role,
            applications: vec!["pay".into()],
            groups: Vec::new(),
            via: None,
            sso: None,
        }
    }

    fn flag(reason: &str) -> LateRequest {
        LateRequest {
            reason: reason.into(),
        }
    }

    #[test]
    fn the_window_reads_as_words() {
        let w = |s| window_words(std::time::Duration::from_secs(s));
        assert_eq!(w(86_400), "24h");
        assert_eq!(w(7 * 86_400), "7d");
        assert_eq!(w(5 * 60), "5m");
        assert_eq!(w(90), "90s");
    }

    #[test]
    fn only_an_admin_sets_the_late_flag_and_with_a_reason() {
        assert_eq!(permission(&actor(Role::Pipeline), None).unwrap(), None);
        for role in [Role::Pipeline, Role::Approver, Role::Auditor] {
            let e = permission(&actor(role), Some(&flag("restored from a log"))).unwrap_err();
            assert_eq!(
                (e.kind, e.code),
                (crate::ErrorKind::Forbidden, "late_not_allowed")
            );
        }
        let ok = permission(&actor(Role::Admin), Some(&flag("  restored from a log ")))
            .unwrap()
            .expect("a mark");
        assert_eq!(
            (ok.reason.as_str(), ok.allowed_by.as_str()),
            ("restored from a log", "someone")
        );
        for bad in ["", "   ", &"x".repeat(MAX_TEXT + 1)] {
            let e = permission(&actor(Role::Admin), Some(&flag(bad))).unwrap_err();
            assert_eq!(e.code, "invalid_late");
        }
    }
}
