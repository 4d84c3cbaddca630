//! What the sequencer takes: facts waiting for their ledger index, with where each
//! receipt goes.

use crate::AppError;
use andon_domain::api::Receipt;
use andon_domain::scm::SourceFacts;
use andon_domain::{EntryKind, EvidenceFact, SourceEventFact};
use andon_store::Effect;
use tokio::sync::oneshot;

/// A fact waiting for its ledger index.
pub enum Fact {
    /// Signed evidence.
    Evidence {
        /// Evidence id (document sha256 hex).
        id: String,
        /// The ledger body.
        fact: EvidenceFact,
        /// The raw envelope.
        document: Vec<u8>,
        /// The submitting identity.
        actor: String,
        /// Commits the evidence names.
        commits: Vec<String>,
        /// Source-control facts it carries (review attestations).
        scm: Option<SourceFacts>,
    },
    /// A source-control webhook delivery.
    Source {
        /// The ledger body.
        fact: SourceEventFact,
        /// The payload as received.
        payload: Vec<u8>,
    },
    /// An administrative fact (application, identity, token, key).
    Admin {
        /// The entry's kind.
        kind: EntryKind,
        /// Who did it.
        actor: String,
        /// The entry's body.
        body: serde_json::Value,
        /// The rows it writes.
        effect: Effect,
    },
}

impl Fact {
    /// An administrative fact by `actor`.
    pub fn admin(kind: EntryKind, actor: &str, body: serde_json::Value, effect: Effect) -> Self {
        Fact::Admin {
            kind,
            actor: actor.to_owned(),
            body,
            effect,
        }
    }
}

/// A fact and where its receipt goes.
pub struct Job {
    /// The fact.
    pub fact: Fact,
    /// Answered once the fact is durable (or refused).
    pub reply: oneshot::Sender<Result<Receipt, AppError>>,
}
