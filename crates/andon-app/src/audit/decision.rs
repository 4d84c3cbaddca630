//! A `gate.decision` entry means what its signed decision says: the envelope it binds is
//! signed by the log key in force at the entry, and every field the entry records (the
//! verdict above all) equals the signed one.

use andon_domain::gate::{DECISION_PAYLOAD_TYPE, DecisionDoc};
use andon_domain::{EntryKind, Envelope, PublicKey};
use serde_json::{Value, json};

use super::keys::LogKeys;
use super::rules::{EntryRule, Finding, Subject};

/// The rule (see the module).
pub struct DecisionMeaning {
    /// Whether the envelope's signature is checked too. An audit package checks each entry
    /// by its inclusion proof and the envelope by the digest its entry binds, but holds
    /// only the current log key: it checks the meaning alone.
    pub signatures: bool,
}

impl EntryRule for DecisionMeaning {
    fn check(&mut self, e: &Subject<'_>, keys: &mut LogKeys, out: &mut Vec<Finding>) {
        if e.entry.kind != EntryKind::GateDecision {
            return;
        }
        // A missing document is the documents rule's finding.
        let Some(doc) = e.document else {
            return;
        };
        let env = match Envelope::parse(doc) {
            Ok(env) => env,
            Err(err) => {
                out.push(Finding::new(
                    "meaning",
                    format!("its signed decision is not a DSSE envelope: {err}"),
                ));
                return;
            }
        };
        let key = keys.at(e.index);
        let signed = PublicKey::ed25519(&key.public_key())
            .ok()
            .is_some_and(|k| env.verify(&k).is_ok());
        if self.signatures && (!signed || env.payload_type != DECISION_PAYLOAD_TYPE) {
            out.push(Finding::new(
                "signature",
                format!(
                    "its decision is not signed by the log key in force at entry {} ({key})",
                    e.index
                ),
            ));
        }
        let decision: DecisionDoc = match serde_json::from_slice(&env.payload) {
            Ok(d) => d,
            Err(err) => {
                out.push(Finding::new(
                    "meaning",
                    format!("its signed decision is not a decision document: {err}"),
                ));
                return;
            }
        };
        let denied: Vec<String> = decision
            .controls
            .iter()
            .filter(|c| !c.verdict.allows())
            .map(|c| c.id.clone())
            .collect();
        let signed_fields = json!({
            "application": decision.application,
            "environment": decision.environment,
            "artifact": decision.artifact,
            "allow": decision.allow,
            "policy": decision.policy,
            "denied_by": denied,
        });
        let body = &e.entry.body;
        for (field, want) in signed_fields.as_object().into_iter().flatten() {
            let have = body.get(field).unwrap_or(&Value::Null);
            if have != want {
                out.push(Finding::new(
                    "meaning",
                    format!(
                        "it records {field} {have} but the signed decision it binds says {want}"
                    ),
                ));
            }
        }
    }
}
