//! The log keys a server holds, and which of them the log says is in force.
//!
//! A server holds one or more log keys (`--log-key`, and while rotating `--previous-log-key`
//! or a staged `--next-log-key`). It signs checkpoints and gate decisions only with the key
//! the log itself says is current: the key recorded when the log began, or the `next` of
//! the last `log.key_rotated` entry. Several servers share one log; when any of them hands
//! the log over, every other one meets the hand-over entry when it takes in their entries,
//! and from then on signs with the new key if it holds it. A server that does not hold it
//! stops signing: its writes are refused (503) and its readiness says why, until it is
//! restarted with the new key. No server signs with a retired key after its hand-over.

use std::sync::{Arc, RwLock};

use andon_domain::SigningKey;
use andon_ledger::{LogSigner, NoteVerifier};

use crate::AppError;

/// The key in force, as this server can sign with it.
pub struct Signers {
    /// Signs checkpoints.
    pub log: LogSigner,
    /// Signs gate decisions (the same key: decisions and checkpoints verify with one key).
    pub decision: SigningKey,
    /// Counts hand-overs this server has followed: what was signed under one generation is
    /// not appended under another.
    pub generation: u64,
}

/// Where the log's keys stand.
struct State {
    /// The key the log says is current.
    current: NoteVerifier,
    /// The keys it was signed with before, oldest first.
    previous: Vec<String>,
    /// The held key matching `current`; `None` when this server does not hold it.
    signers: Option<Arc<Signers>>,
    /// Where the log was handed to `current` (the rotation entry's index), if it was.
    handed_over_at: Option<u64>,
    generation: u64,
}

/// The log keys this server holds and the one in force (see the module).
pub struct Keyring {
    origin: String,
    held: Vec<[u8; 32]>,
    state: RwLock<State>,
}

impl Keyring {
    /// A keyring for the log `origin` whose current key is `current` (previously `previous`,
    /// oldest first), holding the keys of `held` (seeds).
    pub fn new(
        origin: &str,
        held: Vec<[u8; 32]>,
        current: NoteVerifier,
        previous: Vec<String>,
    ) -> Self {
        let ring = Self {
            origin: origin.to_owned(),
            held,
            state: RwLock::new(State {
                signers: None,
                current: current.clone(),
                previous,
                handed_over_at: None,
                generation: 0,
            }),
        };
        let signers = ring.signers_for(&current, 0);
        ring.write().signers = signers;
        ring
    }

    /// The held key whose verifier is `key`, as signers of generation `generation`.
    fn signers_for(&self, key: &NoteVerifier, generation: u64) -> Option<Arc<Signers>> {
        let text = key.to_string();
        self.held.iter().find_map(|seed| {
            let log = LogSigner::new(self.origin.clone(), *seed);
            (log.verifier().to_string() == text).then(|| {
                Arc::new(Signers {
                    log,
                    decision: SigningKey::from_seed(*seed),
                    generation,
                })
            })
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The key in force, to sign with; refused (503, saying what to do) when this server
    /// does not hold it.
    pub fn signers(&self) -> Result<Arc<Signers>, AppError> {
        let s = self.read();
        s.signers
            .clone()
            .ok_or_else(|| AppError::unavailable(self.not_held(&s)))
    }

    /// Why this server cannot sign, if it cannot.
    pub fn stopped(&self) -> Option<String> {
        let s = self.read();
        s.signers.is_none().then(|| self.not_held(&s))
    }

    fn not_held(&self, s: &State) -> String {
        let at = s
            .handed_over_at
            .map(|i| format!(" at ledger entry {i}"))
            .unwrap_or_default();
        format!(
            "the log was handed over to the key {}{at}, which this server does not hold: it signs nothing more; restart it with that key as --log-key (docs/operations.md, \"Rotating the log key\")",
            s.current
        )
    }

    /// The key the log says is current.
    pub fn current(&self) -> NoteVerifier {
        self.read().current.clone()
    }

    /// The keys the log was signed with before the current one, oldest first.
    pub fn previous(&self) -> Vec<String> {
        self.read().previous.clone()
    }

    /// The hand-overs followed so far.
    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Checks a hand-over from `previous` to `next` against the key in force (or `from`,
    /// the key a batch has already handed over to): `previous` must be that key and have
    /// signed it (`signature`). Answers the next key, and its signers if this server holds
    /// it.
    pub fn check_hand_over(
        &self,
        from: Option<&NoteVerifier>,
        previous: &str,
        next: &str,
        signature: &str,
    ) -> Result<(NoteVerifier, Option<Arc<Signers>>), String> {
        let (current, generation) = {
            let s = self.read();
            (
                from.cloned().unwrap_or_else(|| s.current.clone()),
                s.generation,
            )
        };
        if previous != current.to_string() {
            return Err(format!(
                "it hands the log over from {previous}, but the key in force is {current}"
            ));
        }
        current.check_endorsement(next, signature).map_err(|_| {
            format!("its hand-over to {next} is not signed by the retiring key {current}")
        })?;
        let next_key = NoteVerifier::parse(next)
            .map_err(|e| format!("it hands the log to a malformed key: {e}"))?;
        let signers = self.signers_for(&next_key, generation + 1);
        Ok((next_key, signers))
    }

    /// Follows the hand-over at ledger entry `index` (see [`Keyring::check_hand_over`]):
    /// the retiring key joins the previous keys, and from now on this server signs with the
    /// next key if it holds it, and with nothing otherwise.
    pub fn hand_over(
        &self,
        index: u64,
        previous: &str,
        next: &str,
        signature: &str,
    ) -> Result<(), String> {
        let (next_key, signers) = self
            .check_hand_over(None, previous, next, signature)
            .map_err(|why| format!("ledger entry {index}: {why}"))?;
        let mut s = self.write();
        let retiring = s.current.to_string();
        if !s.previous.contains(&retiring) {
            s.previous.push(retiring);
        }
        s.generation += 1;
        s.signers = signers;
        s.current = next_key;
        s.handed_over_at = Some(index);
        match &s.signers {
            None => tracing::error!(reason = %self.not_held(&s), "this server stopped signing"),
            Some(_) => tracing::info!(
                index,
                next,
                "the log key was handed over; signing with the new key"
            ),
        }
        Ok(())
    }
}

/// What a hand-over entry says: (previous, next, signature).
pub fn hand_over_of(body: &serde_json::Value) -> (String, String, String) {
    let field = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    (field("previous"), field("next"), field("signature"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(n: u8) -> LogSigner {
        LogSigner::new("log", [n; 32])
    }

    #[test]
    fn a_server_signs_with_the_key_the_log_hands_over_to_or_stops() {
        let (old, new, other) = (signer(1), signer(2), signer(3));
        let endorse = old.endorse(&new.verifier());
        let ring = Keyring::new("log", vec![[1; 32], [2; 32]], old.verifier(), vec![]);
        assert_eq!(ring.signers().expect("held").log.verifier(), old.verifier());
        let (o, n) = (old.verifier().to_string(), new.verifier().to_string());
        // A hand-over not signed by the key in force is not followed.
        let forged = other.endorse(&new.verifier());
        assert!(ring.hand_over(7, &o, &n, &forged).is_err());
        assert_eq!(ring.generation(), 0);
        ring.hand_over(7, &o, &n, &endorse).expect("hand-over");
        let s = ring.signers().expect("the new key is held");
        assert_eq!((s.log.verifier(), s.generation), (new.verifier(), 1));
        assert_eq!(ring.previous(), vec![o.clone()]);
        // From the retired key again: refused.
        assert!(ring.hand_over(9, &o, &n, &endorse).is_err());

        let lone = Keyring::new("log", vec![[1; 32]], old.verifier(), vec![]);
        lone.hand_over(7, &o, &n, &endorse).expect("followed");
        let e = lone.signers().err().expect("stopped");
        assert!(
            e.message.contains(&n) && e.message.contains("entry 7"),
            "{}",
            e.message
        );
        assert!(lone.stopped().is_some());
        assert_eq!(lone.current(), new.verifier());
    }
}
