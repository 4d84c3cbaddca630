//! Reading fields of a JSON payload by pointer, with errors that name the format and field.

use andon_domain::scm::normalize_sha;
use serde_json::Value;

use crate::ParseError;

/// A reader of one format's payloads.
pub(crate) struct Reader(pub &'static str);

impl Reader {
    pub(crate) fn malformed(&self, message: impl Into<String>) -> ParseError {
        ParseError::Malformed {
            format: self.0,
            line: 0,
            message: message.into(),
        }
    }

    /// The payload as JSON, or the line where it is not.
    pub(crate) fn json(&self, payload: &[u8]) -> Result<Value, ParseError> {
        serde_json::from_slice(payload).map_err(|e| ParseError::Malformed {
            format: self.0,
            line: e.line() as u64,
            message: e.to_string(),
        })
    }

    /// The string at pointer `p`, if any.
    pub(crate) fn s<'a>(&self, v: &'a Value, p: &str) -> Option<&'a str> {
        v.pointer(p).and_then(Value::as_str)
    }

    /// The string at pointer `p`, required.
    pub(crate) fn req<'a>(&self, v: &'a Value, p: &str) -> Result<&'a str, ParseError> {
        self.s(v, p)
            .ok_or_else(|| self.malformed(format!("{p} is missing")))
    }

    /// A commit id at pointer `p` (absent or empty: none), normalized.
    pub(crate) fn sha(&self, v: &Value, p: &str) -> Result<Option<String>, ParseError> {
        match self.s(v, p) {
            None | Some("") => Ok(None),
            Some(x) => normalize_sha(x)
                .map(Some)
                .ok_or_else(|| self.malformed(format!("{p} is not a commit id: {x:?}"))),
        }
    }

    /// A numeric id at pointer `p`, as a string.
    pub(crate) fn id(&self, v: &Value, p: &str) -> Option<String> {
        v.pointer(p).and_then(Value::as_u64).map(|n| n.to_string())
    }
}
