//! An in-memory Merkle tree that grows by appends and answers roots and proofs for any
//! earlier size in O(log n) hashes.
//!
//! It stores every perfect subtree hash: `levels[k][i]` covers leaves `i*2^k .. (i+1)*2^k`.
//! That is about 2n hashes (64 MiB for a million entries), and makes each append O(1)
//! amortised and each proof a handful of lookups.

use crate::hash::{Hash, node_hash, split_point};
use crate::{EMPTY_ROOT, LedgerError};

/// The tree of all leaf hashes appended so far.
#[derive(Clone, Debug, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree holding `leaves`, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = Self::new();
        for l in leaves {
            t.push(l);
        }
        t
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash; returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let index = self.levels[0].len() as u64 - 1;
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// Drops every leaf from `size` on (used to undo appends whose commit failed).
    pub fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            level.truncate((size >> k) as usize);
        }
        while self.levels.last().is_some_and(|l| l.is_empty()) {
            self.levels.pop();
        }
    }

    /// The leaf hash at `index`.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// MTH(D[start..end]) for a range that the RFC's recursion produces: `start` is a
    /// multiple of the largest power of two not above `end - start`.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n.is_power_of_two() {
            let k = n.trailing_zeros() as usize;
            return self.levels[k][(start >> k) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.subtree(start, start + k),
            &self.subtree(start + k, end),
        )
    }

    /// The root of the tree as it was at `size`.
    pub fn root_at(&self, size: u64) -> Result<Hash, LedgerError> {
        if size > self.size() {
            return Err(LedgerError::OutOfRange {
                index: size,
                size: self.size(),
            });
        }
        Ok(if size == 0 {
            EMPTY_ROOT
        } else {
            self.subtree(0, size)
        })
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or(EMPTY_ROOT)
    }

    /// The inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LedgerError> {
        if size > self.size() || index >= size {
            return Err(LedgerError::OutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    /// The consistency proof (RFC 9162 §2.1.4.1) between sizes `from` and `to`,
    /// `0 < from <= to <= size`.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>, LedgerError> {
        if from == 0 || from > to {
            return Err(LedgerError::BadSizes { from, to });
        }
        if to > self.size() {
            return Err(LedgerError::OutOfRange {
                index: to,
                size: self.size(),
            });
        }
        let mut proof = Vec::new();
        self.subproof(from, 0, to, true, &mut proof);
        Ok(proof)
    }

    fn subproof(&self, m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }
}
