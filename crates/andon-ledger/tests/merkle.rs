//! The Merkle tree against an independent implementation's published vectors, and
//! property tests over arbitrary sizes.
//!
//! Vectors: the RFC 6962 reference tree (eight leaves, as in Certificate Transparency's
//! merkle_tree_test and transparency-dev/merkle `testonly`) and the happy-path cases of
//! transparency-dev/merkle `testdata/inclusion/*` and `testdata/consistency/*`.

use andon_ledger::{
    EMPTY_ROOT, Hash, MerkleTree, leaf_hash, root_from_leaf_hashes, verify_consistency,
    verify_inclusion,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn reference_tree() -> MerkleTree {
    MerkleTree::from_leaf_hashes(
        LEAVES
            .iter()
            .map(|l| leaf_hash(&hex::decode(l).expect("hex"))),
    )
}

fn b64(s: &str) -> Hash {
    STANDARD
        .decode(s)
        .expect("b64")
        .try_into()
        .expect("32 bytes")
}

#[test]
fn empty_tree_root_is_the_hash_of_the_empty_string() {
    assert_eq!(
        hex::encode(EMPTY_ROOT),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(MerkleTree::new().root(), EMPTY_ROOT);
}

#[test]
fn reference_tree_roots_match_rfc6962_vectors_at_every_size() {
    let tree = reference_tree();
    for (i, want) in ROOTS.iter().enumerate() {
        let size = i as u64 + 1;
        assert_eq!(
            hex::encode(tree.root_at(size).expect("size")),
            *want,
            "size {size}"
        );
        let leaves: Vec<Hash> = (0..size).map(|j| tree.leaf(j).expect("leaf")).collect();
        assert_eq!(hex::encode(root_from_leaf_hashes(&leaves)), *want);
    }
}

/// (leaf index, tree size, root, proof) from transparency-dev/merkle testdata/inclusion.
const INCLUSION: [(u64, u64, &str, &[&str]); 4] = [
    (
        0,
        8,
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        &[
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
    ),
    (
        5,
        8,
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        &[
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
    (
        2,
        3,
        "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=",
        &["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="],
    ),
    (
        1,
        5,
        "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
        &[
            "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
    ),
];

#[test]
fn inclusion_proofs_match_the_published_vectors_and_verify() {
    let tree = reference_tree();
    for (index, size, root, proof) in INCLUSION {
        let want: Vec<Hash> = proof.iter().map(|p| b64(p)).collect();
        assert_eq!(
            tree.inclusion_proof(index, size).expect("proof"),
            want,
            "leaf {index} of {size}"
        );
        assert_eq!(tree.root_at(size).expect("root"), b64(root));
        let leaf = tree.leaf(index).expect("leaf");
        assert_eq!(
            verify_inclusion(&leaf, index, size, &want, &b64(root)),
            Ok(())
        );
        // The mutations the vector suite makes: wrong index, wrong size, flipped bit,
        // truncated or extended proof.
        assert!(verify_inclusion(&leaf, index ^ 1, size, &want, &b64(root)).is_err());
        assert!(verify_inclusion(&leaf, index, size * 2, &want, &b64(root)).is_err());
        let mut flipped = want.clone();
        flipped[0][3] ^= 0x10;
        assert!(verify_inclusion(&leaf, index, size, &flipped, &b64(root)).is_err());
        assert!(verify_inclusion(&leaf, index, size, &want[..want.len() - 1], &b64(root)).is_err());
        let mut longer = want.clone();
        longer.push([0; 32]);
        assert!(verify_inclusion(&leaf, index, size, &longer, &b64(root)).is_err());
    }
}

/// (size1, size2, proof) from transparency-dev/merkle testdata/consistency.
const CONSISTENCY: [(u64, u64, &[&str]); 4] = [
    (
        1,
        8,
        &[
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ],
    ),
    (
        6,
        8,
        &[
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
    (
        2,
        5,
        &[
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
        ],
    ),
    (
        6,
        7,
        &[
            "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
            "sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8=",
            "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
        ],
    ),
];

#[test]
fn consistency_proofs_match_the_published_vectors_and_verify() {
    let tree = reference_tree();
    for (m, n, proof) in CONSISTENCY {
        let want: Vec<Hash> = proof.iter().map(|p| b64(p)).collect();
        assert_eq!(
            tree.consistency_proof(m, n).expect("proof"),
            want,
            "{m} -> {n}"
        );
        let (r1, r2) = (tree.root_at(m).expect("r1"), tree.root_at(n).expect("r2"));
        assert_eq!(verify_consistency(m, n, &want, &r1, &r2), Ok(()));
        assert!(
            verify_consistency(m, n, &want, &r2, &r1).is_err(),
            "swapped roots"
        );
        assert!(
            verify_consistency(m, n, &want[1..], &r1, &r2).is_err(),
            "truncated"
        );
        let mut flipped = want.clone();
        flipped[want.len() - 1][0] ^= 1;
        assert!(
            verify_consistency(m, n, &flipped, &r1, &r2).is_err(),
            "modified"
        );
    }
}

#[test]
fn a_consistency_proof_from_size_zero_is_refused() {
    let tree = reference_tree();
    assert!(tree.consistency_proof(0, 8).is_err());
    assert!(verify_consistency(0, 8, &[], &EMPTY_ROOT, &tree.root()).is_err());
}

#[test]
fn truncating_undoes_appends_exactly() {
    let mut tree = reference_tree();
    let before = tree.root_at(5).expect("root");
    tree.truncate(5);
    assert_eq!(tree.size(), 5);
    assert_eq!(tree.root(), before);
    tree.push(leaf_hash(b"other"));
    assert_ne!(tree.root(), hex::decode(ROOTS[5]).expect("hex").as_slice());
}

fn tree_of(n: u64) -> MerkleTree {
    MerkleTree::from_leaf_hashes((0..n).map(|i| leaf_hash(&i.to_le_bytes())))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_leaf_has_a_verifying_inclusion_proof(size in 1u64..600, pick in any::<prop::sample::Index>()) {
        let tree = tree_of(size);
        let index = pick.index(size as usize) as u64;
        let proof = tree.inclusion_proof(index, size).expect("proof");
        let leaf = tree.leaf(index).expect("leaf");
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &tree.root()), Ok(()));
    }

    #[test]
    fn an_altered_leaf_never_verifies(size in 1u64..600, pick in any::<prop::sample::Index>(), bit in 0usize..256) {
        let tree = tree_of(size);
        let index = pick.index(size as usize) as u64;
        let proof = tree.inclusion_proof(index, size).expect("proof");
        let mut leaf = tree.leaf(index).expect("leaf");
        leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &tree.root()).is_err());
    }

    #[test]
    fn any_two_sizes_are_consistent(a in 1u64..600, b in 1u64..600) {
        let (m, n) = (a.min(b), a.max(b));
        let tree = tree_of(n);
        let proof = tree.consistency_proof(m, n).expect("proof");
        let (r1, r2) = (tree.root_at(m).expect("r1"), tree.root_at(n).expect("r2"));
        prop_assert_eq!(verify_consistency(m, n, &proof, &r1, &r2), Ok(()));
    }

    #[test]
    fn a_forked_history_is_never_consistent(a in 1u64..300, extra in 1u64..300, bit in 0usize..256) {
        // Same size-b tree but with one leaf before `a` altered: no proof may link them.
        let n = a + extra;
        let tree = tree_of(n);
        let mut leaves: Vec<Hash> = (0..n).map(|i| tree.leaf(i).expect("leaf")).collect();
        leaves[(bit as u64 % a) as usize][bit / 8] ^= 1 << (bit % 8);
        let forked = MerkleTree::from_leaf_hashes(leaves);
        let proof = forked.consistency_proof(a, n).expect("proof");
        prop_assert!(verify_consistency(a, n, &proof, &tree.root_at(a).expect("r1"), &forked.root()).is_err());
    }

    #[test]
    fn incremental_roots_equal_recomputed_roots(n in 0u64..300) {
        let tree = tree_of(n);
        let leaves: Vec<Hash> = (0..n).map(|i| tree.leaf(i).expect("leaf")).collect();
        prop_assert_eq!(tree.root(), root_from_leaf_hashes(&leaves));
    }
}
