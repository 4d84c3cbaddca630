//! Who stands behind each approver of a change (docs/identities.md).
//!
//! Nobody approves with a token an admin minted in their name (`token_not_own`), but an
//! admin can create an identity, keep its one-time enrollment code and enroll as it. The
//! ledger says who did each step: the `identity.created` entry names the admin who created
//! the approver, the approval's entry names the token it was made with, and that token's
//! `token.issued` entry names the enrollment code it was issued with, whose
//! `enrollment.created` entry names the admin who handed it out. The ledger-derived
//! authority holds all of it; each approval shown carries it, with a warning in words when
//! an admin behind the approver is also involved in the same change.

use std::collections::BTreeSet;

use andon_domain::change::{Approval, ApproverProvenance, Change};
use andon_domain::{EntryKind, LedgerEntry, Via};

use crate::authority::Authority;
use crate::{App, AppError};

/// The approvals of `change`, each with its approver's provenance; `authors` are the
/// source-control authors of the change's commits and pull requests, lowercase.
pub async fn approvals_with_provenance(
    app: &App,
    change: &Change,
    authors: &BTreeSet<String>,
) -> Result<Vec<Approval>, AppError> {
    if change.approvals.is_empty() {
        return Ok(Vec::new());
    }
    let deployers = app
        .store()
        .change_deployers(&change.application, &change.id)
        .await?;
    let involved = Involved {
        change,
        authors,
        deployers: &deployers,
    };
    let mut out = Vec::with_capacity(change.approvals.len());
    for a in &change.approvals {
        let (via, altered) = approval_via(app, a.ledger_index).await?;
        let mut p = app.with_authority(|auth| provenance(auth, &a.approver, via.as_ref()));
        if altered {
            p.warnings.push(format!(
                "its ledger entry {} is not the one the verified ledger holds",
                a.ledger_index
            ));
        }
        p.warnings.extend(involved.warnings(&p, a));
        out.push(Approval {
            provenance: Some(p),
            ..a.clone()
        });
    }
    Ok(out)
}

/// The token the approval at `index` was made with, read from its ledger entry; and
/// whether that entry differs from the leaf this server's verified tree holds for it (an
/// entry not in the tree yet is read as stored).
async fn approval_via(app: &App, index: u64) -> Result<(Option<Via>, bool), AppError> {
    let kind = [EntryKind::ChangeApproval.as_str()];
    let stored = app
        .store()
        .entries_of_kinds(index, index + 1, &kind, 1)
        .await?;
    let Some((_, bytes)) = stored.into_iter().next() else {
        return Ok((None, false));
    };
    let leaf = app.0.tree.read().ok().and_then(|t| t.leaf(index));
    if leaf.is_some_and(|l| l != andon_ledger::leaf_hash(&bytes)) {
        return Ok((None, true));
    }
    let via = serde_json::from_slice::<LedgerEntry>(&bytes)
        .ok()
        .filter(|e| e.kind == EntryKind::ChangeApproval)
        .and_then(|e| e.via);
    Ok((via, false))
}

/// What the authority says of `approver` and of the token in `via`.
fn provenance(auth: &Authority, approver: &str, via: Option<&Via>) -> ApproverProvenance {
    let identity = auth.identity(approver);
    let token = via.and_then(|v| auth.token(&v.token));
    let enrollment = token.and_then(|t| t.enrollment.as_ref());
    ApproverProvenance {
        identity_created_by: identity.map(|i| i.created_by.clone()),
        identity_created_at: identity.map(|i| i.created_at.clone()),
        identity_created_index: identity.map(|i| i.created_index),
        token: via.map(|v| v.token.clone()),
        token_issued_by: via.map(|v| v.issued_by.clone()),
        token_issued_index: token.map(|t| t.issued_index),
        enrolled_by: enrollment.map(|e| e.created_by.clone()),
        enrollment_created_at: enrollment.map(|e| e.created_at.clone()),
        enrollment_index: enrollment.map(|e| e.created_index),
        warnings: Vec::new(),
    }
}

/// Who else is involved in a change: who requested it, who wrote its commits and pull
/// requests, who deployed it, who decided on it.
struct Involved<'a> {
    change: &'a Change,
    authors: &'a BTreeSet<String>,
    deployers: &'a [String],
}

impl Involved<'_> {
    /// What `name` did in the change besides approval `except`, in words.
    fn roles(&self, name: &str, except: &Approval) -> Vec<&'static str> {
        let same = |n: &str| n.eq_ignore_ascii_case(name);
        let mut roles = Vec::new();
        if same(&self.change.requested_by) {
            roles.push("requested this change");
        }
        if self.authors.contains(&name.to_ascii_lowercase()) {
            roles.push("wrote commits or pull requests in it");
        }
        if self.deployers.iter().any(|d| same(d)) {
            roles.push("deployed it");
        }
        let others = || {
            self.change
                .approvals
                .iter()
                .filter(|o| o.ledger_index != except.ledger_index && same(&o.approver))
        };
        if others().any(|o| o.approve) {
            roles.push("approved it");
        }
        if others().any(|o| !o.approve) {
            roles.push("rejected it");
        }
        roles
    }

    /// One warning per admin behind approval `a` (who created the identity, handed out the
    /// enrollment code, issued the token) who is also involved in the change.
    fn warnings(&self, p: &ApproverProvenance, a: &Approval) -> Vec<String> {
        let mut behind: Vec<(&str, Vec<&str>)> = Vec::new();
        for (who, did) in [
            (&p.identity_created_by, "identity created"),
            (&p.enrolled_by, "enrolled"),
            (&p.token_issued_by, "token issued"),
        ] {
            let Some(who) = who.as_deref().filter(|w| *w != a.approver) else {
                continue;
            };
            match behind.iter_mut().find(|(n, _)| *n == who) {
                Some((_, d)) => d.push(did),
                None => behind.push((who, vec![did])),
            }
        }
        behind
            .into_iter()
            .filter_map(|(admin, did)| {
                let roles = self.roles(admin, a);
                (!roles.is_empty()).then(|| {
                    format!(
                        "{} by admin {admin}, who also {}",
                        did.join(" and "),
                        in_words(&roles)
                    )
                })
            })
            .collect()
    }
}

/// "a", "a and b", "a, b and c".
fn in_words(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use andon_domain::change::{ChangeClass, ChangeFields, ChangeStatus, Classification};

    use super::*;

    fn change(requested_by: &str, approvals: &[(&str, bool)]) -> Change {
        Change {
            id: "CHG-1".into(),
            ledger_index: 1,
            application: "pay".into(),
            environment: "production".into(),
            artifact_name: "pay".into(),
            artifact_digest: format!("sha256:{}", "a".repeat(64)),
            change_type: "application".into(),
            class: ChangeClass::Normal,
            status: ChangeStatus::Pending,
            requested_by: requested_by.into(),
            emergency_reason: None,
            review_due_at: None,
            reviewed_at: None,
            classification: Classification::default(),
            fields: ChangeFields::default(),
            created_at: 0,
            approvals: approvals
                .iter()
                .enumerate()
                .map(|(i, (who, approve))| Approval {
                    change: "CHG-1".into(),
                    approver: (*who).into(),
                    approve: *approve,
                    comment: String::new(),
                    at: 0,
                    ledger_index: 10 + i as u64,
                    provenance: None,
                })
                .collect(),
        }
    }

    fn behind(created: &str, enrolled: &str) -> ApproverProvenance {
        ApproverProvenance {
            identity_created_by: Some(created.into()),
            enrolled_by: Some(enrolled.into()),
            token_issued_by: Some("xavier".into()),
            ..Default::default()
        }
    }

    #[test]
    fn an_admin_behind_the_approver_who_is_involved_is_named_with_what_they_did() {
        let c = change("Bob", &[("xavier", true), ("bob", false)]);
        let deployers = vec!["ci-pay".to_owned(), "bob".to_owned()];
        let authors = BTreeSet::from(["bob".to_owned()]);
        let involved = Involved {
            change: &c,
            authors: &authors,
            deployers: &deployers,
        };
        assert_eq!(
            involved.warnings(&behind("bob", "bob"), &c.approvals[0]),
            vec![
                "identity created and enrolled by admin bob, who also requested this change, \
                 wrote commits or pull requests in it, deployed it and rejected it"
            ]
        );
        // Two admins, each named for what they did; one of them is not involved.
        let quiet = Involved {
            change: &c,
            authors: &BTreeSet::new(),
            deployers: &[],
        };
        assert_eq!(
            quiet.warnings(&behind("admin", "bob"), &c.approvals[0]),
            vec!["enrolled by admin bob, who also requested this change and rejected it"]
        );
    }

    #[test]
    fn an_independently_enrolled_approver_has_no_warning() {
        let c = change("ci-pay", &[("xavier", true), ("carol", true)]);
        let involved = Involved {
            change: &c,
            authors: &BTreeSet::from(["alice".to_owned()]),
            deployers: &["ci-pay".to_owned()],
        };
        assert!(
            involved
                .warnings(&behind("admin", "admin"), &c.approvals[0])
                .is_empty()
        );
        // The approver's own token and identity are not someone behind it.
        assert!(
            involved
                .warnings(&behind("xavier", "xavier"), &c.approvals[0])
                .is_empty()
        );
    }

    #[test]
    fn words_are_joined_as_a_sentence() {
        assert_eq!(in_words(&[]), "");
        assert_eq!(in_words(&["a"]), "a");
        assert_eq!(in_words(&["a", "b"]), "a and b");
        assert_eq!(in_words(&["a", "b", "c"]), "a, b and c");
    }
}
