//! Proof verification, as a client does it: RFC 9162 §2.1.3.2 and §2.1.4.2.

use crate::hash::{Hash, node_hash, split_point};
use crate::{EMPTY_ROOT, LedgerError};

/// Recomputes the root of a tree from all its leaf hashes (RFC 6962 MTH).
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(
                &root_from_leaf_hashes(&leaves[..k]),
                &root_from_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

/// The root an inclusion proof leads to from `leaf` at `index` in a tree of `size`, or why
/// the proof cannot belong to such a tree.
pub fn root_from_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, LedgerError> {
    if index >= size {
        return Err(LedgerError::OutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(LedgerError::ProofMismatch("the proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LedgerError::ProofMismatch("the proof is too short"));
    }
    Ok(r)
}

/// Verifies that `leaf` is at `index` in the tree of `size` whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LedgerError> {
    if &root_from_inclusion(leaf, index, size, proof)? != root {
        return Err(LedgerError::ProofMismatch("the computed root differs"));
    }
    Ok(())
}

/// Verifies that the tree of `size2` with root `root2` extends the tree of `size1` with root
/// `root1`. A proof from size 0 is refused: the empty tree is consistent with anything, so
/// such a "proof" proves nothing.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), LedgerError> {
    if size1 == 0 || size1 > size2 {
        return Err(LedgerError::BadSizes {
            from: size1,
            to: size2,
        });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(LedgerError::ProofMismatch(
                "equal sizes need an empty proof",
            ));
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(LedgerError::ProofMismatch(
                "equal sizes with different roots",
            ))
        };
    }
    if proof.is_empty() {
        return Err(LedgerError::ProofMismatch("the proof is empty"));
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(LedgerError::ProofMismatch("the proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LedgerError::ProofMismatch("the proof is too short"));
    }
    if &fr != root1 {
        return Err(LedgerError::ProofMismatch("the old root differs"));
    }
    if &sr != root2 {
        return Err(LedgerError::ProofMismatch("the new root differs"));
    }
    Ok(())
}
