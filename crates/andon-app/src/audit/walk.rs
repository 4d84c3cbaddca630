//! The walk: entries in index order, then the checkpoints they reach; every problem found
//! is recorded, none stops the walk.

use andon_domain::{EntryKind, LedgerEntry, StoredReport};
use andon_ledger::{Hash, MerkleTree, leaf_hash};
use serde::Deserialize;

use super::keys::LogKeys;
use super::problem::{Findings, Problem};
use super::rules::{EntryRule, Finding, Subject};

/// One stored entry, as a source holds it.
pub struct RawEntry<'a> {
    /// Its index, as stored.
    pub index: u64,
    /// The leaf hash stored with it.
    pub leaf_hash: Hash,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// The document it binds, when the source holds one.
    pub document: Option<&'a [u8]>,
    /// The kind the source files it under (a column), when it has one.
    pub kind: Option<&'a str>,
}

/// A walk over a ledger (see the module). Feed it the entries in index order with
/// [`Audit::entry`], each stored checkpoint once the entries it covers are in, in
/// increasing size, with [`Audit::checkpoint`], then [`Audit::finish`].
pub struct Audit {
    origin: Option<String>,
    keys: LogKeys,
    rules: Vec<Box<dyn EntryRule>>,
    tree: MerkleTree,
    kinds: Vec<Option<EntryKind>>,
    findings: Findings,
    /// The first missing index: the tree stops there, roots past it cannot be checked.
    gap: Option<u64>,
    /// Whether rules ran (the rotation entries were followed).
    rules_ran: bool,
    /// The next index expected.
    next: u64,
    checkpoints: CheckpointState,
    /// Uploaded reports the walked evidence names, not yet checked by the source.
    reports: Vec<(u64, StoredReport)>,
}

#[derive(Default)]
struct CheckpointState {
    checked: u64,
    /// The size of the last checkpoint whose signature and root matched.
    last_good: u64,
    /// The largest checkpoint whose signature verified.
    covered: u64,
    /// Where the entries first differ from a signed root: (problem index, checkpoint size).
    diverged: Option<(u64, u64)>,
    /// Later checkpoints that differ too (they cover the same changed entries).
    later: u64,
    later_last: u64,
}

/// What a finished walk found.
pub struct Walked {
    /// The problems.
    pub findings: Findings,
    /// The tree of the stored leaf hashes (up to the first missing entry).
    pub tree: MerkleTree,
    /// How many entries were checked.
    pub entries: u64,
    /// How many checkpoints were checked.
    pub checkpoints: u64,
    /// The keys, as the rotation entries left them.
    pub keys: LogKeys,
}

impl Audit {
    /// A walk with the log's keys and `rules` (none: only the structural checks, without
    /// parsing entries). `origin`: the log's origin, which every checkpoint must name.
    pub fn new(keys: LogKeys, rules: Vec<Box<dyn EntryRule>>, origin: Option<String>) -> Self {
        Self {
            origin,
            keys,
            rules,
            tree: MerkleTree::new(),
            kinds: Vec::new(),
            findings: Findings::default(),
            gap: None,
            rules_ran: false,
            next: 0,
            checkpoints: CheckpointState::default(),
            reports: Vec::new(),
        }
    }

    /// The number of entries walked so far (the index expected next).
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The tree of the stored leaf hashes walked so far.
    pub fn tree(&self) -> &MerkleTree {
        &self.tree
    }

    /// The keys as they stand.
    pub fn keys(&self) -> &LogKeys {
        &self.keys
    }

    /// The uploaded reports the evidence walked since the last call names (with the index of
    /// the entry naming each), for the source to check: it holds the bytes, the walk does
    /// not. Only entries the rules read are seen.
    pub fn take_reports(&mut self) -> Vec<(u64, StoredReport)> {
        std::mem::take(&mut self.reports)
    }

    /// Records a problem found outside the walk (by a source), so it is reported with the
    /// others.
    pub fn report(&mut self, p: Problem) {
        self.findings.push(p);
    }

    fn kind_at(&self, index: u64) -> Option<String> {
        self.kinds
            .get(index as usize)
            .copied()
            .flatten()
            .map(|k| k.as_str().to_owned())
    }

    fn problem(&mut self, index: u64, kind: Option<String>, check: &str, message: String) {
        self.findings.push(Problem {
            index,
            kind,
            check: check.into(),
            checkpoint: None,
            message,
        });
    }

    /// Checks the next entry; answers it parsed when the rules parsed it (a caller that
    /// needs it too need not parse it again).
    pub fn entry(&mut self, e: RawEntry<'_>) -> Option<LedgerEntry> {
        let column_kind = e.kind.map(str::to_owned);
        if e.index < self.next {
            self.problem(
                e.index,
                column_kind,
                "order",
                format!(
                    "it appears out of order (after entry {}) or twice",
                    self.next - 1
                ),
            );
            return None;
        }
        if e.index > self.next {
            let (from, to) = (self.next, e.index - 1);
            let message = if from == to {
                "it is missing".to_owned()
            } else {
                format!("it is missing, and so are the entries after it up to {to}")
            };
            self.problem(from, None, "missing", message);
            self.gap.get_or_insert(from);
        }
        self.next = e.index + 1;
        if leaf_hash(e.bytes) != e.leaf_hash {
            self.problem(
                e.index,
                column_kind.clone(),
                "leaf_hash",
                "its bytes do not hash to its stored leaf hash: it was rewritten".into(),
            );
        }
        let mut kind = None;
        let mut parsed = None;
        if !self.rules.is_empty() {
            self.rules_ran = true;
            match serde_json::from_slice::<LedgerEntry>(e.bytes) {
                Ok(entry) => {
                    kind = Some(entry.kind);
                    self.apply_rules(&e, &entry, column_kind.as_deref());
                    parsed = Some(entry);
                }
                Err(err) => self.problem(
                    e.index,
                    column_kind.clone(),
                    "malformed",
                    format!("its bytes are not a ledger entry: {err}"),
                ),
            }
        } else if let Some(k) = &column_kind {
            kind = serde_json::from_value(serde_json::Value::String(k.clone())).ok();
        }
        if self.gap.is_none() {
            self.tree.push(e.leaf_hash);
            self.kinds.push(kind);
        }
        parsed
    }

    fn apply_rules(&mut self, e: &RawEntry<'_>, entry: &LedgerEntry, column: Option<&str>) {
        let kind = entry.kind.as_str();
        if let Some(c) = column
            && c != kind
        {
            self.problem(
                e.index,
                Some(kind.to_owned()),
                "kind_column",
                format!("its kind column says {c}, its bytes say {kind}"),
            );
        }
        if entry.kind == EntryKind::Evidence
            && let Some(r) = entry.body.get("report")
            && let Ok(r) = StoredReport::deserialize(r)
        {
            self.reports.push((e.index, r));
        }
        let subject = Subject {
            index: e.index,
            bytes: e.bytes,
            entry,
            document: e.document,
        };
        let mut found: Vec<Finding> = Vec::new();
        for rule in &mut self.rules {
            rule.check(&subject, &mut self.keys, &mut found);
        }
        for f in found {
            self.problem(e.index, Some(kind.to_owned()), f.check, f.message);
        }
    }

    /// Checks a stored checkpoint: `size` and `root` as its row says, `note` the signed
    /// text. Checkpoints come in increasing size, each after the entries it covers.
    pub fn checkpoint(&mut self, size: u64, root: Hash, note: &str) {
        self.checkpoints.checked += 1;
        let last = size.saturating_sub(1);
        let bad = |s: &mut Self, check: &str, message: String| {
            let kind = s.kind_at(last);
            s.findings.push(Problem {
                index: last,
                kind,
                check: check.into(),
                checkpoint: Some(size),
                message,
            });
        };
        let signed = match self.keys.verify_at(size, note) {
            Ok(cp) => cp,
            Err(why) => {
                bad(
                    self,
                    "checkpoint_signature",
                    format!("the stored checkpoint of size {size} is not authentic: {why}"),
                );
                return;
            }
        };
        if signed.size != size || signed.root != root {
            bad(
                self,
                "checkpoint_signature",
                format!(
                    "the stored checkpoint of size {size} says size {} root {} in its row but its signed note says size {} root {}",
                    size,
                    hex::encode(root),
                    signed.size,
                    hex::encode(signed.root)
                ),
            );
        }
        if let Some(origin) = &self.origin
            && *origin != signed.origin
        {
            bad(
                self,
                "checkpoint_signature",
                format!(
                    "the stored checkpoint of size {} is of log {:?}, not {origin:?}",
                    signed.size, signed.origin
                ),
            );
        }
        self.root_matches(signed.size, signed.root);
    }

    fn root_matches(&mut self, size: u64, root: Hash) {
        self.checkpoints.covered = self.checkpoints.covered.max(size);
        if self.gap.is_some_and(|g| size > g) || size > self.tree.size() {
            // Missing entries are reported as such (here or when the walk finishes).
            return;
        }
        let ours = self.tree.root_at(size).ok();
        if ours == Some(root) {
            if self.checkpoints.diverged.is_none() {
                self.checkpoints.last_good = size;
            }
            return;
        }
        if self.checkpoints.diverged.is_some() {
            self.checkpoints.later += 1;
            self.checkpoints.later_last = size;
            return;
        }
        let first = self.checkpoints.last_good;
        let message = if size - first <= 1 {
            format!(
                "the signed checkpoint of size {size} does not match the stored entries: this entry was rewritten together with its leaf hash (or entries were reordered or removed)"
            )
        } else {
            format!(
                "the signed checkpoint of size {size} does not match the stored entries, and the one of size {first} does: one of entries {first} to {} was rewritten together with its leaf hash (or entries were reordered or removed)",
                size - 1
            )
        };
        self.checkpoints.diverged = Some((first, size));
        let kind = self.kind_at(first);
        self.findings.push(Problem {
            index: first,
            kind,
            check: "checkpoint_root".into(),
            checkpoint: Some(size),
            message,
        });
    }

    /// Ends the walk. `expected`: how many entries the source says the log holds (its
    /// latest checkpoint's size, say); fewer walked is entries missing at the end.
    pub fn finish(mut self, expected: u64) -> Walked {
        let have = self.next;
        let expected = expected.max(self.checkpoints.covered);
        if have < expected {
            let message = if expected - have == 1 {
                format!("it is missing: the log holds {expected} entries")
            } else {
                format!(
                    "it is missing, and so are the entries after it: the log holds {expected} entries (a signed checkpoint covers them), the source {have}"
                )
            };
            self.problem(have, None, "missing", message);
        }
        let covered = self.checkpoints.covered;
        if self.checkpoints.checked > 0 && covered < have && self.gap.is_none() {
            let kind = self.kind_at(covered);
            self.problem(
                covered,
                kind,
                "unsigned",
                format!(
                    "no signed checkpoint covers entries {covered} to {}: they were added outside Andon",
                    have - 1
                ),
            );
        }
        if let Some((index, size)) = self.checkpoints.diverged
            && self.checkpoints.later > 0
        {
            let (later, last) = (self.checkpoints.later, self.checkpoints.later_last);
            if let Some(p) = self.findings.problems.iter_mut().find(|p| {
                p.check == "checkpoint_root" && p.index == index && p.checkpoint == Some(size)
            }) {
                p.message.push_str(&format!(
                    "; the {later} later checkpoints up to size {last} differ too, as they cover it"
                ));
            }
        }
        if self.rules_ran && !self.keys.reached_current() {
            let at = have.saturating_sub(1);
            let (in_force, current) = (
                self.keys.in_force().to_string(),
                self.keys.current().to_string(),
            );
            self.problem(
                at,
                None,
                "key_rotation",
                format!(
                    "the log names {current} as its key, but its rotation entries leave it with {in_force}"
                ),
            );
        }
        Walked {
            findings: self.findings,
            tree: self.tree,
            entries: have,
            checkpoints: self.checkpoints.checked,
            keys: self.keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use andon_ledger::{Checkpoint, LogSigner};

    fn entry(i: u64) -> Vec<u8> {
        format!(r#"{{"v":1,"kind":"application.created","time":"t","actor":"andon","body":{{"name":"app{i}"}}}}"#)
            .into_bytes()
    }

    /// Ten entries, a checkpoint after each; `forge` rewrites entries (with their leaf
    /// hash or not) and `skip` leaves some out. Answers the problems' (index, check).
    fn walk(forge: &[(u64, bool)], skip: &[u64]) -> Vec<(u64, String)> {
        let signer = LogSigner::new("log", [5; 32]);
        let mut honest = MerkleTree::new();
        let mut notes = Vec::new();
        for i in 0..10 {
            honest.push(leaf_hash(&entry(i)));
            let cp = Checkpoint {
                origin: "log".into(),
                size: honest.size(),
                root: honest.root(),
            };
            notes.push(signer.sign(&cp));
        }
        let keys = LogKeys::new(vec![], signer.verifier());
        let mut audit = Audit::new(keys, super::super::default_rules(), Some("log".into()));
        for i in (0..10).filter(|i| !skip.contains(i)) {
            let mut bytes = entry(i);
            let mut leaf = leaf_hash(&bytes);
            if let Some((_, with_leaf)) = forge.iter().find(|(f, _)| *f == i) {
                bytes = entry(100 + i);
                if *with_leaf {
                    leaf = leaf_hash(&bytes);
                }
            }
            audit.entry(RawEntry {
                index: i,
                leaf_hash: leaf,
                bytes: &bytes,
                document: None,
                kind: Some("application.created"),
            });
        }
        for n in &notes {
            audit.checkpoint(n.checkpoint.size, n.checkpoint.root, &n.note);
        }
        let w = audit.finish(10);
        w.findings
            .problems
            .iter()
            .map(|p| (p.index, p.check.clone()))
            .collect()
    }

    #[test]
    fn every_problem_is_named_by_its_entry() {
        assert!(walk(&[], &[]).is_empty());
        assert_eq!(
            walk(&[(3, false), (7, false)], &[]),
            vec![(3, "leaf_hash".into()), (7, "leaf_hash".into())]
        );
        assert_eq!(walk(&[(4, true)], &[]), vec![(4, "checkpoint_root".into())]);
        assert_eq!(walk(&[], &[5]), vec![(5, "missing".into())]);
        assert_eq!(walk(&[], &[8, 9]), vec![(8, "missing".into())]);
        assert_eq!(
            walk(&[(2, false), (6, true)], &[]),
            vec![(2, "leaf_hash".into()), (6, "checkpoint_root".into())]
        );
    }

    #[test]
    fn a_checkpoint_the_log_key_did_not_sign_is_named() {
        let stranger = LogSigner::new("log", [6; 32]);
        let keys = LogKeys::new(vec![], LogSigner::new("log", [5; 32]).verifier());
        let mut audit = Audit::new(keys, vec![], Some("log".into()));
        let bytes = entry(0);
        audit.entry(RawEntry {
            index: 0,
            leaf_hash: leaf_hash(&bytes),
            bytes: &bytes,
            document: None,
            kind: None,
        });
        let cp = Checkpoint {
            origin: "log".into(),
            size: 1,
            root: audit.tree().root(),
        };
        audit.checkpoint(1, cp.root, &stranger.sign(&cp).note);
        let w = audit.finish(1);
        let found: Vec<(u64, &str)> = w
            .findings
            .problems
            .iter()
            .map(|p| (p.index, p.check.as_str()))
            .collect();
        // And so no signed checkpoint covers the entry.
        assert_eq!(found, vec![(0, "checkpoint_signature"), (0, "unsigned")]);
    }
}
