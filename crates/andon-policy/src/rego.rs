//! Helpers over the Rego engine's values and module text, shared by compilation and
//! evaluation.

use serde_json::Value;

/// A Rego value as JSON (null when it has no JSON form).
pub(crate) fn to_json(v: &regorus::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The strings of the array at `key` of a JSON object (non-strings skipped); `None` when
/// there is no array there.
pub(crate) fn strings(v: &Value, key: &str) -> Option<Vec<String>> {
    v.get(key).and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

/// The package a module declares.
pub(crate) fn package_of(text: &str) -> Option<String> {
    regex::Regex::new(r"(?m)^package\s+([A-Za-z0-9_.]+)")
        .ok()?
        .captures(text)?
        .get(1)
        .map(|m| m.as_str().to_owned())
}
