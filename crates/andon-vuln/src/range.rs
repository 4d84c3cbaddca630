//! Whether a version of a package is affected, as the OSV schema's `IsVulnerable` evaluates
//! it: inside some range that passes its limits, walking the range's
//! events in version order (`introduced: "0"` first) and keeping the last one that applies,
//! or listed in `versions`.

use std::cmp::Ordering;

use crate::osv::{Affected, Event, Range};
use crate::purl::Ecosystem;
use crate::versions::{Scheme, Version};

/// The answer for one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Affected.
    Affected(Hit),
    /// Not affected.
    NotAffected,
    /// Andon cannot tell (no ordering for the ecosystem, a `GIT` range without listed
    /// versions, an unreadable version); never to be read as "not affected".
    Unevaluated(String),
}

/// Why a version is affected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The range or list that matched, readable (`>= 1.0, < 1.5` or `listed`).
    pub matched: String,
    /// The first fixed version above the affected one, if the range names one.
    pub fixed: Option<String>,
}

/// Evaluates `version` against one affected entry of an advisory, in the ordering of
/// `ecosystem` (the entry's own, read by [`crate::purl::ecosystem`]).
pub fn evaluate(affected: &Affected, ecosystem: Option<&Ecosystem>, version: &str) -> Verdict {
    let scheme_of = |r: &Range| match r.kind.as_str() {
        "SEMVER" => Some(Scheme::SemVer),
        "ECOSYSTEM" => ecosystem.and_then(|e| e.scheme),
        _ => None,
    };
    let mut unevaluated = None;
    for range in &affected.ranges {
        if range.kind == "GIT" {
            let named = range.events.iter().any(|e| {
                e.introduced.as_deref() == Some(version)
                    || e.last_affected.as_deref() == Some(version)
            });
            if named {
                return Verdict::Affected(Hit {
                    matched: format!("commit {version}"),
                    fixed: None,
                });
            }
            unevaluated.get_or_insert_with(|| {
                "a GIT range needs the repository's commit graph".to_owned()
            });
            continue;
        }
        let Some(scheme) = scheme_of(range) else {
            let eco = ecosystem.map(|e| e.ty).unwrap_or("unknown");
            unevaluated.get_or_insert_with(|| {
                format!("no version ordering for {} ranges of {eco}", range.kind)
            });
            continue;
        };
        match in_range(range, scheme, version) {
            Ok(Some(hit)) => return Verdict::Affected(hit),
            Ok(None) => {}
            Err(e) => {
                unevaluated.get_or_insert(e);
            }
        }
    }
    // Listed versions are read after the ranges, so a hit names its fix when a range has one.
    if listed(
        &affected.versions,
        ecosystem.and_then(|e| e.scheme),
        version,
    ) {
        return Verdict::Affected(Hit {
            matched: "listed".into(),
            fixed: None,
        });
    }
    match unevaluated {
        // A complete list of versions answers for the ranges Andon cannot walk.
        Some(_) if !affected.versions.is_empty() => Verdict::NotAffected,
        Some(why) => Verdict::Unevaluated(why),
        None => Verdict::NotAffected,
    }
}

fn listed(versions: &[String], scheme: Option<Scheme>, version: &str) -> bool {
    if versions.iter().any(|v| v == version) {
        return true;
    }
    let Some(scheme) = scheme else { return false };
    let Ok(v) = scheme.parse(version) else {
        return false;
    };
    versions.iter().any(|l| {
        scheme
            .parse(l)
            .is_ok_and(|l| l.cmp_same(&v) == Ordering::Equal)
    })
}

/// One event with its version read; `None` is `introduced: "0"`.
struct Step<'a> {
    event: &'a Event,
    at: Option<Version>,
}

fn in_range(range: &Range, scheme: Scheme, version: &str) -> Result<Option<Hit>, String> {
    let v = scheme.parse(version).map_err(|e| e.to_string())?;
    let mut limits = Vec::new();
    let mut steps = Vec::new();
    for e in &range.events {
        if let Some(l) = &e.limit {
            limits.push(l.as_str());
            continue;
        }
        let raw = e
            .introduced
            .as_deref()
            .or(e.fixed.as_deref())
            .or(e.last_affected.as_deref())
            .ok_or_else(|| "a range event names no version".to_owned())?;
        let at = if e.introduced.as_deref() == Some("0") {
            None
        } else {
            Some(
                scheme
                    .parse(raw)
                    .map_err(|e| format!("the advisory's {e}"))?,
            )
        };
        steps.push(Step { event: e, at });
    }
    let before_limits = limits.is_empty()
        || limits.iter().any(|l| {
            *l == "*"
                || scheme
                    .parse(l)
                    .is_ok_and(|l| v.cmp_same(&l) == Ordering::Less)
        });
    if !before_limits {
        return Ok(None);
    }
    steps.sort_by(|a, b| match (&a.at, &b.at) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp_same(y),
    });
    let mut affected = false;
    let mut from = None;
    for s in &steps {
        let at = s.at.as_ref();
        if let Some(i) = &s.event.introduced {
            if at.is_none_or(|a| v.cmp_same(a) != Ordering::Less) {
                affected = true;
                from = Some(i.as_str());
            }
        } else if s.event.fixed.is_some() {
            if at.is_some_and(|a| v.cmp_same(a) != Ordering::Less) {
                affected = false;
            }
        } else if s.event.last_affected.is_some()
            && at.is_some_and(|a| v.cmp_same(a) == Ordering::Greater)
        {
            affected = false;
        }
    }
    if !affected {
        return Ok(None);
    }
    let next = steps.iter().find(|s| {
        (s.event.fixed.is_some() || s.event.last_affected.is_some())
            && s.at
                .as_ref()
                .is_some_and(|a| a.cmp_same(&v) != Ordering::Less)
    });
    let fixed = next.and_then(|s| s.event.fixed.clone());
    let upper = match next {
        Some(s) => match (&s.event.fixed, &s.event.last_affected) {
            (Some(f), _) => format!(", < {f}"),
            (_, Some(l)) => format!(", <= {l}"),
            _ => String::new(),
        },
        None => String::new(),
    };
    Ok(Some(Hit {
        matched: format!(">= {}{upper}", from.unwrap_or("0")),
        fixed,
    }))
}
