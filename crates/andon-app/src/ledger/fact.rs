//! What the sequencer takes: facts waiting for their ledger index, with where each
//! receipt goes.

use crate::AppError;
use andon_domain::api::Receipt;
use andon_domain::{EntryKind, EvidenceFact, SourceEventFact, Via};
use andon_store::Effect;
use tokio::sync::oneshot;

/// A fact waiting for its ledger index.
#[allow(
    clippy::large_enum_variant,
    reason = "a fact lives only between intake and its batch's commit, moved a few times; boxing would add an allocation per fact for nothing measurable"
)]
pub enum Fact {
    /// Signed evidence.
    Evidence {
        /// Evidence id (document sha256 hex).
        id: String,
        /// The ledger body.
        fact: EvidenceFact,
        /// The raw envelope.
        document: Vec<u8>,
        /// An SBOM's components with their package keys (the fact binds their digest).
        components: std::sync::Arc<Vec<andon_store::SbomComponent>>,
        /// The submitting identity.
        actor: String,
        /// The token it submitted with.
        via: Option<Via>,
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
        /// The token they did it with.
        via: Option<Via>,
        /// The entry's body.
        body: serde_json::Value,
        /// The rows it writes.
        effect: Effect,
        /// The generation of the log key that signed what it carries (a gate decision):
        /// refused if the log was handed to another key since.
        signed_under: Option<u64>,
    },
}

/// Who a fact is by: an authenticated actor (its token is recorded and checked again where
/// the entry is sequenced) or the server itself (`"andon"`).
#[derive(Clone, Debug)]
pub struct Who {
    name: String,
    via: Option<Via>,
}

impl Who {
    /// The name entries record as the actor.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the server itself (or a job) acts, with no token.
    pub fn is_server(&self) -> bool {
        self.via.is_none()
    }
}

impl From<&crate::Actor> for Who {
    fn from(a: &crate::Actor) -> Self {
        Who {
            name: a.name.clone(),
            via: a.via.clone(),
        }
    }
}

impl From<&str> for Who {
    /// The server itself, a job, or a system name: no token.
    fn from(name: &str) -> Self {
        Who {
            name: name.to_owned(),
            via: None,
        }
    }
}

impl Fact {
    /// An administrative fact by `who`.
    pub fn admin(
        kind: EntryKind,
        who: impl Into<Who>,
        body: serde_json::Value,
        effect: Effect,
    ) -> Self {
        let who = who.into();
        Fact::Admin {
            kind,
            actor: who.name,
            via: who.via,
            body,
            effect,
            signed_under: None,
        }
    }

    /// Marks what the fact carries as signed with the log key of `generation`.
    pub fn signed_under(mut self, generation: u64) -> Self {
        if let Fact::Admin { signed_under, .. } = &mut self {
            *signed_under = Some(generation);
        }
        self
    }

    /// The token the fact was made with, if an actor made it.
    pub fn via(&self) -> Option<&Via> {
        match self {
            Fact::Evidence { via, .. } | Fact::Admin { via, .. } => via.as_ref(),
            Fact::Source { .. } => None,
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
