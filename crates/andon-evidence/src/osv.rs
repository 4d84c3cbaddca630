//! OSV records (ossf.github.io/osv-schema), as the OSV database, GitHub's advisory database
//! and `osv-scanner` write them: each checked against the vendored OSV schema before it is
//! read, so a record Andon imports is one every OSV tool would accept.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

/// Nesting bound of a record: OSV records are four or five levels deep.
const MAX_DEPTH: usize = 32;

fn validator() -> Option<&'static Validator> {
    static COMPILED: OnceLock<Option<Validator>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            let schema: Value =
                serde_json::from_str(include_str!("../schemas/osv.schema.json")).ok()?;
            jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .ok()
        })
        .as_ref()
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Checks one record against the OSV schema: `Err` lists the first failures (JSON pointer
/// and message), at most five.
pub fn check(record: &Value) -> Result<(), Vec<String>> {
    if depth(record) > MAX_DEPTH {
        return Err(vec![format!("nested deeper than {MAX_DEPTH} levels")]);
    }
    let Some(v) = validator() else {
        return Err(vec!["the vendored OSV schema does not compile".into()]);
    };
    let errors: Vec<String> = v
        .iter_errors(record)
        .take(5)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{}: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
