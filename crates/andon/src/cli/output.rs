//! Text or JSON output for read verbs.

use serde::Serialize;

/// How a verb prints its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// One JSON document for machines.
    Json,
}

/// Prints `value` as JSON, or calls `text` to print it for people.
pub fn emit<T: Serialize>(out: Output, value: &T, text: impl FnOnce(&T)) -> anyhow::Result<()> {
    match out {
        Output::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Output::Text => text(value),
    }
    Ok(())
}

/// A query string from flags: the ones given, in order.
pub fn query<'a>(flags: &[(&'a str, &Option<String>)]) -> Vec<(&'a str, String)> {
    flags
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (*k, v.clone())))
        .collect()
}

/// Prints the alerts an answer carries (`{"alerts": [...]}`), one line each, indented.
pub fn print_alerts(answer: &serde_json::Value, indent: &str) {
    for a in answer["alerts"].as_array().into_iter().flatten() {
        println!(
            "{indent}ALERT {} {}: {}",
            a["severity"].as_str().unwrap_or(""),
            a["kind"].as_str().unwrap_or(""),
            a["message"].as_str().unwrap_or("")
        );
    }
}
