//! A CycloneDX XML document as the JSON its own serialization would be, for the readers that
//! work on the JSON form: an element's attributes and children become an object's fields, a
//! text-only element a string, and CycloneDX's list containers (`<components>` of
//! `<component>`, `<vulnerabilities>` of `<vulnerability>`, ...) arrays, as the JSON schema
//! has them. Read with the crate's hostile-input-safe XML reader.

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
        if LISTS.iter().any(|(list, _)| *list == self.name) && !self.items.is_empty() {
            return Value::Array(self.items);
        }
        if self.fields.is_empty() {
            return Value::String(self.text.trim().to_owned());
        }
        Value::Object(self.fields)
    }

    /// Takes a finished child.
    fn add(&mut self, name: String, value: Value) {
        if LISTS
            .iter()
            .any(|(list, item)| *list == self.name && *item == name)
        {
            self.items.push(value);
        } else {
            self.fields.insert(name, value);
        }
    }
}

/// The document's `<bom>` as CycloneDX JSON (with `bomFormat` set), or why not.
pub(crate) fn to_json(doc: &[u8], format: &'static str) -> Result<Value, ParseError> {
    let mut xml = Xml::new(doc, format)?;
    let mut stack: Vec<Open> = Vec::new();
    loop {
        match xml.next()? {
            Event::Start(ref e) => {
                if stack.is_empty() && e.local_name().as_ref() != "bom" {
                    return Err(xml.malformed(format!(
                        "the root element is <{}>, not CycloneDX's <bom>",
                        e.local_name().as_ref()
                    )));
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
                        return Ok(Value::Object(bom));
                    }
                }
            }
            Event::Eof => return Err(xml.malformed("the document ends inside <bom>")),
            _ => {}
        }
    }
}
