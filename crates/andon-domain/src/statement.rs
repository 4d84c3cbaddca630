//! in-toto attestation Statement v1: the payload of every evidence envelope.

use serde::{Deserialize, Serialize};

use crate::{DomainError, Sha256Digest};

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_V1_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The `_type` of the older Statement v0.1, still emitted with SLSA provenance v0.2.
const STATEMENT_V01_TYPE: &str = "https://in-toto.io/Statement/v0.1";
/// The DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// One subject of a statement: an artifact and its digests.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Subject {
    /// The artifact's name.
    #[serde(default)]
    pub name: String,
    /// Digests by algorithm; Andon reads `sha256`, `sha384`, `sha512` and `gitCommit`
    /// and needs one of them.
    pub digest: std::collections::BTreeMap<String, String>,
}

/// A validated in-toto Statement: known `_type`, at least one subject, each with a
/// well-formed sha256, sha512, sha384 or gitCommit digest, and a predicate type.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Statement {
    /// The statement type URI.
    #[serde(rename = "_type")]
    pub type_: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate's type URI, e.g. `https://slsa.dev/provenance/v1`.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The predicate itself.
    #[serde(default)]
    pub predicate: serde_json::Value,
}

impl Statement {
    /// A new v1 statement about `subjects`.
    pub fn new(
        subjects: Vec<(String, Sha256Digest)>,
        predicate_type: String,
        predicate: serde_json::Value,
    ) -> Self {
        Statement {
            type_: STATEMENT_V1_TYPE.to_owned(),
            subject: subjects
                .into_iter()
                .map(|(name, d)| Subject {
                    name,
                    digest: [("sha256".to_owned(), d.hex())].into_iter().collect(),
                })
                .collect(),
            predicate_type,
            predicate,
        }
    }

    /// Signs the statement into a DSSE envelope and returns the envelope's JSON, exactly as a
    /// pipeline sends it.
    pub fn sign(&self, key: &impl crate::Signer) -> Vec<u8> {
        self.sign_by(&[key])
    }

    /// Serialises and wraps in a DSSE envelope signed by each of `keys`; returns the
    /// envelope's JSON bytes.
    pub fn sign_by(&self, keys: &[&dyn crate::Signer]) -> Vec<u8> {
        // Serialising these plain structs and JSON values cannot fail.
        let payload = serde_json::to_vec(self).unwrap_or_default();
        serde_json::to_vec(&crate::Envelope::sign_by(
            IN_TOTO_PAYLOAD_TYPE,
            &payload,
            keys,
        ))
        .unwrap_or_default()
    }

    /// Parses and validates the payload of an envelope of type `payload_type`.
    pub fn parse(payload_type: &str, payload: &[u8]) -> Result<Self, DomainError> {
        if payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(DomainError::MalformedStatement(format!(
                "payloadType is {payload_type:?}, expected {IN_TOTO_PAYLOAD_TYPE:?}"
            )));
        }
        let st: Statement = serde_json::from_slice(payload)
            .map_err(|e| DomainError::MalformedStatement(e.to_string()))?;
        if st.type_ != STATEMENT_V1_TYPE && st.type_ != STATEMENT_V01_TYPE {
            return Err(DomainError::MalformedStatement(format!(
                "_type is {:?}, expected {STATEMENT_V1_TYPE:?}",
                st.type_
            )));
        }
        if st.subject.is_empty() {
            return Err(DomainError::MalformedStatement(
                "the statement has no subject".into(),
            ));
        }
        if st.predicate_type.trim().is_empty() {
            return Err(DomainError::MalformedStatement(
                "predicateType is empty".into(),
            ));
        }
        for (i, s) in st.subject.iter().enumerate() {
            let known = crate::subject::known_digests(&s.digest).map_err(|e| {
                let DomainError::MalformedDigest(d) = e else {
                    return DomainError::MalformedStatement(e.to_string());
                };
                let alg = d.split(':').next().unwrap_or_default();
                DomainError::MalformedStatement(format!(
                    "subject {i} has a malformed {alg} digest {d:?}"
                ))
            })?;
            if known.is_empty() {
                return Err(DomainError::MalformedStatement(format!(
                    "subject {i} has no sha256, sha512, sha384 or gitCommit digest"
                )));
            }
        }
        Ok(st)
    }

    /// The subjects as the ledger records them: each with its primary digest and the other
    /// known ones (validated by [`Statement::parse`]).
    pub fn subject_refs(&self) -> Vec<crate::SubjectRef> {
        self.subject
            .iter()
            .filter_map(|s| {
                let mut known = crate::subject::known_digests(&s.digest).ok()?.into_iter();
                Some(crate::SubjectRef {
                    name: s.name.clone(),
                    digest: known.next()?,
                    also: known.collect(),
                })
            })
            .collect()
    }

    /// The names and sha256 digests of the subjects that have one (validated by
    /// [`Statement::parse`]).
    pub fn subject_digests(&self) -> Vec<(String, Sha256Digest)> {
        self.subject
            .iter()
            .filter_map(|s| {
                let d = Sha256Digest::from_hex(s.digest.get("sha256")?).ok()?;
                Some((s.name.clone(), d))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(subject_digest: &str) -> Vec<u8> {
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"app","digest":{{"sha256":"{subject_digest}"}}}}],"predicateType":"https://example.com/p/v1","predicate":{{"ok":true}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn a_well_formed_statement_parses() {
        let hex = "a".repeat(64);
        let st = Statement::parse(IN_TOTO_PAYLOAD_TYPE, &payload(&hex)).expect("valid");
        assert_eq!(st.predicate_type, "https://example.com/p/v1");
        assert_eq!(st.subject_digests()[0].1.hex(), hex);
    }

    #[test]
    fn malformed_subject_digests_are_named() {
        let err = Statement::parse(IN_TOTO_PAYLOAD_TYPE, &payload("abc")).unwrap_err();
        assert!(
            err.to_string().contains("subject 0 has a malformed sha256"),
            "{err}"
        );
    }

    #[test]
    fn a_foreign_payload_type_is_rejected() {
        let hex = "a".repeat(64);
        assert!(Statement::parse("text/plain", &payload(&hex)).is_err());
    }
}
