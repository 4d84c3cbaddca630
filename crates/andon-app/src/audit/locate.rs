//! Where a tree first differs from what was signed: the stored checkpoints, searched by
//! halving, bound the first changed entry (it lies after the last one that still matches).

use andon_ledger::{Checkpoint, MerkleTree};

/// Among `sizes` (the stored checkpoints' sizes, increasing), finds the first whose signed
/// checkpoint (`signed(size)`: `None` when it does not verify) the tree does not match, by
/// halving: `(last matching size, first differing size)`, `None` when all match. Only the
/// checkpoints probed are verified (about 20 for a million).
pub fn first_divergence(
    tree: &MerkleTree,
    sizes: &[u64],
    mut signed: impl FnMut(u64) -> Option<Checkpoint>,
) -> Option<(u64, u64)> {
    let mut matches = |size: u64| {
        signed(size).is_some_and(|cp| cp.size == size && tree.root_at(size).ok() == Some(cp.root))
    };
    let (mut lo, mut hi) = (0usize, sizes.len());
    // Invariant: sizes[..lo] match, sizes[hi..] do not (assuming one divergence).
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if matches(sizes[mid]) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let first_bad = *sizes.get(lo)?;
    let last_good = if lo == 0 { 0 } else { sizes[lo - 1] };
    Some((last_good, first_bad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use andon_ledger::{LogSigner, leaf_hash};

    #[test]
    fn the_first_changed_entry_lies_after_the_last_matching_checkpoint() {
        let signer = LogSigner::new("log", [3; 32]);
        let mut honest = MerkleTree::new();
        let mut notes = Vec::new();
        for i in 0..40u32 {
            honest.push(leaf_hash(&i.to_be_bytes()));
            if i % 3 == 2 {
                let cp = Checkpoint {
                    origin: "log".into(),
                    size: honest.size(),
                    root: honest.root(),
                };
                notes.push((cp.size, signer.sign(&cp).note));
            }
        }
        let mut forged = MerkleTree::new();
        for i in 0..40u32 {
            let i = if i == 16 { 999 } else { i };
            forged.push(leaf_hash(&i.to_be_bytes()));
        }
        let sizes: Vec<u64> = notes.iter().map(|(s, _)| *s).collect();
        let verifier = signer.verifier();
        let signed = |size: u64| {
            notes
                .iter()
                .find(|(s, _)| *s == size)
                .and_then(|(_, n)| verifier.verify(n).ok())
        };
        assert_eq!(first_divergence(&forged, &sizes, signed), Some((15, 18)));
        assert_eq!(first_divergence(&honest, &sizes, signed), None);
    }
}
