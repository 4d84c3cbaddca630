//! How this crate reads XML, the same way for every format: UTF-8 (a byte-order mark and
//! UTF-16 decoded first, by the callers), a DOCTYPE with an internal subset refused (so no
//! entity declarations, hence no entity expansion and no external entities; a DOCTYPE that
//! only names an external DTD, as Cobertura's and Istanbul's do, is read past: nothing is
//! ever fetched), nesting bounded, errors with a line.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::{ParseError, line_of};

/// Deeper nesting than this is refused.
const MAX_DEPTH: usize = 64;

/// A hostile-input-safe XML event reader.
pub(crate) struct Xml<'a> {
    reader: Reader<&'a [u8]>,
    doc: &'a [u8],
    format: &'static str,
    depth: usize,
    pos: u64,
}

impl<'a> Xml<'a> {
    /// A reader over `doc`, which must be UTF-8.
    pub(crate) fn new(doc: &'a [u8], format: &'static str) -> Result<Self, ParseError> {
        let text = std::str::from_utf8(doc).map_err(|e| ParseError::Malformed {
            format,
            line: line_of(doc, e.valid_up_to() as u64),
            message: "not UTF-8".into(),
        })?;
        Ok(Self {
            reader: Reader::from_str(text),
            doc,
            format,
            depth: 0,
            pos: 0,
        })
    }

    /// The next event. A DOCTYPE with an internal subset is refused; so is nesting deeper
    /// than 64.
    pub(crate) fn next(&mut self) -> Result<Event<'a>, ParseError> {
        self.pos = self.reader.buffer_position();
        let event = self
            .reader
            .read_event()
            .map_err(|e| ParseError::Malformed {
                format: self.format,
                line: line_of(self.doc, self.reader.error_position()),
                message: e.to_string(),
            })?;
        match &event {
            Event::DocType(d) if d.as_ref().contains('[') => {
                return Err(self.refused(
                    "a DOCTYPE with an internal subset (DTD declarations and entities are not accepted)",
                ));
            }
            Event::Start(_) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.refused(format!("elements nested deeper than {MAX_DEPTH}")));
                }
            }
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Ok(event)
    }

    /// The byte offset where the last event starts.
    pub(crate) fn position(&self) -> usize {
        usize::try_from(self.pos).unwrap_or(usize::MAX)
    }

    /// A malformed-document error at the last event's line.
    pub(crate) fn malformed(&self, message: impl Into<String>) -> ParseError {
        ParseError::Malformed {
            format: self.format,
            line: line_of(self.doc, self.pos),
            message: message.into(),
        }
    }

    /// A refusal (a bound or a forbidden feature).
    pub(crate) fn refused(&self, message: impl Into<String>) -> ParseError {
        ParseError::Refused {
            format: self.format,
            message: message.into(),
        }
    }
}

/// The error for a document that ended before its first element, at line 1.
pub(crate) fn no_root(format: &'static str) -> ParseError {
    ParseError::Malformed {
        format,
        line: 1,
        message: "the document has no root element".into(),
    }
}

/// An attribute's value, entity references resolved.
pub(crate) fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}
