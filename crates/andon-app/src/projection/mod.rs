//! State is a projection of the ledger: every row the API, the gate, the pages and the jobs
//! read is written from a ledger entry by [`effect_of`], the one function the sequencer uses
//! when it appends and `andon verify` uses when it replays the whole ledger into a fresh
//! database ([`Replayed`]) to compare with the tables ([`compare`]).

mod compare;
mod replay;

pub use compare::{Mismatch, PROJECTED_TABLES, Projected, compare};
pub use replay::Replayed;
pub(crate) use replay::append_of;

use serde::Deserialize;
use std::sync::Arc;

use andon_domain::{EntryKind, EvidenceFact, LedgerEntry, SourceEventFact};
use andon_store::Effect;

/// The document an entry binds by digest, kept beside it: an evidence envelope, a webhook
/// payload, a policy bundle, a signed decision; or a telemetry batch's events.
pub enum Document<'a> {
    /// None.
    None,
    /// The document's bytes.
    Bytes(&'a [u8]),
    /// A telemetry batch's events, in order.
    Events(Arc<Vec<andon_telemetry::Event>>),
    /// An SBOM evidence entry's components as stored, in order.
    Components(Vec<andon_domain::components::ComponentRow>),
}

/// The rows an entry writes. Evidence and webhook entries say everything in their body;
/// every other kind carries its rows (`rows`, an [`Effect`] without its documents), and the
/// documents come back from `document`.
pub fn effect_of(entry: &LedgerEntry, document: Document<'_>) -> Result<Effect, String> {
    let bytes = || match &document {
        Document::Bytes(b) => b.to_vec(),
        _ => Vec::new(),
    };
    match entry.kind {
        EntryKind::Evidence => {
            let f: EvidenceFact = EvidenceFact::deserialize(&entry.body)
                .map_err(|e| format!("the body is not an evidence fact: {e}"))?;
            let envelope = bytes();
            // The components are the SBOM's: they must hash to the binding the entry
            // carries, or a row deleted or altered among them would change the replay too.
            let components = match (&f.components, document) {
                (None, _) => Arc::default(),
                (Some(bound), Document::Components(rows)) => {
                    bound.check(&rows)?;
                    Arc::new(crate::vulns::components::indexed(rows))
                }
                (Some(_), _) => return Err("an SBOM's evidence without its components".into()),
            };
            Ok(evidence_rows(&f, envelope, components))
        }
        EntryKind::SourceEvent => {
            let f: SourceEventFact = SourceEventFact::deserialize(&entry.body)
                .map_err(|e| format!("the body is not a webhook delivery: {e}"))?;
            Ok(Effect::SourceEvent {
                provider: f.provider,
                delivery: f.delivery,
                event: f.event,
                payload: bytes(),
                facts: f.facts,
            })
        }
        EntryKind::TelemetryBatch => match document {
            // The events are the batch's document: they must hash to the digest the entry
            // binds, or a row deleted or altered among them would change the replay too.
            Document::Events(events) => {
                let digest = andon_telemetry::batch_digest(&events);
                match entry.body["digest"].as_str() {
                    Some(bound) if bound == digest => Ok(Effect::Telemetry(events)),
                    bound => Err(format!(
                        "its {} stored events hash to {digest}, the entry binds {} ({} events): events were deleted, added or altered",
                        events.len(),
                        bound.unwrap_or("no digest"),
                        entry.body["count"]
                    )),
                }
            }
            _ => Err("a telemetry batch without its events".into()),
        },
        _ => {
            let rows = entry
                .rows
                .as_ref()
                .ok_or("the entry carries no rows (written before entries carried them)")?;
            let mut effect: Effect = Effect::deserialize(rows)
                .map_err(|e| format!("the entry's rows do not read: {e}"))?;
            match &mut effect {
                Effect::Policy { bundle, .. } => *bundle = bytes(),
                Effect::Decision { envelope, .. } => *envelope = bytes(),
                _ => {}
            }
            Ok(effect)
        }
    }
}

/// The rows an evidence entry with body `f` writes, its envelope `document` and an SBOM's
/// `components` beside it (the sequencer calls this with the fact it holds rather than read
/// its own body back).
pub fn evidence_rows(
    f: &EvidenceFact,
    document: Vec<u8>,
    components: Arc<Vec<andon_store::SbomComponent>>,
) -> Effect {
    Effect::Evidence {
        id: f.document.hex(),
        application: f.application.to_string(),
        run: f.run.clone(),
        predicate_type: f.predicate_type.clone(),
        signer: f.signer.clone(),
        keyid: f.keyid.to_string(),
        subjects: f
            .subjects
            .iter()
            .flat_map(|s| s.digests().map(|d| (s.name.clone(), d.stored())))
            .collect(),
        document,
        summary: f.summary.as_ref().map(|v| v.to_string()),
        commits: f.commits.clone(),
        scm: f.scm.clone(),
        keyless: f
            .keyless
            .as_ref()
            .and_then(|k| serde_json::to_string(k).ok()),
        components,
    }
}

/// What an entry of `effect` carries as its rows: the effect without its documents, for
/// the kinds whose body does not say it all (none for evidence, webhooks, telemetry).
pub fn rows_of(kind: EntryKind, effect: &Effect) -> Option<serde_json::Value> {
    match kind {
        EntryKind::Evidence | EntryKind::SourceEvent | EntryKind::TelemetryBatch => None,
        _ => serde_json::to_value(effect).ok(),
    }
}

/// The document an effect holds, to hand back to [`effect_of`].
pub fn document_of(effect: &Effect) -> Document<'_> {
    match effect {
        Effect::Evidence { document, .. } => Document::Bytes(document),
        Effect::SourceEvent { payload, .. } => Document::Bytes(payload),
        Effect::Policy { bundle, .. } => Document::Bytes(bundle),
        Effect::Decision { envelope, .. } => Document::Bytes(envelope),
        Effect::Telemetry(events) => Document::Events(events.clone()),
        _ => Document::None,
    }
}
