//! SPDX 2.x tag-value, the form most SPDX tools write by default (`SPDXVersion: SPDX-2.3`,
//! then one `Tag: value` per line), read as the SPDX JSON its own serialization would be, so
//! the one SPDX 2 reader reads both forms and they cannot disagree.
//!
//! Only what the SBOM summary reads is carried over: the document's version and SPDXID, each
//! package's name, SPDXID, version, concluded and declared licenses and external references,
//! and the relationships. A package runs from its `PackageName` to the next section's first
//! tag (`PackageName`, `FileName`, `SnippetSPDXID`, `LicenseID`); relationships and
//! annotations may stand anywhere. A value may span lines between `<text>` and `</text>`;
//! lines starting with `#` are comments. Any other line that is not `Tag: value` is an
//! error naming its line: such a document is not tag-value, or is broken.

use serde_json::{Map, Value, json};

use crate::ParseError;

const F: &str = "SPDX tag-value";

/// Whether `doc` (UTF-8) is SPDX tag-value rather than JSON or XML: it does not open with
/// `{`, `[` or `<`, and one of its lines is an `SPDXVersion:` tag.
pub(crate) fn looks_like(doc: &[u8]) -> bool {
    let first = doc.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[' | b'<') | None) {
        return false;
    }
    doc.split(|&b| b == b'\n')
        .any(|line| line.trim_ascii_start().starts_with(b"SPDXVersion:"))
}

/// Which part of the document the current line belongs to.
enum Section {
    /// The document creation information, before any package, file, snippet or license.
    Document,
    /// The package at this index of `packages`.
    Package(usize),
    /// A file, snippet or extracted license: its tags are not read.
    Other,
}

/// The document as SPDX 2 JSON: `spdxVersion`, `SPDXID`, `packages` (`name`, `SPDXID`,
/// `versionInfo`, `licenseConcluded`, `licenseDeclared`, `externalRefs`) and
/// `relationships`.
pub(crate) fn to_json(doc: &[u8], max_packages: usize) -> Result<Value, ParseError> {
    let text = std::str::from_utf8(doc).map_err(|e| ParseError::Malformed {
        format: F,
        line: crate::line_of(doc, e.valid_up_to() as u64),
        message: "not UTF-8".into(),
    })?;
    let mut root = Map::new();
    let mut packages: Vec<Map<String, Value>> = Vec::new();
    let mut relationships = Vec::new();
    let mut section = Section::Document;
    let mut lines = text.lines().enumerate();
    while let Some((index, raw)) = lines.next() {
        let line_no = index as u64 + 1;
        let line = raw.trim_start();
        if line.trim_end().is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line
            .split_once(':')
            .filter(|(tag, _)| is_tag(tag))
            .ok_or_else(|| {
                malformed(line_no, format!("not a `Tag: value` line: {:?}", cut(line)))
            })?;
        let value = value(rest.trim(), line_no, &mut lines)?;
        match tag {
            "PackageName" => {
                if packages.len() >= max_packages {
                    return Err(ParseError::Refused {
                        format: F,
                        message: format!("more than {max_packages} packages"),
                    });
                }
                let mut p = Map::new();
                p.insert("name".into(), value.into());
                packages.push(p);
                section = Section::Package(packages.len() - 1);
            }
            "FileName" | "SnippetSPDXID" | "LicenseID" => section = Section::Other,
            "Relationship" => relationships.push(relationship(&value, line_no)?),
            _ => match section {
                Section::Document => {
                    let key = match tag {
                        "SPDXVersion" => "spdxVersion",
                        "SPDXID" => "SPDXID",
                        _ => continue,
                    };
                    root.entry(key).or_insert(value.into());
                }
                Section::Package(i) => {
                    if let Some(p) = packages.get_mut(i) {
                        package_field(p, tag, value, line_no)?;
                    }
                }
                Section::Other => {}
            },
        }
    }
    if !root.contains_key("spdxVersion") {
        return Err(malformed(
            0,
            "no SPDXVersion before the first package or file",
        ));
    }
    root.insert(
        "packages".into(),
        packages.into_iter().map(Value::Object).collect(),
    );
    root.insert("relationships".into(), Value::Array(relationships));
    Ok(Value::Object(root))
}

/// A tag: letters, digits, `_` and `-` (`SPDXVersion`, `ExternalRef`, `SPDXREF`).
fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A value, with a `<text>` one read to its `</text>` across lines: the text between them.
fn value<'a>(
    first: &'a str,
    line_no: u64,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Result<String, ParseError> {
    let Some(body) = first.strip_prefix("<text>") else {
        return Ok(first.to_owned());
    };
    if let Some((inner, _)) = body.split_once("</text>") {
        return Ok(inner.to_owned());
    }
    let mut text = body.to_owned();
    for (_, next) in lines {
        text.push('\n');
        if let Some((inner, _)) = next.split_once("</text>") {
            text.push_str(inner);
            return Ok(text);
        }
        text.push_str(next);
    }
    Err(malformed(
        line_no,
        "a <text> value with no </text> before the end of the document",
    ))
}

/// A package's field, under its SPDX JSON name.
fn package_field(
    p: &mut Map<String, Value>,
    tag: &str,
    value: String,
    line_no: u64,
) -> Result<(), ParseError> {
    let key = match tag {
        "SPDXID" => "SPDXID",
        "PackageVersion" => "versionInfo",
        "PackageLicenseConcluded" => "licenseConcluded",
        "PackageLicenseDeclared" => "licenseDeclared",
        "ExternalRef" => {
            // `ExternalRef: PACKAGE-MANAGER purl pkg:npm/lodash@4.17.21`
            let mut words = value.split_whitespace();
            let (Some(category), Some(kind), Some(locator)) =
                (words.next(), words.next(), words.next())
            else {
                return Err(malformed(
                    line_no,
                    format!("an ExternalRef needs a category, a type and a locator: {value:?}"),
                ));
            };
            let refs = p.entry("externalRefs").or_insert_with(|| json!([]));
            if let Value::Array(refs) = refs {
                refs.push(json!({
                    "referenceCategory": category,
                    "referenceType": kind,
                    "referenceLocator": locator,
                }));
            }
            return Ok(());
        }
        _ => return Ok(()),
    };
    p.entry(key).or_insert(value.into());
    Ok(())
}

/// `Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package` as its JSON object.
fn relationship(value: &str, line_no: u64) -> Result<Value, ParseError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    match words.as_slice() {
        [from, kind, to] => Ok(json!({
            "spdxElementId": from,
            "relationshipType": kind,
            "relatedSpdxElement": to,
        })),
        _ => Err(malformed(
            line_no,
            format!("a Relationship is `element TYPE element`: {:?}", cut(value)),
        )),
    }
}

fn malformed(line: u64, message: impl Into<String>) -> ParseError {
    ParseError::Malformed {
        format: F,
        line,
        message: message.into(),
    }
}

/// The first 80 characters of a line, for an error message.
fn cut(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_takes_its_own_tags_and_not_a_file_s() {
        let doc = b"# written by hand\nSPDXVersion: SPDX-2.3\nSPDXID: SPDXRef-DOCUMENT\n\
PackageName: a\nSPDXID: SPDXRef-a\nPackageLicenseDeclared: <text>MIT\n</text>\n\
FileName: ./x.c\nSPDXID: SPDXRef-x\nLicenseConcluded: GPL-2.0-only\n\
Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-a\n";
        assert!(looks_like(doc));
        let v = to_json(doc, 10).expect("reads");
        assert_eq!(v["SPDXID"], "SPDXRef-DOCUMENT");
        assert_eq!(v["packages"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["packages"][0]["SPDXID"], "SPDXRef-a");
        assert_eq!(v["packages"][0]["licenseDeclared"], "MIT\n");
        assert_eq!(v["relationships"][0]["relatedSpdxElement"], "SPDXRef-a");
    }

    #[test]
    fn broken_lines_and_bounds_are_errors_with_their_line() {
        let e = to_json(b"SPDXVersion: SPDX-2.3\nthis is prose\n", 10).expect_err("prose");
        assert!(matches!(e, ParseError::Malformed { line: 2, .. }), "{e}");
        let e = to_json(b"SPDXVersion: SPDX-2.3\nPackageComment: <text>open\n", 10)
            .expect_err("unterminated");
        assert!(matches!(e, ParseError::Malformed { line: 2, .. }), "{e}");
        let e = to_json(b"SPDXVersion: SPDX-2.3\nRelationship: A DESCRIBES\n", 10)
            .expect_err("short relationship");
        assert!(e.to_string().contains("element TYPE element"), "{e}");
        let many = "SPDXVersion: SPDX-2.3\nPackageName: a\nPackageName: b\nPackageName: c\n";
        assert!(matches!(
            to_json(many.as_bytes(), 2),
            Err(ParseError::Refused { .. })
        ));
        assert!(!looks_like(b"{\"SPDXVersion: \": 1}"));
        assert!(!looks_like(b"PackageName: a\n"));
    }
}
