//! The log keys an audit trusts, and which of them was in force at each point of the log.
//!
//! A log starts with one key; each `log.key_rotated` entry, signed by the retiring key, hands
//! it to the next. Checkpoints and gate decisions made at a position verify with the key in
//! force there: the key of the last rotation before that position.

use andon_ledger::{Checkpoint, NoteVerifier};

/// The keys of a log, oldest first, and where each took over.
#[derive(Clone, Debug)]
pub struct LogKeys {
    /// The keys the source says the log was signed with, oldest first (the last is the
    /// current one). Rotation entries must follow this chain.
    chain: Vec<NoteVerifier>,
    /// The keys in force so far: (the first position it signs, key). Starts with the oldest.
    history: Vec<(u64, NoteVerifier)>,
}

/// Why a rotation entry is not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum RotationError {
    /// It hands over from a key that was not in force.
    NotInForce {
        /// The key in force at the entry.
        in_force: String,
    },
    /// It hands over to a key the log does not name (not the next of its chain).
    UnknownNext,
}

impl LogKeys {
    /// The keys of a log: the previous keys the source names (oldest first), then the
    /// current key. The oldest is in force from position 0.
    pub fn new(previous: Vec<NoteVerifier>, current: NoteVerifier) -> Self {
        let mut chain = previous;
        if chain.last() != Some(&current) {
            chain.push(current);
        }
        let history = vec![(0, chain[0].clone())];
        Self { chain, history }
    }

    /// Parses the keys in their text form (`<name>+<hash>+<key>`).
    pub fn parse(previous: &[String], current: &str) -> Result<Self, String> {
        let parse = |k: &str| NoteVerifier::parse(k).map_err(|e| format!("log key {k}: {e}"));
        let prev = previous
            .iter()
            .map(|k| parse(k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(prev, parse(current)?))
    }

    /// Every key the log names, oldest first.
    pub fn chain(&self) -> &[NoteVerifier] {
        &self.chain
    }

    /// The current (newest) key.
    pub fn current(&self) -> &NoteVerifier {
        self.chain.last().unwrap_or(&self.history[0].1)
    }

    /// The key in force at `position`: it signs entry `position`'s decisions and the
    /// checkpoint of size `position`.
    pub fn at(&self, position: u64) -> &NoteVerifier {
        self.history
            .iter()
            .rev()
            .find(|(from, _)| *from <= position)
            .map(|(_, k)| k)
            .unwrap_or(&self.history[0].1)
    }

    /// The key in force after every entry seen so far.
    pub fn in_force(&self) -> &NoteVerifier {
        &self.history[self.history.len() - 1].1
    }

    /// Follows a rotation at `index` from `previous` to `next` (its signature already
    /// checked): `next` is in force from `index + 1`.
    pub fn rotate(&mut self, index: u64, previous: &str, next: &str) -> Result<(), RotationError> {
        let current = self.in_force().to_string();
        if current != previous {
            return Err(RotationError::NotInForce { in_force: current });
        }
        let at = self.chain.iter().position(|k| k.to_string() == current);
        let Some(successor) = at.and_then(|i| self.chain.get(i + 1)) else {
            return Err(RotationError::UnknownNext);
        };
        if successor.to_string() != next {
            return Err(RotationError::UnknownNext);
        }
        let successor = successor.clone();
        self.history.push((index + 1, successor));
        Ok(())
    }

    /// The rotations followed so far: (the rotation entry's index, retiring key, next key).
    pub fn rotations(&self) -> Vec<(u64, String, String)> {
        self.history
            .windows(2)
            .map(|w| (w[1].0 - 1, w[0].1.to_string(), w[1].1.to_string()))
            .collect()
    }

    /// Whether the rotations seen handed the log to its current key.
    pub fn reached_current(&self) -> bool {
        self.in_force() == self.current()
    }

    /// Verifies a signed checkpoint whose size is not known beforehand (a saved or cosigned
    /// one): signed by one of the log's keys, and by the key in force at its size. A
    /// checkpoint a retired key signed after its hand-over is refused, as is one signed
    /// with a key before the log was handed to it.
    pub fn verify_checkpoint(&self, note: &str) -> Result<Checkpoint, String> {
        let Some(cp) = self.chain.iter().find_map(|k| k.verify(note).ok()) else {
            return Err("it is not signed by any of the log's keys".into());
        };
        self.verify_at(cp.size, note)
    }

    /// Verifies a signed note as of `position`: `Ok` with its checkpoint when the key in
    /// force there signed it; `Err` says what signed it instead, if any key of the log did.
    pub fn verify_at(&self, position: u64, note: &str) -> Result<Checkpoint, String> {
        let key = self.at(position);
        if let Ok(cp) = key.verify(note) {
            return Ok(cp);
        }
        match self.chain.iter().find(|k| k.verify(note).is_ok()) {
            Some(other) => Err(format!(
                "it is signed by the log key {other}, but the key in force at size {position} was {key}"
            )),
            None => Err(format!(
                "its signature does not verify with the log key in force ({key})"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use andon_ledger::LogSigner;

    #[test]
    fn the_key_in_force_follows_the_rotations_of_the_chain() {
        let (a, b) = (
            LogSigner::new("log", [1; 32]),
            LogSigner::new("log", [2; 32]),
        );
        let mut keys = LogKeys::new(vec![a.verifier()], b.verifier());
        assert_eq!(keys.at(5), &a.verifier());
        assert!(!keys.reached_current());
        let (sa, sb) = (a.verifier().to_string(), b.verifier().to_string());
        assert_eq!(
            keys.rotate(3, &sb, &sa),
            Err(RotationError::NotInForce {
                in_force: sa.clone()
            })
        );
        keys.rotate(3, &sa, &sb).expect("rotation");
        assert_eq!(keys.at(3), &a.verifier());
        assert_eq!(keys.at(4), &b.verifier());
        assert!(keys.reached_current());
        assert_eq!(keys.rotate(9, &sb, &sa), Err(RotationError::UnknownNext));

        // A checkpoint is judged by the key in force at its size: the retired key signs
        // nothing after its hand-over, the new one nothing before.
        let cp = |size| Checkpoint {
            origin: "log".into(),
            size,
            root: [7; 32],
        };
        assert!(keys.verify_checkpoint(&a.sign(&cp(3)).note).is_ok());
        assert!(keys.verify_checkpoint(&b.sign(&cp(4)).note).is_ok());
        let late = keys.verify_checkpoint(&a.sign(&cp(4)).note).unwrap_err();
        assert!(late.contains("in force at size 4"), "{late}");
        assert!(keys.verify_checkpoint(&b.sign(&cp(3)).note).is_err());
    }
}
