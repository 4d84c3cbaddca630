//! Evidence intake.
//!
//! Intake checks everything before anything is written: the request (role, application
//! scope, run id, evidence type), the envelope, the statement and its subject digests, the
//! signing key (known, not revoked, registered to an identity allowed for the application)
//! and the signature. Only then does the fact go to the sequencer. A rejected request
//! therefore leaves no row, document or ledger entry.

use andon_domain::api::Receipt;
use andon_domain::query::evidence::SubmitQuery;
use andon_domain::scm::{PIPELINE_DEFINITION_PREDICATE_V1, REVIEW_PREDICATE_V1};
use andon_domain::{
    AppName, Envelope, EvidenceFact, KeyId, REPORT_PREDICATES, Role, Sha256Digest, Statement,
    SubjectRef, VerifiedEnvelope, VerifyingKey,
};

use super::summary::{CYCLONEDX_PREDICATE, SPDX_PREDICATE, derive};
use crate::{Actor, App, AppError, ErrorKind, Fact};

/// The evidence types `?type=` accepts, for error messages.
const KNOWN_TYPES: &str = "generic, junit, coverage, sarif, sbom, vulnerabilities, provenance, review, pipeline-definition";

/// The most envelopes one batch request may carry.
pub const MAX_BATCH_ENVELOPES: usize = 1000;

/// The predicate types a typed submission (`?type=`) accepts; `generic` takes any (none
/// listed). `None` for a type Andon does not know.
fn typed_predicates(kind: &str) -> Option<Vec<&'static str>> {
    if kind == "sbom" {
        return Some(vec![
            andon_domain::SBOM_PREDICATE_V1,
            CYCLONEDX_PREDICATE,
            SPDX_PREDICATE,
        ]);
    }
    if let Some((_, p)) = REPORT_PREDICATES.iter().find(|(k, _)| *k == kind) {
        return Some(vec![*p]);
    }
    Some(match kind {
        "generic" => vec![],
        "review" => vec![REVIEW_PREDICATE_V1],
        "pipeline-definition" => vec![PIPELINE_DEFINITION_PREDICATE_V1],
        "provenance" => vec![
            "https://slsa.dev/provenance/v1",
            "https://slsa.dev/provenance/v0.2",
        ],
        _ => return None,
    })
}

/// What a submission request says about all its envelopes, checked once by
/// [`check_request`]: holding one means the caller may submit for its application.
pub struct Intake {
    actor: String,
    via: Option<andon_domain::Via>,
    application: AppName,
    run: Option<String>,
    kind: Option<(String, Vec<&'static str>)>,
}

/// Refuses a caller that may not submit evidence (only pipelines may). Intake checks this
/// first, so a caller that may not submit learns nothing about its request.
pub fn check_submitter(actor: &Actor) -> Result<(), AppError> {
    actor.require(&[Role::Pipeline])
}

/// Checks a submission request: the caller, its scope for the application, the run id and
/// the evidence type.
pub fn check_request(actor: &Actor, q: SubmitQuery) -> Result<Intake, AppError> {
    check_submitter(actor)?;
    let application: AppName = q.app.parse()?;
    if !actor.applications.iter().any(|a| a == application.as_str()) {
        return Err(AppError::forbidden(
            "application_not_allowed",
            format!(
                "{} may not submit evidence for application {application}",
                actor.name
            ),
        ));
    }
    if let Some(run) = &q.run
        && (run.is_empty() || run.len() > 256)
    {
        return Err(AppError::bad_request(
            "invalid_run",
            "a run id is 1 to 256 characters",
        ));
    }
    let kind = match q.kind {
        None => None,
        Some(k) => {
            let types = typed_predicates(&k).ok_or_else(|| {
                AppError::bad_request(
                    "unknown_type",
                    format!("unknown evidence type {k:?}; known: {KNOWN_TYPES}"),
                )
            })?;
            Some((k, types))
        }
    };
    Ok(Intake {
        actor: actor.name.clone(),
        via: actor.via.clone(),
        application,
        run: q.run,
        kind,
    })
}

/// `POST /v1/evidence`: checks one DSSE envelope completely and records it (an envelope
/// already recorded answers its first receipt, `existing`).
pub async fn submit(app: &App, intake: &Intake, body: &[u8]) -> Result<Receipt, AppError> {
    let fact = check_envelope(app, intake, body).await?;
    app.append(fact).await
}

/// `POST /v1/evidence/batch`: a JSON array of DSSE envelopes, as a CI job sends the
/// attestations of one run together. Every envelope is checked before any is written; one
/// bad envelope refuses the whole request, naming its position. Each envelope keeps its own
/// identity (the sha256 of its exact JSON text), so re-sending is idempotent per envelope.
/// One receipt per envelope, in order.
pub async fn submit_batch(
    app: &App,
    intake: &Intake,
    body: &[u8],
) -> Result<Vec<Receipt>, AppError> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request(
            "malformed_envelope",
            format!("the body is not a JSON array of envelopes: {e}"),
        )
    })?;
    if items.is_empty() || items.len() > MAX_BATCH_ENVELOPES {
        return Err(AppError::bad_request(
            "bad_batch_size",
            format!(
                "a batch holds 1 to {MAX_BATCH_ENVELOPES} envelopes, not {}",
                items.len()
            ),
        ));
    }
    let mut facts = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        let fact = check_envelope(app, intake, raw.get().as_bytes())
            .await
            .map_err(|e| AppError {
                message: format!("envelope {i}: {}", e.message),
                ..e
            })?;
        facts.push(fact);
    }
    app.append_all(facts).await
}

/// Checks one envelope completely (statement, predicate type, key, scope, signature) and
/// returns the fact to append. Writes nothing.
async fn check_envelope(app: &App, intake: &Intake, body: &[u8]) -> Result<Fact, AppError> {
    let envelope = Envelope::parse(body)?;
    let statement = Statement::parse(&envelope.payload_type, &envelope.payload)?;
    if let Some((kind, types)) = &intake.kind
        && !types.is_empty()
        && !types.contains(&statement.predicate_type.as_str())
    {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "unknown_predicate_type",
            format!(
                "predicate type {:?} is not one of the {kind} types: {}",
                statement.predicate_type,
                types.join(", ")
            ),
        ));
    }
    let derived = derive(&statement, &app.config().ticket_patterns)?;
    let application = &intake.application;
    let (keyid, owner, verifying) = signing_key(app, &envelope, application.as_str())?;
    envelope.verify(&verifying)?;
    let document = Sha256Digest::of(body);
    let fact = EvidenceFact {
        document,
        application: application.clone(),
        run: intake.run.clone(),
        predicate_type: statement.predicate_type.clone(),
        subjects: statement
            .subject_digests()
            .into_iter()
            .map(|(name, digest)| SubjectRef { name, digest })
            .collect(),
        keyid: keyid.parse::<KeyId>()?,
        signer: owner,
        summary: derived.summary,
        commits: derived.commits,
        scm: derived.scm,
    };
    Ok(Fact::Evidence {
        id: document.hex(),
        fact,
        document: body.to_vec(),
        actor: intake.actor.clone(),
        via: intake.via.clone(),
    })
}

/// Finds the registered, unrevoked key named by one of the envelope's signatures, as the
/// ledger registered it, and checks its owner is a pipeline allowed for `application`:
/// (key id, owner, key). The sequencer checks the key again where the entry is ordered.
fn signing_key(
    app: &App,
    env: &VerifiedEnvelope,
    application: &str,
) -> Result<(String, String, VerifyingKey), AppError> {
    let mut named = Vec::new();
    for keyid in env.key_ids() {
        if keyid.is_empty() {
            continue;
        }
        named.push(keyid.to_owned());
        let found = app.with_authority(|a| {
            let Some(k) = a.signing_key(keyid)? else {
                return Ok(None);
            };
            let allowed = a.identity(&k.identity).is_some_and(|i| {
                i.role == Role::Pipeline && i.applications.iter().any(|x| x == application)
            });
            if !allowed {
                return Err(AppError::forbidden(
                    "key_not_allowed",
                    format!(
                        "key {keyid} belongs to {}, which is not allowed for application {application}",
                        k.identity
                    ),
                ));
            }
            Ok(Some((k.keyid.clone(), k.identity.clone(), k.key)))
        })?;
        if let Some(hit) = found {
            return Ok(hit);
        }
    }
    if named.is_empty() {
        return Err(AppError::bad_request(
            "missing_keyid",
            "every signature must name its key in keyid",
        ));
    }
    Err(AppError::forbidden(
        "unknown_key",
        format!("no registered key {}", named.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, applications: &[&str]) -> Actor {
        Actor {
            name: "ci".into(),
            role,
            applications: applications.iter().map(|a| a.to_string()).collect(),
            groups: vec![],
            via: None,
        }
    }

    fn query(app: &str, run: Option<&str>, kind: Option<&str>) -> SubmitQuery {
        SubmitQuery {
            app: app.into(),
            run: run.map(Into::into),
            kind: kind.map(Into::into),
        }
    }

    fn refusal(r: Result<Intake, AppError>) -> (ErrorKind, &'static str) {
        match r {
            Ok(_) => panic!("the request should be refused"),
            Err(e) => (e.kind, e.code),
        }
    }

    #[test]
    fn only_a_pipeline_scoped_to_the_application_may_submit() {
        let q = || query("shop", None, None);
        assert_eq!(
            refusal(check_request(&actor(Role::Admin, &[]), q())),
            (ErrorKind::Forbidden, "forbidden")
        );
        assert_eq!(
            refusal(check_request(&actor(Role::Pipeline, &["other"]), q())),
            (ErrorKind::Forbidden, "application_not_allowed")
        );
        let intake = check_request(&actor(Role::Pipeline, &["shop"]), q()).expect("allowed");
        assert_eq!(intake.application.as_str(), "shop");
        assert_eq!(intake.actor, "ci");
    }

    #[test]
    fn run_ids_and_types_are_checked() {
        let ci = actor(Role::Pipeline, &["shop"]);
        let long = "r".repeat(257);
        for run in ["", long.as_str()] {
            assert_eq!(
                refusal(check_request(&ci, query("shop", Some(run), None))),
                (ErrorKind::BadRequest, "invalid_run")
            );
        }
        assert_eq!(
            refusal(check_request(&ci, query("shop", None, Some("poem")))),
            (ErrorKind::BadRequest, "unknown_type")
        );
        let typed = check_request(&ci, query("shop", Some("42"), Some("review"))).expect("ok");
        assert_eq!(typed.run.as_deref(), Some("42"));
        assert_eq!(
            typed.kind,
            Some(("review".to_owned(), vec![REVIEW_PREDICATE_V1]))
        );
    }

    #[test]
    fn each_type_names_its_predicates_and_generic_takes_any() {
        assert_eq!(typed_predicates("generic"), Some(vec![]));
        assert_eq!(typed_predicates("sbom").map(|p| p.len()), Some(3));
        assert!(
            typed_predicates("provenance")
                .expect("known")
                .contains(&"https://slsa.dev/provenance/v1")
        );
        for kind in KNOWN_TYPES.split(", ") {
            assert!(
                typed_predicates(kind).is_some(),
                "{kind} is listed as known"
            );
        }
        assert_eq!(typed_predicates("poem"), None);
    }
}
