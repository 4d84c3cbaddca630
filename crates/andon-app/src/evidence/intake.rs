//! Evidence intake.
//!
//! Intake checks everything before anything is written: the request (role, application
//! scope, run id, evidence type), the envelope, the statement and its subject digests, the
//! signing key (known, not revoked, registered to an identity allowed for the application)
//! and the signature (or, for a keyless Sigstore bundle, the bundle against the registered
//! trusted roots and its signer against the application's keyless policy). Only then does
//! the fact go to the sequencer. A rejected request therefore leaves no row, document or
//! ledger entry.

use andon_domain::api::Receipt;
use andon_domain::query::evidence::SubmitQuery;
use andon_domain::scm::{PIPELINE_DEFINITION_PREDICATE_V1, REVIEW_PREDICATE_V1};
use andon_domain::sigstore::{self, KeylessSignature};
use andon_domain::{
    AppName, DomainError, Envelope, EvidenceFact, KeyId, PublicKey, REPORT_PREDICATES,
    ReportPredicate, Role, Sha256Digest, SignatureCheck, Statement, SubjectDigest, SubjectRef,
    VerifiedEnvelope, report_kind,
};

use super::summary::{CYCLONEDX_PREDICATE, Derived, SPDX_PREDICATE, check_schema, derive};
use crate::{Actor, App, AppError, ErrorKind, Fact};

/// The evidence types `?type=` accepts, for error messages.
const KNOWN_TYPES: &str = "generic, junit, coverage, sarif, sbom, vulnerabilities, hardening, secrets, dast, provenance, review, pipeline-definition";

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

impl Intake {
    /// The fact to append for an evidence entry checked whole, with its document.
    fn fact(
        &self,
        fact: EvidenceFact,
        body: &[u8],
        components: Vec<andon_store::SbomComponent>,
    ) -> Fact {
        Fact::Evidence {
            id: fact.document.hex(),
            fact,
            document: body.to_vec(),
            components: std::sync::Arc::new(components),
            actor: self.actor.clone(),
            via: self.via.clone(),
        }
    }
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
    let moves = moves_items(&fact);
    let receipt = app.append(fact).await?;
    if let Some(application) = moves {
        crate::vulns::items::after_evidence(app, &application).await;
    }
    Ok(receipt)
}

/// The application whose vulnerability items an evidence fact may move: an SBOM (a fix
/// built) or a report with VEX statements (a vulnerability cleared).
fn moves_items(fact: &Fact) -> Option<String> {
    match fact {
        Fact::Evidence {
            fact, components, ..
        } if !components.is_empty()
            || fact
                .summary
                .as_ref()
                .is_some_and(|s| s["statements"].as_array().is_some_and(|a| !a.is_empty())) =>
        {
            Some(fact.application.to_string())
        }
        _ => None,
    }
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
    let moves: std::collections::BTreeSet<String> = facts.iter().filter_map(moves_items).collect();
    let receipts = app.append_all(facts).await?;
    for application in moves {
        crate::vulns::items::after_evidence(app, &application).await;
    }
    Ok(receipts)
}

/// Checks one envelope completely (statement, predicate type, key, scope, signature) and
/// returns the fact to append. Writes nothing.
async fn check_envelope(app: &App, intake: &Intake, body: &[u8]) -> Result<Fact, AppError> {
    let submitted = sigstore::classify(body)?;
    if let sigstore::Submitted::Keyless(Some(digest)) = submitted {
        return check_message_signature(app, intake, body, digest);
    }
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
    let (statement, derived) = derive_typed(app, statement).await?;
    let application = &intake.application;
    let mode = app.with_authority(|a| a.evidence_policy(application.as_str()).0);
    check_schema(derived.summary.as_ref(), mode)?;
    let signed = if submitted == sigstore::Submitted::Keyless(None) {
        verify_keyless(app, body, &statement, application.as_str())?
    } else {
        verify_signatures(app, &envelope, application.as_str())?
    };
    let document = Sha256Digest::of(body);
    let (binding, components) = match derived.components {
        Some((b, rows)) => (Some(b), rows),
        None => (None, Vec::new()),
    };
    let fact = EvidenceFact {
        document,
        application: application.clone(),
        run: intake.run.clone(),
        predicate_type: statement.predicate_type.clone(),
        subjects: statement.subject_refs(),
        keyid: signed.keyid,
        signer: signed.signer,
        cosigners: signed.cosigners,
        unverified_signatures: signed.unverified,
        keyless: signed.keyless,
        summary: derived.summary,
        commits: derived.commits,
        scm: derived.scm,
        report: derived.report,
        components: binding,
    };
    Ok(intake.fact(fact, body, components))
}

/// Derives the summary of a typed statement; for a report uploaded on its own, reads and
/// checks its bytes first, and parses them off the async workers (a large report takes
/// seconds).
async fn derive_typed(app: &App, statement: Statement) -> Result<(Statement, Derived), AppError> {
    let stored = if let Some(kind) = report_kind(&statement.predicate_type) {
        let limit = app.config().report_limit(kind);
        if let Some(size) = ReportPredicate::size(&statement.predicate)
            && size > limit
        {
            return Err(super::reports::too_large_for(kind, size, limit));
        }
        ReportPredicate::stored(&statement.predicate)?
    } else {
        None
    };
    let Some(stored) = stored else {
        let derived = derive(&statement, &app.config().ticket_patterns, None)?;
        return Ok((statement, derived));
    };
    let bytes = super::reports::resolve(app, stored).await?;
    let worker = app.clone();
    tokio::task::spawn_blocking(move || {
        let derived = derive(
            &statement,
            &worker.config().ticket_patterns,
            Some((stored, bytes)),
        )?;
        Ok((statement, derived))
    })
    .await
    .map_err(|e| AppError::new(ErrorKind::InternalServerError, "internal", e.to_string()))?
}

/// A message-signature bundle: it signs an artifact (its digest) rather than a statement.
/// Accepted keylessly only, as generic evidence about that digest (predicate type
/// [`sigstore::MESSAGE_SIGNATURE_PREDICATE`], the subject named `artifact`), with the signer
/// its certificate names.
fn check_message_signature(
    app: &App,
    intake: &Intake,
    body: &[u8],
    digest: SubjectDigest,
) -> Result<Fact, AppError> {
    if let Some((kind, _)) = &intake.kind {
        return Err(AppError::new(
            ErrorKind::UnprocessableEntity,
            "unknown_predicate_type",
            format!(
                "a message-signature bundle signs an artifact, not a {kind} report: send it without a type"
            ),
        ));
    }
    let application = &intake.application;
    let signed = verify_keyless_of(app, body, &digest, application.as_str())?;
    let document = Sha256Digest::of(body);
    let fact = EvidenceFact {
        document,
        application: application.clone(),
        run: intake.run.clone(),
        predicate_type: sigstore::MESSAGE_SIGNATURE_PREDICATE.to_owned(),
        subjects: vec![SubjectRef {
            name: "artifact".into(),
            digest,
            also: Vec::new(),
        }],
        keyid: signed.keyid,
        signer: signed.signer,
        cosigners: Vec::new(),
        unverified_signatures: Vec::new(),
        keyless: signed.keyless,
        summary: None,
        commits: Vec::new(),
        scm: None,
        report: None,
        components: None,
    };
    Ok(intake.fact(fact, body, Vec::new()))
}

/// Who signed an envelope, as intake accepts it.
struct Signed {
    /// The first registered key whose signature verifies: the entry's signer key.
    keyid: KeyId,
    /// Its owner.
    signer: String,
    /// The other registered keys whose signatures verify.
    cosigners: Vec<KeyId>,
    /// The keyid hints of the signatures no registered key verifies.
    unverified: Vec<String>,
    /// For a keyless bundle, who its certificate says signed.
    keyless: Option<KeylessSignature>,
}

/// Checks a keyless Sigstore bundle: verified offline against the registered trusted roots
/// (certificate chain, SCT, transparency log, signature), bound to the statement's first
/// subject, and its signer admitted by the application's keyless policy
/// ([`crate::authority::Authority::admit_keyless`], which the sequencer applies again).
fn verify_keyless(
    app: &App,
    body: &[u8],
    statement: &Statement,
    application: &str,
) -> Result<Signed, AppError> {
    let subjects = statement.subject_refs();
    let digest = &subjects
        .first()
        .ok_or_else(|| {
            AppError::bad_request("malformed_statement", "the statement has no subject")
        })?
        .digest;
    verify_keyless_of(app, body, digest, application)
}

/// A keyless bundle checked against the registered trusted roots, bound to `digest`, its
/// signer admitted by the application's keyless policy.
fn verify_keyless_of(
    app: &App,
    body: &[u8],
    digest: &SubjectDigest,
    application: &str,
) -> Result<Signed, AppError> {
    let roots = app.with_authority(|a| a.sigstore_roots());
    let verified =
        sigstore::verify_bundle(body, (digest.algorithm().as_str(), digest.hex()), &roots)?;
    app.with_authority(|a| a.admit_keyless(application, &verified.signature))?;
    Ok(Signed {
        keyid: verified.key,
        signer: verified.signature.identity.clone(),
        cosigners: Vec::new(),
        unverified: Vec::new(),
        keyless: Some(verified.signature),
    })
}

/// Checks the envelope's signatures against the keys registered to the pipelines allowed for
/// `application`. A signature's keyid is a hint (DSSE makes it optional, and tools write
/// different forms): the keys the hints name are tried first, then, for the signatures left
/// unverified, every key of the application. The envelope is accepted when as many distinct
/// registered keys verify as the application's threshold ([`crate::authority::Authority::admit_signers`]);
/// signatures no registered key verifies are recorded as unverified. The sequencer applies
/// the same rule again where the entry is ordered.
fn verify_signatures(
    app: &App,
    env: &VerifiedEnvelope,
    application: &str,
) -> Result<Signed, AppError> {
    let (named, refusal) = app.with_authority(|a| {
        let mut named: Vec<(KeyId, PublicKey, String)> = Vec::new();
        let mut refusal: Option<AppError> = None;
        for hint in env.key_ids() {
            match a.key_for(hint, application) {
                Ok(Some(k)) => {
                    if let Ok(id) = k.keyid.parse::<KeyId>() {
                        named.push((id, k.key.clone(), k.identity.clone()));
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    refusal.get_or_insert(e);
                }
            }
        }
        (named, refusal)
    });
    let mut candidates = named.clone();
    let mut check = check_with(env, &candidates);
    if !check.unverified.is_empty() {
        // Only the signatures the named keys left unverified are tried again, against every
        // key of the application.
        candidates = app.with_authority(|a| a.application_keys(application));
        check = env.recheck(check, &pairs(&candidates));
    }
    let owner = |id: &KeyId| {
        candidates
            .iter()
            .find(|(k, _, _)| k == id)
            .map(|(_, _, o)| o.clone())
            .unwrap_or_default()
    };
    if !check.verified.is_empty() {
        app.with_authority(|a| {
            a.admit_signers(
                application,
                check.verified.iter().map(KeyId::as_str),
                app.now(),
            )
        })?;
    }
    let mut verified = check.verified.into_iter();
    let Some(keyid) = verified.next() else {
        if let Some(e) = refusal {
            return Err(e);
        }
        if let Some((id, _, _)) = named.first() {
            return Err(DomainError::BadSignature(id.to_string()).into());
        }
        let hints: Vec<&str> = env.key_ids().filter(|h| !h.is_empty()).collect();
        let named = if hints.is_empty() {
            String::new()
        } else {
            format!(" (the signatures name {})", hints.join(", "))
        };
        return Err(AppError::forbidden(
            "unknown_key",
            format!(
                "no signature verifies with a key registered to a pipeline of application {application}{named}"
            ),
        ));
    };
    Ok(Signed {
        signer: owner(&keyid),
        keyid,
        cosigners: verified.collect(),
        unverified: check.unverified,
        keyless: None,
    })
}

fn pairs(keys: &[(KeyId, PublicKey, String)]) -> Vec<(KeyId, PublicKey)> {
    keys.iter()
        .map(|(id, k, _)| (id.clone(), k.clone()))
        .collect()
}

fn check_with(env: &VerifiedEnvelope, keys: &[(KeyId, PublicKey, String)]) -> SignatureCheck {
    env.check_signatures(&pairs(keys))
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
            sso: None,
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
