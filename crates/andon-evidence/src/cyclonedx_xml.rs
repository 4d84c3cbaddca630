//! A CycloneDX XML document as the JSON its own serialization would be, so the SBOM and the
//! vulnerability readers read one form and XML and JSON cannot disagree: an element's
//! attributes and children become an object's fields, a text-only element a string,
//! CycloneDX's list containers (`<components>` of `<component>`, `<vulnerabilities>` of
//! `<vulnerability>`, ...) arrays, `<licenses>` the JSON's `[{"license": ...},
//! {"expression": ...}]` (1.7's `<expression-detailed expression="...">` with its
//! `<details>` the JSON's `{"expression": ..., "expressionDetails": [...]}`), and the
//! namespace's version `specVersion`. Read with the crate's hostile-input-safe XML reader.

use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

use crate::ParseError;
use crate::xml::Xml;

/// Containers whose children are the items of a JSON array: (container, item).
const LISTS: [(&str, &str); 12] = [
    ("components", "component"),
    ("vulnerabilities", "vulnerability"),
    ("ratings", "rating"),
    ("affects", "target"),
    ("versions", "version"),
    ("tools", "tool"),
    ("services", "service"),
    ("cwes", "cwe"),
    ("advisories", "advisory"),
    ("references", "reference"),
    ("hashes", "hash"),
    ("dependencies", "dependency"),
];

/// An element being read: its name, its fields and its text.
struct Open {
    name: String,
    fields: Map<String, Value>,
    items: Vec<Value>,
    text: String,
}

impl Open {
    fn start(e: &BytesStart<'_>) -> Self {
        let mut fields = Map::new();
        for a in e.attributes().flatten() {
            let key = a.key.local_name().as_ref().to_owned();
            if key == "xmlns" || a.key.as_ref().starts_with("xmlns:") {
                continue;
            }
            if let Ok(v) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                fields.insert(key, Value::String(v.into_owned()));
            }
        }
        Self {
            name: e.local_name().as_ref().to_owned(),
            fields,
            items: Vec::new(),
            text: String::new(),
        }
    }

    /// The element as JSON.
    fn finish(self) -> Value {
        if self.name == "expression-detailed" {
            let mut fields = self.fields;
            if !self.items.is_empty() {
                fields.insert("expressionDetails".into(), Value::Array(self.items));
            }
            return Value::Object(fields);
        }
        let list = self.name == "licenses" || LISTS.iter().any(|(list, _)| *list == self.name);
        if list && !self.items.is_empty() {
            return Value::Array(self.items);
        }
        let text = self.text.trim();
        if self.fields.is_empty() {
            return Value::String(text.to_owned());
        }
        // Attributes and text (`<hash alg="SHA-256">…</hash>`): the text is the JSON's
        // `content`.
        let mut fields = self.fields;
        if !text.is_empty() {
            fields.insert("content".into(), Value::String(text.to_owned()));
        }
        Value::Object(fields)
    }

    /// Takes a finished child.
    fn add(&mut self, name: String, value: Value) {
        if self.name == "licenses" {
            // `<expression acknowledgement="declared">A OR B</expression>` is the JSON's
            // `{"expression": "A OR B", "acknowledgement": "declared"}`.
            let choice = match value {
                Value::Object(detailed) if name == "expression-detailed" => detailed,
                Value::Object(mut attrs) if name == "expression" => {
                    let text = attrs.remove("content").unwrap_or_default();
                    attrs.insert(name, text);
                    attrs
                }
                value => {
                    let mut choice = Map::new();
                    choice.insert(name, value);
                    choice
                }
            };
            self.items.push(Value::Object(choice));
        } else if self.name == "expression-detailed" && name == "details" {
            self.items.push(expression_details(value));
        } else if LISTS
            .iter()
            .any(|(list, item)| *list == self.name && *item == name)
        {
            self.items.push(value);
        } else {
            self.fields.insert(name, value);
        }
    }
}

/// One `<details license-identifier="MIT">` of an `<expression-detailed>` as the JSON's
/// `{"licenseIdentifier": "MIT", ...}` (its `<text content-type>` the JSON's `contentType`).
fn expression_details(value: Value) -> Value {
    let Value::Object(mut fields) = value else {
        return value;
    };
    if let Some(id) = fields.remove("license-identifier") {
        fields.insert("licenseIdentifier".into(), id);
    }
    if let Some(Value::Object(text)) = fields.get_mut("text")
        && let Some(kind) = text.remove("content-type")
    {
        text.insert("contentType".into(), kind);
    }
    Value::Object(fields)
}

/// CycloneDX's namespace, less its version.
const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/";
/// The CycloneDX versions whose XML is read, by their namespace.
const VERSIONS: [&str; 8] = ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// The version of a CycloneDX namespace (`http://cyclonedx.org/schema/bom/1.6`), or why the
/// `<bom>` is not read: outside CycloneDX's namespace, or in one of a version not known here
/// (its elements may not mean what they meant in the versions read).
fn cyclonedx_version(ns: &str) -> Result<String, String> {
    let Some(v) = ns.strip_prefix(NAMESPACE) else {
        return Err(format!(
            "<bom> is not in a CycloneDX namespace ({NAMESPACE}1.x): {ns:?}"
        ));
    };
    if VERSIONS.contains(&v) {
        return Ok(v.to_owned());
    }
    Err(format!(
        "<bom> is in the namespace {ns:?}: CycloneDX {v:?} is not a version read here ({} to {})",
        VERSIONS[0],
        VERSIONS[VERSIONS.len() - 1],
    ))
}

/// The document's `<bom>` as CycloneDX JSON (`bomFormat` and `specVersion` set), or why
/// not: another root (SPDX RDF/XML named as such), or a namespace that is not CycloneDX's.
pub(crate) fn to_json(doc: &[u8], format: &'static str) -> Result<Value, ParseError> {
    let mut xml = Xml::new(doc, format)?;
    let mut stack: Vec<Open> = Vec::new();
    let mut spec = String::new();
    loop {
        match xml.next()? {
            Event::Start(ref e) => {
                if stack.is_empty() {
                    let root = e.local_name().as_ref().to_owned();
                    if root == "RDF" {
                        return Err(xml.malformed(
                            "this is SPDX RDF/XML, which is not read: send SPDX JSON, or CycloneDX JSON or XML",
                        ));
                    }
                    if root != "bom" {
                        return Err(xml.malformed(format!(
                            "the root element is <{root}>, not CycloneDX's <bom>"
                        )));
                    }
                    let ns = crate::xml::attr(e, "xmlns").unwrap_or_default();
                    spec = cyclonedx_version(&ns).map_err(|m| xml.malformed(m))?;
                }
                stack.push(Open::start(e));
            }
            Event::Empty(ref e) => {
                let open = Open::start(e);
                let name = open.name.clone();
                let value = open.finish();
                match stack.last_mut() {
                    Some(parent) => parent.add(name, value),
                    None => return Err(xml.malformed("the document is an empty element")),
                }
            }
            Event::Text(t) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(open) = stack.last_mut()
                    && let Ok(Some(c)) = r.resolve_char_ref()
                {
                    open.text.push(c);
                } else if let Some(open) = stack.last_mut() {
                    let name = r.as_ref().to_owned();
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(s) => open.text.push_str(s),
                        None => return Err(xml.malformed(format!("an undefined entity &{name};"))),
                    }
                }
            }
            Event::CData(c) => {
                if let Some(open) = stack.last_mut() {
                    open.text.push_str(c.as_ref());
                }
            }
            Event::End(_) => {
                let open = stack
                    .pop()
                    .ok_or_else(|| xml.malformed("an unopened element"))?;
                let name = open.name.clone();
                let value = open.finish();
                match stack.last_mut() {
                    Some(parent) => parent.add(name, value),
                    None => {
                        let mut bom = match value {
                            Value::Object(m) => m,
                            _ => Map::new(),
                        };
                        bom.insert("bomFormat".into(), "CycloneDX".into());
                        bom.insert("specVersion".into(), spec.into());
                        return Ok(Value::Object(bom));
                    }
                }
            }
            Event::Eof => return Err(xml.malformed("the document ends inside <bom>")),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CycloneDX 1.7's `<expression-detailed>` becomes the JSON schema's license choice.
    #[test]
    fn expression_detailed_is_the_json_expression_with_its_details() {
        let doc = br#"<bom xmlns="http://cyclonedx.org/schema/bom/1.7"><components><component type="library"><name>a</name><licenses>
<expression-detailed acknowledgement="declared" expression="MIT OR GPL-2.0">
<details bom-ref="d1" license-identifier="GPL-2.0"><text content-type="text/plain">gpl</text></details>
<details license-identifier="MIT"><url>https://example.com/mit</url></details>
</expression-detailed></licenses></component></components></bom>"#;
        let bom = to_json(doc, "CycloneDX XML").expect("reads");
        assert_eq!(
            bom["components"][0]["licenses"],
            serde_json::json!([{
                "acknowledgement": "declared",
                "expression": "MIT OR GPL-2.0",
                "expressionDetails": [
                    {"bom-ref": "d1", "licenseIdentifier": "GPL-2.0",
                     "text": {"contentType": "text/plain", "content": "gpl"}},
                    {"licenseIdentifier": "MIT", "url": "https://example.com/mit"}
                ]
            }])
        );
    }
}
