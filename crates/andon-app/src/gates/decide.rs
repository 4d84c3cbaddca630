//! The release gate: the versioned gate input, the policy's evaluation, the signed decision.
//!
//! A gate gathers everything Andon knows about an artifact (the evidence naming it, the
//! commits that evidence names with their pull requests and reviews, deployments, the
//! waivers in force) into the gate input (`andon.gate/v1`, see docs/gates.md), evaluates
//! the policy that applies to the application and environment, signs the decision with the
//! log key and appends it to the ledger. The signed decision embeds its whole input, so it
//! replays without the server. A production gate also opens or finds the change record
//! ([`crate::changes::gate`]).

use andon_domain::api::{DecisionView, GateRequest};
use andon_domain::gate::{DECISION_PAYLOAD_TYPE, DECISION_VERSION, DecisionDoc, PolicyRef};
use andon_domain::{AppName, ArtifactRef, EntryKind, Envelope, Role, Sha256Digest};
use andon_store::{Effect, GateKept};
use serde_json::{Value, json};

use super::change::{self, OpenChange};
use super::context::{self, Context};
use super::gathered::{self, Gathered};
use super::input::Input;
use super::kept::{Check, Keep};
use crate::input::{check_environment, is_production};
use crate::ledger::sequencer::Fact;
use crate::{Actor, App, AppError};

/// Who may ask the gate. A transport that reads the request before calling [`gate`] checks
/// this first, so that a caller without the role is refused before its body is looked at.
pub const DECIDERS: &[Role] = &[Role::Pipeline, Role::Admin, Role::Approver];

/// What a gate keeps once its decision is durable.
struct Keeps {
    gathered: Keep<Gathered>,
    context: Keep<Context>,
    change: Option<Keep<OpenChange>>,
}

/// Builds the gate input (`andon.gate/v1`, see docs/gates.md), its change record unset;
/// with the version of the policy that applies and, for a production gate, the artifact's
/// open change in the environment.
async fn gate_input(
    app: &App,
    application: &AppName,
    artifact: &ArtifactRef,
    environment: &str,
    production: bool,
    now: jiff::Timestamp,
) -> Result<(Input, String, OpenChange, Keeps), AppError> {
    let kept_gather = app
        .0
        .gather_cache
        .get(&gathered::key(application, artifact));
    let kept_context = app
        .0
        .context_cache
        .get(&context::key(application, environment));
    let kept_change = production
        .then(|| {
            app.0
                .change_cache
                .get(&change::key(application, environment, artifact))
        })
        .flatten();
    let digest = artifact.digest.to_string();
    let asked = GateKept {
        application: application.as_str(),
        artifact_digest: &digest,
        gather: super::kept::size(&kept_gather),
        context: super::kept::size(&kept_context),
        change: super::kept::size(&kept_change),
    };
    // One statement says whether what any of them kept may have changed.
    let check = Check {
        asked,
        mark: app.store().gathered_since(asked).await?,
    };
    let (gathered, keep_gather) = gathered::artifact_facts(
        app,
        application,
        artifact,
        kept_gather.map(|(_, g)| g),
        &check,
    )
    .await?;
    let (context, keep_context) = context::context(
        app,
        application,
        environment,
        kept_context.map(|(_, c)| c),
        &check,
    )
    .await?;
    let (open, keep_change) = if production {
        let (open, keep) = change::open_change(
            app,
            application,
            environment,
            artifact,
            kept_change.map(|(_, c)| c),
            &check,
        )
        .await?;
        (open.as_ref().clone(), Some(keep))
    } else {
        (None, None)
    };
    let now_ms = now.as_millisecond();
    // Built entry by entry: `json!` would copy every value it is given into a new tree
    // (`to_value`). The gather's lists are not copied at all: the input borrows them.
    let parts: [(&str, Value); 9] = [
        ("version", andon_policy::INPUT_VERSION.into()),
        ("time", now.to_string().into()),
        ("application", application.as_str().into()),
        (
            "artifact",
            json!({"name": artifact.name, "digest": artifact.digest.to_string()}),
        ),
        (
            "environment",
            json!({"name": environment, "production": production}),
        ),
        ("waivers", Value::Array(context.waivers_input(now_ms))),
        ("hardening", context.hardening.clone()),
        ("drills", context.drills_input(now_ms)),
        ("change", Value::Null),
    ];
    let input = Input {
        rest: Value::Object(parts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
        gathered,
    };
    let keeps = Keeps {
        gathered: keep_gather,
        context: keep_context,
        change: keep_change,
    };
    Ok((input, context.policy.clone(), open, keeps))
}

/// Asks the gate for an artifact and an environment: builds the input, evaluates the policy
/// that applies (a production gate first opens or finds its change record), signs the
/// decision and ledgers it. The answer leaves out the (large) input, which stays in the
/// signed, stored decision.
pub async fn gate(app: &App, actor: &Actor, req: GateRequest) -> Result<DecisionView, AppError> {
    actor.require(DECIDERS)?;
    let application: AppName = req.application.parse()?;
    actor.require_application(application.as_str(), "gate")?;
    // A context kept for the application was read from it: applications are never removed.
    if app
        .0
        .context_cache
        .get(&context::key(&application, &req.environment))
        .is_none()
    {
        super::require_known(app, &application).await?;
    }
    let artifact: ArtifactRef = req.artifact.parse()?;
    check_environment(&req.environment)?;
    let production = req
        .production
        .unwrap_or_else(|| is_production(&req.environment));
    let now = jiff::Timestamp::from_millisecond(app.now())
        .map_err(|e| AppError::unavailable(format!("the clock is out of range: {e}")))?;
    let began = std::time::Instant::now();
    let (mut input, policy, open, keep) = gate_input(
        app,
        &application,
        &artifact,
        &req.environment,
        production,
        now,
    )
    .await?;
    let gathered = began.elapsed();
    let policy = super::policies::compiled(app, &policy).await?;
    let mut change = None;
    if production {
        let c = crate::changes::gate::change_for_gate(
            app,
            &policy,
            actor,
            &application,
            &artifact,
            &req,
            open,
        )
        .await?;
        input.rest["change"] = crate::changes::gate::change_input(&c.change);
        change = Some(c);
    } else if req.emergency.is_some() {
        return Err(AppError::bad_request(
            "invalid_emergency",
            "emergency changes are for production environments",
        ));
    }
    let selected = began.elapsed();
    // The gather's lists are kept in the engine's values too.
    let evaluation = input.evaluate(&policy);
    // The change record is written once the gate has decided: a standard change is
    // approved only by a gate that allowed it.
    let change = match change {
        Some(c) => Some(
            crate::changes::gate::settle(app, actor, c, evaluation.allow)
                .await?
                .id,
        ),
        None => None,
    };
    let evaluated = began.elapsed();
    let doc = DecisionDoc {
        version: DECISION_VERSION.into(),
        application: application.to_string(),
        environment: req.environment,
        artifact: req.artifact,
        policy: PolicyRef {
            name: policy.name.clone(),
            version: policy.version.clone(),
        },
        allow: evaluation.allow,
        controls: evaluation.controls,
        input,
        decided_at: now.to_string(),
        requested_by: actor.name.clone(),
    };
    let payload = serde_json::to_vec(&doc).map_err(|e| AppError::unavailable(e.to_string()))?;
    let signers = app.0.keys.signers()?;
    let envelope = serde_json::to_vec(&Envelope::sign(
        DECISION_PAYLOAD_TYPE,
        &payload,
        &signers.decision,
    ))
    .map_err(|e| AppError::unavailable(e.to_string()))?;
    let id = Sha256Digest::of(&envelope).hex();
    let body = json!({
        "id": id, "application": doc.application, "environment": doc.environment,
        "artifact": doc.artifact, "allow": doc.allow, "policy": doc.policy,
        "denied_by": doc.controls.iter().filter(|c| !c.verdict.allows()).map(|c| c.id.clone()).collect::<Vec<_>>(),
    });
    let effect = Effect::Decision {
        id: id.clone(),
        application: doc.application.clone(),
        environment: doc.environment.clone(),
        artifact_digest: artifact.digest.to_string(),
        allow: doc.allow,
        policy_version: doc.policy.version.clone(),
        envelope,
    };
    let signed = began.elapsed();
    let receipt = match app
        .append(
            Fact::admin(EntryKind::GateDecision, actor, body, effect)
                .signed_under(signers.generation),
        )
        .await
    {
        Ok(r) => {
            // The admission webhook reads the new decision from now on.
            app.0.admission_cache.clear();
            // Durable: so is everything the gather read.
            app.0.gather_cache.keep(keep.gathered);
            app.0.context_cache.keep(keep.context);
            if let Some(c) = keep.change {
                app.0.change_cache.keep(c);
            }
            r
        }
        // Asked again, byte for byte, within the same millisecond: the recorded decision.
        Err(e) if e.code == "decision_exists" => {
            let recorded = decision(app, actor, &id).await?;
            return Ok(DecisionView {
                decision: recorded.decision.without_input(),
                envelope: None,
                ..recorded
            });
        }
        Err(e) => return Err(e),
    };
    tracing::debug!(
        gather_ms = gathered.as_secs_f64() * 1e3,
        select_ms = (selected - gathered).as_secs_f64() * 1e3,
        evaluate_ms = (evaluated - selected).as_secs_f64() * 1e3,
        sign_ms = (signed - evaluated).as_secs_f64() * 1e3,
        append_ms = (began.elapsed() - signed).as_secs_f64() * 1e3,
        "gate decided"
    );
    Ok(DecisionView {
        id,
        ledger_index: receipt.ledger_index,
        // The input stays in the signed, stored decision: answering with it would send
        // tens of kilobytes back to every pipeline.
        decision: doc.without_input(),
        envelope: None,
        receipt: Some(receipt),
        change,
    })
}

/// The decision document a stored DSSE envelope signs, or why it cannot be read.
pub(crate) fn decision_doc(envelope: &[u8]) -> Result<DecisionDoc, String> {
    let env = Envelope::parse(envelope).map_err(|e| e.to_string())?;
    serde_json::from_slice(&env.payload).map_err(|e| e.to_string())
}

/// A recorded decision with its signed envelope and the change record it names, or
/// `not_found`.
pub async fn decision(app: &App, _actor: &Actor, id: &str) -> Result<DecisionView, AppError> {
    let row = app
        .store()
        .decision(id)
        .await?
        .ok_or_else(|| AppError::not_found(format!("no decision {id}")))?;
    let doc = decision_doc(&row.envelope)
        .map_err(|e| AppError::unavailable(format!("stored decision {id} is unreadable: {e}")))?;
    let change = doc.input["change"]["id"].as_str().map(str::to_owned);
    Ok(DecisionView {
        id: row.id,
        ledger_index: row.ledger_index,
        decision: doc,
        envelope: Some(String::from_utf8_lossy(&row.envelope).into_owned()),
        receipt: None,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_doc_is_read_from_its_envelope_or_refused() {
        let doc = DecisionDoc {
            version: DECISION_VERSION.into(),
            application: "shop".into(),
            environment: "production".into(),
            artifact: format!("shop@sha256:{}", "a".repeat(64)),
            policy: PolicyRef {
                name: "builtin".into(),
                version: "v1".into(),
            },
            allow: true,
            controls: Vec::new(),
            input: json!({"change": {"id": "CHG-1"}}),
            decided_at: "2025-01-01T00:00:00Z".into(),
            requested_by: "ci".into(),
        };
        let key = andon_domain::SigningKey::from_seed([7; 32]);
        let payload = serde_json::to_vec(&doc).unwrap();
        let signed = serde_json::to_vec(&Envelope::sign(DECISION_PAYLOAD_TYPE, &payload, &key));
        assert_eq!(decision_doc(&signed.unwrap()), Ok(doc));
        assert!(decision_doc(b"not an envelope").is_err());
        // An envelope whose payload is not a decision is unreadable too.
        let other = Envelope::sign(DECISION_PAYLOAD_TYPE, b"{}", &key);
        assert!(decision_doc(&serde_json::to_vec(&other).unwrap()).is_err());
    }
}
