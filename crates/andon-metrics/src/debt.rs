//! Production Access Debt (docs/access.md): 10 points per use of a persistent production
//! account, 5 per break-glass write grant, 1 per break-glass read grant, per period. Zero is
//! the elite score.

use serde::{Deserialize, Serialize};

use crate::{Period, ms_of, spans};

/// What adds debt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// A persistent production account was used.
    AccountUse,
    /// A break-glass write grant.
    WriteGrant,
    /// A break-glass read grant.
    ReadGrant,
}

impl AccessKind {
    /// Its points.
    pub fn points(self) -> u64 {
        match self {
            Self::AccountUse => 10,
            Self::WriteGrant => 5,
            Self::ReadGrant => 1,
        }
    }
}

/// One access: a use of a standing account, or a grant (at its grant time). Unix ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// When.
    pub at: i64,
    /// What.
    pub kind: AccessKind,
    /// A use that arrived after the late window, allowed by an admin with a reason.
    #[serde(default)]
    pub late: bool,
    /// When the ledger accepted it.
    #[serde(default)]
    pub recorded_at: i64,
}

/// The debt of one period (or the whole range).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebtPeriod {
    /// First day (RFC 3339 date).
    pub start: String,
    /// First day after it.
    pub end: String,
    /// The points.
    pub points: u64,
    /// Uses of persistent production accounts.
    pub account_uses: u64,
    /// Break-glass write grants.
    pub write_grants: u64,
    /// Break-glass read grants.
    pub read_grants: u64,
    /// Account uses of the period that arrived after the late window, each allowed by an
    /// admin with a reason.
    pub late_uses: u64,
    /// Once the period has ended: how many of its accesses entered the ledger after its
    /// end (null while it is still open).
    pub recorded_after_close: Option<u64>,
}

/// Where the debt is going: the last period against the one before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// More points than the period before.
    Rising,
    /// Fewer.
    Falling,
    /// As many.
    Flat,
}

/// The debt of a range, per period and overall.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DebtReport {
    /// The period length.
    pub period: Period,
    /// Each period, empty ones included.
    pub periods: Vec<DebtPeriod>,
    /// The whole range.
    pub total: DebtPeriod,
    /// The last period against the one before (absent with fewer than two periods).
    pub trend: Option<Trend>,
}

fn tally(
    accesses: &[Access],
    (a, b): (i64, i64),
    start: String,
    end: String,
    now: i64,
) -> DebtPeriod {
    let mut p = DebtPeriod {
        start,
        end,
        recorded_after_close: (b <= now).then_some(0),
        ..Default::default()
    };
    for x in accesses.iter().filter(|x| x.at >= a && x.at < b) {
        p.points += x.kind.points();
        p.late_uses += u64::from(x.late);
        if let Some(n) = p.recorded_after_close.as_mut() {
            *n += u64::from(x.recorded_at >= b);
        }
        match x.kind {
            AccessKind::AccountUse => p.account_uses += 1,
            AccessKind::WriteGrant => p.write_grants += 1,
            AccessKind::ReadGrant => p.read_grants += 1,
        }
    }
    p
}

/// The debt of `accesses` from `from_ms` to `to_ms` (exclusive), per period, the range
/// widened to whole periods like the four keys, as known at `now` (which periods ended).
pub fn debt(accesses: &[Access], from_ms: i64, to_ms: i64, period: Period, now: i64) -> DebtReport {
    let Some((start, end, spans)) = spans(from_ms, to_ms, period) else {
        return DebtReport {
            period,
            periods: Vec::new(),
            total: DebtPeriod::default(),
            trend: None,
        };
    };
    let periods: Vec<DebtPeriod> = spans
        .into_iter()
        .map(|(p, q)| {
            tally(
                accesses,
                (ms_of(p), ms_of(q)),
                p.to_string(),
                q.to_string(),
                now,
            )
        })
        .collect();
    let trend = match periods.as_slice() {
        [.., before, last] => Some(match last.points.cmp(&before.points) {
            std::cmp::Ordering::Greater => Trend::Rising,
            std::cmp::Ordering::Less => Trend::Falling,
            std::cmp::Ordering::Equal => Trend::Flat,
        }),
        _ => None,
    };
    DebtReport {
        period,
        total: tally(
            accesses,
            (ms_of(start), ms_of(end)),
            start.to_string(),
            end.to_string(),
            now,
        ),
        periods,
        trend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: &str) -> i64 {
        t.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn points_per_period_and_the_trend() {
        let x = |t: &str, kind| Access {
            at: ms(t),
            kind,
            late: false,
            recorded_at: ms(t),
        };
        let accesses = [
            x("2026-11-02T10:00:00Z", AccessKind::WriteGrant),
            x("2026-11-03T10:00:00Z", AccessKind::ReadGrant),
            x("2026-11-10T10:00:00Z", AccessKind::AccountUse),
            x("2026-11-11T10:00:00Z", AccessKind::AccountUse),
            x("2026-11-12T10:00:00Z", AccessKind::ReadGrant),
            // Outside the range.
            x("2026-10-01T10:00:00Z", AccessKind::AccountUse),
        ];
        let r = debt(
            &accesses,
            ms("2026-11-02T00:00:00Z"),
            ms("2026-11-23T00:00:00Z"),
            Period::Week,
            ms("2026-11-20T00:00:00Z"),
        );
        let points: Vec<u64> = r.periods.iter().map(|p| p.points).collect();
        assert_eq!(points, vec![6, 21, 0]);
        assert_eq!(r.total.points, 27);
        assert_eq!(
            (
                r.total.account_uses,
                r.total.write_grants,
                r.total.read_grants
            ),
            (2, 1, 2)
        );
        assert_eq!(r.trend, Some(Trend::Falling));
        assert_eq!(r.periods[1].start, "2026-11-09");
        assert_eq!(r.periods[0].recorded_after_close, Some(0));
        assert_eq!(r.periods[2].recorded_after_close, None, "still open");
    }

    #[test]
    fn late_uses_and_what_arrived_after_a_period_closed() {
        let accesses = [
            Access {
                at: ms("2026-11-03T10:00:00Z"),
                kind: AccessKind::AccountUse,
                late: true,
                recorded_at: ms("2026-11-20T10:00:00Z"),
            },
            Access {
                at: ms("2026-11-04T10:00:00Z"),
                kind: AccessKind::AccountUse,
                late: false,
                recorded_at: ms("2026-11-04T10:00:01Z"),
            },
        ];
        let r = debt(
            &accesses,
            ms("2026-11-02T00:00:00Z"),
            ms("2026-11-16T00:00:00Z"),
            Period::Week,
            ms("2026-11-21T00:00:00Z"),
        );
        assert_eq!(r.periods[0].late_uses, 1);
        assert_eq!(r.periods[0].recorded_after_close, Some(1));
        assert_eq!(r.total.account_uses, 2);
        assert_eq!(
            (r.total.late_uses, r.total.recorded_after_close),
            (1, Some(1))
        );
    }
}
