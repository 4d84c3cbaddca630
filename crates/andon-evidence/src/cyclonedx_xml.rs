//! A CycloneDX XML document as the JSON its own serialization would be, so the SBOM and the
//! vulnerability readers read one form and XML and JSON cannot disagree: an element's
//! attributes and children become an object's fields, a text-only element a string,
//! CycloneDX's list containers (`<components>` of `<component>`, `<vulnerabilities>` of
//! `<vulnerability>`, ...) arrays, `<licenses>` the JSON's `[{"license": ...},
//! {"expression": ...}]`, and the namespace's version `specVersion`. Read with the crate's
//! hostile-input-safe XML reader.

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

/// The version in a CycloneDX namespace (`http://cyclonedx.org/schema/bom/1.6`).
fn cyclonedx_version(ns: &str) -> Option<String> {
    let v = ns.strip_prefix("http://cyclonedx.org/schema/bom/")?;
    let (major, minor) = v.split_once('.')?;
    (major == "1" && !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
        .then(|| v.to_owned())
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
                    spec = cyclonedx_version(&ns).ok_or_else(|| {
                        xml.malformed(format!(
                            "<bom> is not in a CycloneDX namespace (http://cyclonedx.org/schema/bom/1.x): {ns:?}"
                        ))
                    })?;
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
