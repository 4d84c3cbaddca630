//! A report's bytes as UTF-8, whatever the tool or shell that wrote them: a UTF-8
//! byte-order mark is dropped (Windows PowerShell 5 and .NET write one), UTF-16 is decoded
//! (with its byte-order mark, as PowerShell 5's `>` writes it, or recognised by the zero
//! byte of its first ASCII character, as RFC 4627 describes for JSON).

use std::borrow::Cow;

use crate::ParseError;

/// `doc` as UTF-8 bytes (not checked further here: each reader checks its own).
pub(crate) fn utf8<'a>(doc: &'a [u8], format: &'static str) -> Result<Cow<'a, [u8]>, ParseError> {
    if let Some(rest) = doc.strip_prefix(b"\xEF\xBB\xBF") {
        return Ok(Cow::Borrowed(rest));
    }
    let (little, body) = match doc {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        [a, 0, ..] if a.is_ascii() && *a != 0 => (true, doc),
        [0, b, ..] if b.is_ascii() && *b != 0 => (false, doc),
        _ => return Ok(Cow::Borrowed(doc)),
    };
    let bad = |message: &str| ParseError::Malformed {
        format,
        line: 1,
        message: format!("UTF-16 {}: {message}", if little { "LE" } else { "BE" }),
    };
    if body.len() % 2 != 0 {
        return Err(bad("an odd number of bytes"));
    }
    let units = body.chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let text: String = char::decode_utf16(units)
        .collect::<Result<_, _>>()
        .map_err(|_| bad("an unpaired surrogate"))?;
    Ok(Cow::Owned(text.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_marks_and_utf16_become_utf8() {
        assert_eq!(&*utf8(b"\xEF\xBB\xBF<a/>", "t").expect("utf-8"), b"<a/>");
        assert_eq!(&*utf8(b"{\"a\":1}", "t").expect("plain"), b"{\"a\":1}");
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("{\"é\":1}".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(&*utf8(&le, "t").expect("le"), "{\"é\":1}".as_bytes());
        let be: Vec<u8> = "{}".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(&*utf8(&be, "t").expect("be without a mark"), b"{}");
        assert!(utf8(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00], "t").is_err());
        assert!(utf8(&[0xFF, 0xFE, 0x7B], "t").is_err());
    }
}
