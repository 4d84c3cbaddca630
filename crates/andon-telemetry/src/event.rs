//! Events as reported, validated and in canonical form.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The most events in one batch.
pub const MAX_BATCH: usize = 10_000;
/// The longest free-text detail, in bytes.
pub const MAX_DETAIL: usize = 1024;
/// The longest name (source, actor, environment, deployment), in bytes.
const MAX_NAME: usize = 256;

/// What an event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    /// Successful sign-ins (`count` of them).
    LoginSuccess,
    /// Failed sign-ins (`count` of them).
    LoginFailure,
    /// An application's configuration changed.
    ConfigChange,
    /// A firewall or security-group rule changed.
    SecurityGroupChange,
    /// A cloud IAM policy, role or binding changed.
    IamChange,
    /// HTTP requests served over an interval: `count` of them, `status_4xx` and
    /// `status_5xx` among them.
    HttpRequests,
    /// Maintenance mode switched on.
    MaintenanceOn,
    /// Maintenance mode switched off.
    MaintenanceOff,
}

impl EventKind {
    /// Every kind, in wire-name order of the docs.
    pub const ALL: [EventKind; 8] = [
        EventKind::LoginSuccess,
        EventKind::LoginFailure,
        EventKind::ConfigChange,
        EventKind::SecurityGroupChange,
        EventKind::IamChange,
        EventKind::HttpRequests,
        EventKind::MaintenanceOn,
        EventKind::MaintenanceOff,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSuccess => "login.success",
            Self::LoginFailure => "login.failure",
            Self::ConfigChange => "config.change",
            Self::SecurityGroupChange => "security_group.change",
            Self::IamChange => "iam.change",
            Self::HttpRequests => "http.requests",
            Self::MaintenanceOn => "maintenance.on",
            Self::MaintenanceOff => "maintenance.off",
        }
    }

    /// From the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A change to production's configuration, which a pipeline deployment should explain.
    pub fn is_config(self) -> bool {
        matches!(
            self,
            Self::ConfigChange | Self::SecurityGroupChange | Self::IamChange
        )
    }

    /// A sign-in.
    pub fn is_login(self) -> bool {
        matches!(self, Self::LoginSuccess | Self::LoginFailure)
    }

    /// A maintenance-mode switch.
    pub fn is_maintenance(self) -> bool {
        matches!(self, Self::MaintenanceOn | Self::MaintenanceOff)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One event, validated. Times are Unix milliseconds.
///
/// Its serialization is the canonical form: fields in this order, absent ones and zero
/// status counts left out, the time in RFC 3339 UTC. A canonical line is itself a valid
/// event on the wire, and reads back to the same event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// What it reports.
    pub kind: EventKind,
    /// When it happened.
    #[serde(serialize_with = "rfc3339")]
    pub at: i64,
    /// Who reported it: the system that saw it (`okta`, `cloudtrail`, `nginx`).
    pub source: String,
    /// The application concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// The environment concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Who did it (a user, a principal), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// How many: sign-ins, or HTTP requests; 1 for a single change or switch.
    pub count: u64,
    /// HTTP 4xx responses among `count`.
    #[serde(skip_serializing_if = "is_zero")]
    pub status_4xx: u64,
    /// HTTP 5xx responses among `count`.
    #[serde(skip_serializing_if = "is_zero")]
    pub status_5xx: u64,
    /// The deployment that made a configuration change, when the reporter knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// What changed, in the reporter's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn rfc3339<S: serde::Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    match jiff::Timestamp::from_millisecond(*ms) {
        Ok(t) => s.collect_str(&t),
        Err(e) => Err(serde::ser::Error::custom(e)),
    }
}

/// An event as it arrives on the wire.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    kind: String,
    at: String,
    source: String,
    #[serde(default)]
    application: Option<String>,
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    status_4xx: Option<u64>,
    #[serde(default)]
    status_5xx: Option<u64>,
    #[serde(default)]
    deployment: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// Why a batch was refused: the first bad event, by position, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventError {
    /// The event's position in the batch (from 0); none when the batch itself is wrong.
    pub index: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "event {i}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EventError {}

/// Parses and validates a batch: a JSON array of events, or newline-delimited JSON (one
/// event per line). All or nothing: the first bad event refuses the batch.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Event>, EventError> {
    let batch = |message: String| EventError {
        index: None,
        message,
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let wires: Vec<Wire> = match first {
        None => return Err(batch("the batch is empty".into())),
        Some(b'[') => serde_json::from_slice(body).map_err(|e| batch(describe(&e)))?,
        Some(_) => {
            let mut out = Vec::new();
            for (i, line) in body.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let w = serde_json::from_slice(line).map_err(|e| EventError {
                    index: Some(out.len()),
                    message: format!("line {}: {}", i + 1, describe(&e)),
                })?;
                out.push(w);
                if out.len() > MAX_BATCH {
                    break;
                }
            }
            out
        }
    };
    if wires.is_empty() {
        return Err(batch("the batch is empty".into()));
    }
    if wires.len() > MAX_BATCH {
        return Err(batch(format!(
            "a batch holds at most {MAX_BATCH} events; send more batches"
        )));
    }
    wires
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            validate(w).map_err(|message| EventError {
                index: Some(i),
                message,
            })
        })
        .collect()
}

fn describe(e: &serde_json::Error) -> String {
    format!("not a valid event: {e}")
}

fn name(v: Option<String>, field: &str) -> Result<Option<String>, String> {
    match v {
        Some(s) if s.is_empty() || s.len() > MAX_NAME || s.chars().any(char::is_control) => Err(
            format!("`{field}` is 1 to {MAX_NAME} bytes without control characters"),
        ),
        v => Ok(v),
    }
}

fn validate(w: Wire) -> Result<Event, String> {
    let kind = EventKind::parse(&w.kind).ok_or_else(|| {
        let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind `{}` (known: {})", w.kind, known.join(", "))
    })?;
    let at =
        w.at.parse::<jiff::Timestamp>()
            .map_err(|e| format!("`at` is not an RFC 3339 time ({e})"))?
            .as_millisecond();
    let source = name(Some(w.source), "source")?.unwrap_or_default();
    let application = name(w.application, "application")?;
    let environment = name(w.environment, "environment")?;
    let actor = name(w.actor, "actor")?;
    let deployment = name(w.deployment, "deployment")?;
    if let Some(d) = &w.detail
        && (d.len() > MAX_DETAIL)
    {
        return Err(format!("`detail` is at most {MAX_DETAIL} bytes"));
    }
    if kind != EventKind::HttpRequests && (w.status_4xx.is_some() || w.status_5xx.is_some()) {
        return Err(format!(
            "`status_4xx` and `status_5xx` belong to http.requests, not {kind}"
        ));
    }
    if deployment.is_some() && !kind.is_config() {
        return Err(format!(
            "`deployment` names what made a configuration change, not a {kind}"
        ));
    }
    let count = match (kind, w.count) {
        (EventKind::HttpRequests, None) => {
            return Err("http.requests needs `count`, the requests served".into());
        }
        (k, Some(n)) if !(k.is_login() || k == EventKind::HttpRequests) && n != 1 => {
            return Err(format!("a {k} is one event: leave `count` out"));
        }
        (_, Some(0)) => return Err("`count` is at least 1".into()),
        (_, Some(n)) if n > 1_000_000_000 => return Err("`count` is at most 10^9".into()),
        (_, n) => n.unwrap_or(1),
    };
    let (status_4xx, status_5xx) = (w.status_4xx.unwrap_or(0), w.status_5xx.unwrap_or(0));
    if status_4xx.saturating_add(status_5xx) > count {
        return Err(format!(
            "{status_4xx} 4xx and {status_5xx} 5xx responses are more than the {count} requests"
        ));
    }
    if (kind.is_maintenance() || kind == EventKind::HttpRequests)
        && (application.is_none() || environment.is_none())
    {
        return Err(format!(
            "a {kind} names its `application` and `environment`"
        ));
    }
    Ok(Event {
        kind,
        at,
        source,
        application,
        environment,
        actor,
        count,
        status_4xx,
        status_5xx,
        deployment,
        detail: w.detail,
    })
}

/// An event's canonical line: its JSON with fields in declaration order, times in RFC 3339.
pub fn canonical_line(e: &Event) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

/// The digest the ledger keeps for a batch: SHA-256 over the canonical lines, each ended by
/// a newline, as `sha256:<hex>`. Anyone holding the stored events recomputes it.
pub fn batch_digest(events: &[Event]) -> String {
    let mut h = Sha256::new();
    for e in events {
        h.update(canonical_line(e).as_bytes());
        h.update(b"\n");
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_and_lines_read_the_same() {
        let a =
            br#"[{"kind":"login.failure","at":"2026-11-02T10:00:00Z","source":"okta","count":3}]"#;
        let b = b"{\"kind\":\"login.failure\",\"at\":\"2026-11-02T10:00:00Z\",\"source\":\"okta\",\"count\":3}\n\n";
        assert_eq!(parse_batch(a), parse_batch(b));
        let e = &parse_batch(a).unwrap()[0];
        assert_eq!((e.kind, e.count), (EventKind::LoginFailure, 3));
    }

    #[test]
    fn bad_events_are_named_by_position() {
        let body = br#"[{"kind":"login.success","at":"2026-11-02T10:00:00Z","source":"okta"},
                        {"kind":"http.requests","at":"2026-11-02T10:00:00Z","source":"lb","application":"pay","environment":"prod","count":5,"status_5xx":9}]"#;
        let err = parse_batch(body).unwrap_err();
        assert_eq!(err.index, Some(1));
        assert!(err.message.contains("more than the 5 requests"), "{err}");
        for (body, want) in [
            (&br#"[{"kind":"login.bogus","at":"2026-11-02T10:00:00Z","source":"x"}]"#[..], "unknown kind"),
            (br#"[{"kind":"login.success","at":"yesterday","source":"x"}]"#, "RFC 3339"),
            (br#"[{"kind":"login.success","at":"2026-11-02T10:00:00Z","source":""}]"#, "`source`"),
            (br#"[{"kind":"config.change","at":"2026-11-02T10:00:00Z","source":"x","count":2}]"#, "one event"),
            (br#"[{"kind":"maintenance.on","at":"2026-11-02T10:00:00Z","source":"x"}]"#, "names its"),
            (br#"[{"kind":"login.success","at":"2026-11-02T10:00:00Z","source":"x","colour":1}]"#, "unknown field"),
            (br#"[]"#, "empty"),
            (b"  ", "empty"),
        ] {
            let err = parse_batch(body).unwrap_err().to_string();
            assert!(err.contains(want), "{err} lacks {want}");
        }
    }

    #[test]
    fn the_digest_is_over_canonical_lines() {
        let body =
            br#"[{"source":"okta","at":"2026-11-02T11:00:00+01:00","kind":"login.success"}]"#;
        let events = parse_batch(body).unwrap();
        let line = canonical_line(&events[0]);
        assert!(
            line.starts_with(
                r#"{"kind":"login.success","at":"2026-11-02T10:00:00Z","source":"okta""#
            ),
            "{line}"
        );
        let want = format!(
            "sha256:{}",
            hex::encode(Sha256::digest(format!("{line}\n")))
        );
        assert_eq!(batch_digest(&events), want);
    }

    #[test]
    fn a_canonical_line_reads_back_to_its_event() {
        let body = br#"[
            {"kind":"http.requests","at":"2026-11-02T10:00:00.250Z","source":"lb","application":"pay","environment":"prod","count":100,"status_5xx":7},
            {"kind":"iam.change","at":"2026-11-02T10:00:00Z","source":"cloudtrail","actor":"ops","detail":"AttachRolePolicy"},
            {"kind":"login.failure","at":"2026-11-02T10:00:00Z","source":"okta","count":40}
        ]"#;
        let events = parse_batch(body).unwrap();
        let lines: Vec<String> = events.iter().map(canonical_line).collect();
        assert_eq!(parse_batch(lines.join("\n").as_bytes()).unwrap(), events);
        assert!(!lines[1].contains("status_"), "{}", lines[1]);
    }
}
