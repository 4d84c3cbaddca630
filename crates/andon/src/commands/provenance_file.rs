//! What `andon attest provenance --file` accepts, as provenance generators hand it out: the
//! in-toto statement itself (npm's generator), a bare SLSA v1 predicate, a DSSE envelope
//! holding the statement (slsa-github-generator's `.intoto.jsonl`, one envelope per line),
//! or a Sigstore bundle whose DSSE envelope holds it. The generator's own signature is not
//! checked here: the statement is signed again with the pipeline's key, and the note says so.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use serde_json::Value;

/// The in-toto media type of a DSSE payload that is a statement.
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// The predicate type and predicate in `bytes`, and a note for the person when the statement
/// came out of an envelope or a bundle.
pub fn read(bytes: &[u8], file: &str) -> anyhow::Result<(String, Value, Option<String>)> {
    let doc = first_json(bytes).with_context(|| format!("{file} is not JSON"))?;
    let (statement, note) = if let Some(envelope) = doc.get("dsseEnvelope").filter(|_| {
        doc["mediaType"]
            .as_str()
            .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
    }) {
        (
            unwrap(envelope, file)?,
            Some(format!(
                "{file} is a Sigstore bundle: its statement is taken and signed with --key; the bundle's own signature and certificate are not checked here"
            )),
        )
    } else if doc.get("payloadType").is_some() && doc.get("payload").is_some() {
        (
            unwrap(&doc, file)?,
            Some(format!(
                "{file} is a DSSE envelope: its statement is taken and signed with --key; the generator's signature is not checked here"
            )),
        )
    } else {
        (doc, None)
    };
    Ok(
        match (
            statement.get("predicateType").and_then(Value::as_str),
            statement.get("predicate"),
        ) {
            (Some(t), Some(p)) => (t.to_owned(), p.clone(), note),
            _ if note.is_some() => {
                bail!("{file}: the envelope's statement has no predicateType and predicate")
            }
            _ => ("https://slsa.dev/provenance/v1".to_owned(), statement, None),
        },
    )
}

/// The document, or the first line of a JSON-lines file.
fn first_json(bytes: &[u8]) -> anyhow::Result<Value> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(whole) => {
            let mut lines = bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
            let first = lines.next().ok_or(whole)?;
            if lines.next().is_some() {
                bail!("it holds more than one JSON document (one envelope per file, please)");
            }
            Ok(serde_json::from_slice(first)?)
        }
    }
}

/// The statement a DSSE envelope carries.
fn unwrap(envelope: &Value, file: &str) -> anyhow::Result<Value> {
    let kind = envelope["payloadType"].as_str().unwrap_or_default();
    if kind != IN_TOTO {
        bail!("{file}: the envelope's payload is {kind:?}, not an in-toto statement ({IN_TOTO})");
    }
    let payload = envelope["payload"].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .with_context(|| format!("{file}: the envelope's payload is not base64"))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("{file}: the envelope's statement is not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str =
        include_str!("../../tests/fixtures/provenance/npm-provenance.intoto.jsonl");

    #[test]
    fn a_statement_comes_out_of_an_envelope_and_of_a_bundle_around_it() {
        let (t, p, note) = read(ENVELOPE.as_bytes(), "p.intoto.jsonl").expect("envelope");
        assert!(t.starts_with("https://slsa.dev/provenance/"), "{t}");
        assert!(p.get("buildDefinition").is_some(), "{p}");
        assert!(note.expect("a note").contains("DSSE envelope"));
        let envelope: Value = serde_json::from_str(ENVELOPE).expect("json");
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {},
            "dsseEnvelope": envelope,
        });
        let (bt, bp, note) = read(bundle.to_string().as_bytes(), "b.json").expect("bundle");
        assert_eq!((bt, bp), (t, p));
        assert!(note.expect("a note").contains("Sigstore bundle"));
    }

    #[test]
    fn what_is_not_a_statement_is_said_so() {
        let two = format!("{}{}", ENVELOPE, ENVELOPE);
        let e = read(two.as_bytes(), "two.jsonl").expect_err("two envelopes");
        assert!(
            format!("{e:#}").contains("more than one JSON document"),
            "{e:#}"
        );
        let other =
            serde_json::json!({"payloadType": "text/plain", "payload": "aGk=", "signatures": []});
        let e = read(other.to_string().as_bytes(), "o.json").expect_err("not in-toto");
        assert!(e.to_string().contains("not an in-toto statement"), "{e}");
        let (t, _, note) = read(br#"{"buildDefinition": {}}"#, "bare.json").expect("bare");
        assert_eq!((t.as_str(), note), ("https://slsa.dev/provenance/v1", None));
    }
}
