//! The gate input as a gate holds it: the members read for this gate, and the lists of the
//! kept gather, borrowed rather than copied into one tree. It serializes exactly as the
//! whole input would as one JSON object (members in key order), so the signed decision is
//! the same document; the policy engine takes the kept lists in its own values, and the
//! signed bytes take them as serialized once.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::gathered::Gathered;

/// The gate input (`andon.gate/v1`, docs/gates.md) in two parts.
pub struct Input {
    /// Every member but the gather's lists: an object.
    pub rest: Value,
    /// `evidence`, `commits` and `deployments`.
    pub gathered: Arc<Gathered>,
}

impl Input {
    /// Every member, in key order (the order of a JSON object's members once serialized).
    fn members(&self) -> Vec<(&str, &Value)> {
        let g = &self.gathered;
        let mut all: Vec<(&str, &Value)> = self
            .rest
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v))
            .chain([
                ("evidence", &g.evidence),
                ("commits", &g.commits),
                ("deployments", &g.deployments),
            ])
            .collect();
        all.sort_by_key(|(k, _)| *k);
        all
    }

    /// The whole input as one value.
    pub fn whole(&self) -> Value {
        Value::Object(
            self.members()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.clone()))
                .collect(),
        )
    }

    /// The policy's evaluation of this input, the gather's lists taken in the engine's
    /// values.
    pub fn evaluate(&self, policy: &andon_policy::Policy) -> andon_policy::Evaluation {
        policy.evaluate_prepared(&self.rest, &self.gathered.prepared())
    }
}

/// One member's value: read for this gate, or one of the gather's lists as serialized once.
enum Member<'a> {
    Value(&'a Value),
    Serialized(&'a RawValue),
}

impl Serialize for Member<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(v) => v.serialize(serializer),
            Self::Serialized(v) => v.serialize(serializer),
        }
    }
}

impl Serialize for Input {
    /// Member by member in key order, the gather's lists as they were serialized once when
    /// gathered: the same bytes as the whole input serialized as one object.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let [evidence, commits, deployments] = &self.gathered.serialized;
        let mut members: Vec<(&str, Member<'_>)> = self
            .rest
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), Member::Value(v)))
            .chain([
                ("evidence", Member::Serialized(evidence)),
                ("commits", Member::Serialized(commits)),
                ("deployments", Member::Serialized(deployments)),
            ])
            .collect();
        members.sort_by_key(|(k, _)| *k);
        let mut map = serializer.serialize_map(Some(members.len()))?;
        for (k, v) in members {
            map.serialize_entry(k, &v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_input_in_two_parts_serializes_as_the_whole_input() {
        let gathered = Arc::new(Gathered::new(
            vec![
                json!({"kind": "tests", "id": "e1"}),
                // Escapes, non-ASCII text and a float are written as the whole input's.
                json!({"kind": "coverage", "id": "e2", "line": 81.25, "note": "\"ü\"\n\u{1}"}),
            ],
            vec![json!({"sha": "abc"})],
            Vec::new(),
        ));
        let rest = json!({
            "version": "andon.gate/v1", "time": "2026-12-08T00:00:00Z", "application": "pay",
            "waivers": [], "change": null, "drills": {"risk": null, "last": null},
        });
        let input = Input { rest, gathered };
        let whole = input.whole();
        assert_eq!(whole["evidence"][0]["id"], "e1");
        assert_eq!(whole["application"], "pay");
        assert_eq!(
            serde_json::to_vec(&input).expect("serialized"),
            serde_json::to_vec(&whole).expect("serialized")
        );
    }
}
