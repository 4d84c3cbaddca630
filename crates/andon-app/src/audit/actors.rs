//! Who acted, checked against what the entries before said: every actor, token and signing
//! key introduced by an earlier entry and not revoked, expired or disabled at that point,
//! and decisions made only with a token the identity issued for itself.

use andon_domain::sigstore::{KeylessSignature, verify_bundle};
use andon_domain::{EntryKind, EvidenceFact, KeyId};
use serde::Deserialize;

use super::keys::LogKeys;
use super::rules::{EntryRule, Finding, Subject};
use crate::authority::Authority;

/// The rule: it rebuilds the authority entry by entry, as the server does, and checks each
/// entry's actor against it before applying the entry.
#[derive(Default)]
pub struct Actors {
    authority: Authority,
}

/// The kinds only a token the identity issued for itself may cause.
const DECISIONS: &[EntryKind] = &[
    EntryKind::ChangeApproval,
    EntryKind::WaiverApproved,
    EntryKind::AccessGranted,
    EntryKind::AccessRejected,
];

fn millis(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or(i64::MAX)
}

impl Actors {
    fn check_actor(&self, e: &Subject<'_>, out: &mut Vec<Finding>) {
        let entry = e.entry;
        let at = millis(&entry.time);
        match &entry.via {
            Some(via) => {
                match self.authority.token(&via.token) {
                    None => out.push(Finding::new(
                        "actor",
                        format!(
                            "{} acted with token {}, which no earlier entry issued",
                            entry.actor, via.token
                        ),
                    )),
                    Some(t)
                        if t.identity != entry.actor
                            || t.issued_by != via.issued_by
                            || t.federated != via.federated =>
                    {
                        out.push(Finding::new(
                            "actor",
                            format!(
                                "it says {} acted with token {} issued by {}; that token is {}'s, issued by {}",
                                entry.actor, via.token, via.issued_by, t.identity, t.issued_by
                            ),
                        ))
                    }
                    Some(_) => {
                        if let Err(e) = self.authority.token_valid(&via.token, at) {
                            out.push(Finding::new(
                                "actor",
                                format!("{} acted after: {}", entry.actor, e.message),
                            ));
                        }
                    }
                }
                let linked = self
                    .authority
                    .identity(&entry.actor)
                    .and_then(|i| i.sso.as_ref());
                if let Some(link) = linked
                    && DECISIONS.contains(&entry.kind)
                    && via
                        .federated
                        .as_ref()
                        .is_none_or(|f| f.issuer != link.issuer || f.subject != link.subject)
                {
                    out.push(Finding::new(
                        "actor",
                        format!(
                            "{} signs in through {}, yet decided with a token no sign-in of theirs made",
                            entry.actor, link.issuer
                        ),
                    ));
                }
                if DECISIONS.contains(&entry.kind) && !via.self_issued(&entry.actor) {
                    out.push(Finding::new(
                        "actor",
                        format!(
                            "{} decided with a token {} issued, not one of its own",
                            entry.actor, via.issued_by
                        ),
                    ));
                }
            }
            None => {
                let server = entry.actor == "andon" || entry.actor.starts_with("webhook:");
                let known = self.authority.identity(&entry.actor);
                if !server && known.is_none() {
                    out.push(Finding::new(
                        "actor",
                        format!(
                            "its actor {} was introduced by no earlier entry",
                            entry.actor
                        ),
                    ));
                } else if let Some(d) = known.and_then(|i| i.disabled.as_ref()) {
                    out.push(Finding::new(
                        "actor",
                        format!(
                            "{} acted after it was disabled at entry {}",
                            entry.actor, d.index
                        ),
                    ));
                }
            }
        }
    }

    fn check_key(&self, e: &Subject<'_>, out: &mut Vec<Finding>) {
        if e.entry.kind != EntryKind::Evidence {
            return;
        }
        let Ok(f) = EvidenceFact::deserialize(&e.entry.body) else {
            return;
        };
        if let Some(k) = &f.keyless {
            self.check_keyless(e, &f, k, out);
            return;
        }
        let keyid = f.keyid.to_string();
        // The co-signers and the threshold, as intake and the sequencer checked them at this
        // index (the signer's own key is checked below, with what it names).
        if !f.cosigners.is_empty()
            || self
                .authority
                .signing_policy(f.application.as_str())
                .index
                .is_some()
        {
            let keys = std::iter::once(&f.keyid)
                .chain(&f.cosigners)
                .map(KeyId::as_str);
            if let Err(e) =
                self.authority
                    .admit_signers(f.application.as_str(), keys, millis(&e.entry.time))
            {
                out.push(Finding::new(
                    "key",
                    format!("its signatures: {}", e.message),
                ));
            }
        }
        match self.authority.key(&keyid) {
            None => out.push(Finding::new(
                "key",
                format!("it is signed by key {keyid}, which no earlier entry registered"),
            )),
            Some(k) => {
                if let Some(r) = k.revoked_index {
                    out.push(Finding::new(
                        "key",
                        format!("it is signed by key {keyid}, revoked at entry {r} before it"),
                    ));
                }
                if let Err(err) = self.authority.job_key_current(k, millis(&e.entry.time)) {
                    out.push(Finding::new("key", err.message));
                }
                if k.identity != f.signer {
                    out.push(Finding::new(
                        "key",
                        format!(
                            "it names {} as the signer; key {keyid} is {}'s",
                            f.signer, k.identity
                        ),
                    ));
                }
            }
        }
    }
}

impl Actors {
    /// A keyless bundle's entry: its signer admitted as of its index (trusted root and
    /// keyless policy), and, where the document is at hand, the bundle verified again against
    /// the trusted roots of that index, naming the same signer.
    fn check_keyless(
        &self,
        e: &Subject<'_>,
        f: &EvidenceFact,
        k: &KeylessSignature,
        out: &mut Vec<Finding>,
    ) {
        if let Err(err) = self.authority.admit_keyless(f.application.as_str(), k) {
            out.push(Finding::new(
                "key",
                format!("its keyless signer: {}", err.message),
            ));
        }
        if f.signer != k.identity {
            out.push(Finding::new(
                "key",
                format!(
                    "it names {} as the signer; its certificate names {}",
                    f.signer, k.identity
                ),
            ));
        }
        let (Some(doc), Some(subject)) = (e.document, f.subjects.first()) else {
            return;
        };
        let roots = self.authority.sigstore_roots();
        let digest = &subject.digest;
        match verify_bundle(doc, (digest.algorithm().as_str(), digest.hex()), &roots) {
            Ok(v) if v.signature == *k && v.key == f.keyid => {}
            Ok(v) => out.push(Finding::new(
                "key",
                format!(
                    "its bundle verifies as signed by {} (log index {:?}), not as recorded",
                    v.signature.identity, v.signature.log_index
                ),
            )),
            Err(err) => out.push(Finding::new(
                "key",
                format!("its bundle no longer verifies: {err}"),
            )),
        }
    }
}

impl EntryRule for Actors {
    fn check(&mut self, e: &Subject<'_>, _keys: &mut LogKeys, out: &mut Vec<Finding>) {
        self.check_actor(e, out);
        self.check_key(e, out);
        if let Err(why) = self.authority.apply(e.index, e.entry) {
            out.push(Finding::new(
                "actor",
                format!("it names what no earlier entry introduced: {why}"),
            ));
        }
    }
}

#[cfg(test)]
#[path = "keyless_tests.rs"]
mod keyless_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use andon_domain::{LedgerEntry, Via, token_id};
    use serde_json::json;

    fn entry(
        kind: EntryKind,
        actor: &str,
        via: Option<(&str, &str)>,
        body: serde_json::Value,
    ) -> LedgerEntry {
        LedgerEntry {
            v: 1,
            kind,
            time: "2026-12-01T00:00:00Z".into(),
            actor: actor.into(),
            via: via.map(|(t, i)| Via {
                token: t.into(),
                issued_by: i.into(),
                federated: None,
            }),
            body,
            rows: None,
        }
    }

    /// Runs the rule over `entries`; answers the checks it found, by index.
    fn run(entries: &[LedgerEntry]) -> Vec<(u64, &'static str)> {
        let mut rule = Actors::default();
        let mut keys = LogKeys::new(
            vec![],
            andon_ledger::LogSigner::new("log", [5; 32]).verifier(),
        );
        let mut found = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let bytes = e.to_bytes();
            let mut out = Vec::new();
            rule.check(
                &Subject {
                    index: i as u64,
                    bytes: &bytes,
                    entry: e,
                    document: None,
                },
                &mut keys,
                &mut out,
            );
            found.extend(out.into_iter().map(|f| (i as u64, f.check)));
        }
        found
    }

    #[test]
    fn actors_tokens_and_keys_come_from_earlier_entries() {
        let key = andon_domain::SigningKey::from_seed([3; 32]).public_key();
        let keyid = key.key_id().to_string();
        let (admin_tok, ci_tok, dana_tok) = ("aa".repeat(32), "bb".repeat(32), "cc".repeat(32));
        let (admin_id, ci_id, dana_id) =
            (token_id(&admin_tok), token_id(&ci_tok), token_id(&dana_tok));
        let evidence = |n: u8| {
            json!({"document": format!("sha256:{}", hex::encode([n; 32])), "application": "pay",
                   "run": null, "predicate_type": "x", "subjects": [], "keyid": keyid, "signer": "ci"})
        };
        let admin = Some((admin_id.as_str(), "admin"));
        let history = vec![
            entry(
                EntryKind::IdentityCreated,
                "andon",
                None,
                json!({"name": "admin", "role": "admin", "applications": []}),
            ),
            entry(
                EntryKind::TokenIssued,
                "andon",
                None,
                json!({"identity": "admin", "token_sha256": admin_tok, "issued_by": "admin"}),
            ),
            entry(
                EntryKind::IdentityCreated,
                "admin",
                admin,
                json!({"name": "ci", "role": "pipeline", "applications": ["pay"]}),
            ),
            entry(
                EntryKind::TokenIssued,
                "admin",
                admin,
                json!({"identity": "ci", "token_sha256": ci_tok}),
            ),
            entry(
                EntryKind::KeyRegistered,
                "admin",
                admin,
                json!({"identity": "ci", "keyid": keyid, "public_key": key.to_ledger_text()}),
            ),
            entry(
                EntryKind::Evidence,
                "ci",
                Some((ci_id.as_str(), "admin")),
                evidence(1),
            ),
            entry(
                EntryKind::IdentityCreated,
                "admin",
                admin,
                json!({"name": "dana", "role": "approver", "applications": []}),
            ),
            entry(
                EntryKind::TokenIssued,
                "admin",
                admin,
                json!({"identity": "dana", "token_sha256": dana_tok}),
            ),
        ];
        assert!(run(&history).is_empty(), "{:?}", run(&history));

        // Evidence after its key's revocation; an approval with an admin-minted token; a
        // token nobody issued; an actor nobody created.
        let mut later = history.clone();
        later.push(entry(
            EntryKind::KeyRevoked,
            "admin",
            admin,
            json!({"keyid": keyid}),
        ));
        later.push(entry(
            EntryKind::Evidence,
            "ci",
            Some((ci_id.as_str(), "admin")),
            evidence(2),
        ));
        later.push(entry(
            EntryKind::ChangeApproval,
            "dana",
            Some((dana_id.as_str(), "admin")),
            json!({}),
        ));
        later.push(entry(
            EntryKind::ApplicationCreated,
            "admin",
            Some(("tok_forged", "admin")),
            json!({}),
        ));
        later.push(entry(
            EntryKind::ApplicationCreated,
            "mallory",
            None,
            json!({}),
        ));
        later.push(entry(
            EntryKind::TokenRevoked,
            "admin",
            admin,
            json!({"token": ci_id, "identity": "ci"}),
        ));
        later.push(entry(
            EntryKind::Evidence,
            "ci",
            Some((ci_id.as_str(), "admin")),
            evidence(3),
        ));
        assert_eq!(
            run(&later),
            vec![
                (9, "key"),
                (10, "actor"),
                (11, "actor"),
                (12, "actor"),
                (14, "actor"),
                (14, "key"),
            ]
        );

        // Evidence signed by fewer keys than the application's threshold at its index.
        let mut policy = history.clone();
        policy.push(entry(
            EntryKind::SigningPolicySet,
            "admin",
            admin,
            json!({"application": "pay", "threshold": 2}),
        ));
        policy.push(entry(
            EntryKind::Evidence,
            "ci",
            Some((ci_id.as_str(), "admin")),
            evidence(4),
        ));
        assert_eq!(run(&policy), vec![(policy.len() as u64 - 1, "key")]);

        // A co-signer no entry registered does not count, threshold or not.
        let mut cosigned = history.clone();
        let mut body = evidence(5);
        body["cosigners"] = json!(["ab".repeat(32)]);
        cosigned.push(entry(
            EntryKind::Evidence,
            "ci",
            Some((ci_id.as_str(), "admin")),
            body,
        ));
        assert_eq!(run(&cosigned), vec![(cosigned.len() as u64 - 1, "key")]);
    }
}
