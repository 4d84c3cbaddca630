//! Building the authority from the stored ledger: at start, and for entries other servers
//! appended.

use andon_domain::LedgerEntry;
use andon_ledger::{MerkleTree, leaf_hash};
use andon_store::Store;

use super::Authority;
use crate::{App, AppError};

/// The entry kinds the authority is built from.
pub const AUTHORITY_KINDS: &[&str] = &[
    "identity.created",
    "token.issued",
    "token.revoked",
    "identity.disabled",
    "enrollment.created",
    "key.registered",
    "key.revoked",
    "application.signing_policy",
    "application.evidence_policy",
    "sigstore.trusted_root",
    "application.keyless_policy",
    "oidc.issuer",
    "oidc.workload_rule",
    "oidc.workload_rule_removed",
    "oidc.person_rule",
    "oidc.person_rule_removed",
    "identity.linked",
];

const PAGE: u32 = 5_000;

/// Reads the authority's entries among `[from, to)` page by page and hands each page to
/// `take` with the entries parsed.
async fn pages(
    store: &Store,
    from: u64,
    to: u64,
    mut take: impl FnMut(Vec<(u64, Vec<u8>)>) -> Result<(), String>,
) -> Result<(), String> {
    let mut start = from;
    while start < to {
        let page = store
            .entries_of_kinds(start, to, AUTHORITY_KINDS, PAGE)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last().map(|(i, _)| *i) else {
            break;
        };
        take(page)?;
        start = last + 1;
    }
    Ok(())
}

/// Applies a page of entries, each checked against the leaf the verified tree holds for its
/// index (`leaf`): an entry the database holds but the tree does not, or holds differently,
/// is refused.
fn apply_page(
    authority: &mut Authority,
    page: &[(u64, Vec<u8>)],
    leaf: impl Fn(u64) -> Option<[u8; 32]>,
) -> Result<(), String> {
    for (index, bytes) in page {
        if leaf(*index) != Some(leaf_hash(bytes)) {
            return Err(format!(
                "ledger entry {index} does not hash to the leaf the verified tree holds for it: the stored entry was changed"
            ));
        }
        let entry: LedgerEntry = serde_json::from_slice(bytes)
            .map_err(|e| format!("ledger entry {index} is not an entry: {e}"))?;
        if let Err(why) = authority.apply(*index, &entry) {
            tracing::warn!(index, %why, "ledger entry grants nothing");
        }
    }
    Ok(())
}

/// The authority as the entries in `tree` (verified) make it.
pub async fn load(store: &Store, tree: &MerkleTree) -> Result<Authority, String> {
    let mut authority = Authority::default();
    pages(store, 0, tree.size(), |page| {
        apply_page(&mut authority, &page, |i| tree.leaf(i))
    })
    .await?;
    Ok(authority)
}

/// Takes the authority's entries among `[from, to)` (appended by another server and already
/// in this server's tree) into the application's authority.
pub async fn absorb(app: &App, from: u64, to: u64) -> Result<(), AppError> {
    pages(app.store(), from, to, |page| {
        let tree = app
            .0
            .tree
            .read()
            .map_err(|_| "the ledger tree lock is poisoned".to_owned())?;
        let mut authority = app
            .0
            .authority
            .write()
            .map_err(|_| "the authority lock is poisoned".to_owned())?;
        apply_page(&mut authority, &page, |i| tree.leaf(i))
    })
    .await
    .map_err(AppError::unavailable)
}
