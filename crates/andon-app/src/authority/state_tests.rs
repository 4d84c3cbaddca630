//! Unit tests of the authority state: what each entry grants and takes away.
use super::*;
use serde_json::json;

fn entry(kind: EntryKind, actor: &str, body: serde_json::Value) -> LedgerEntry {
    LedgerEntry {
        v: 1,
        kind,
        time: "2026-12-01T00:00:00Z".into(),
        actor: actor.into(),
        via: None,
        body,
        rows: None,
    }
}

fn seeded() -> Authority {
    let mut a = Authority::default();
    let es = [
        entry(
            EntryKind::IdentityCreated,
            "andon",
            json!({"name": "admin", "role": "admin", "applications": []}),
        ),
        entry(
            EntryKind::TokenIssued,
            "andon",
            json!({"identity": "admin", "token_sha256": "aa".repeat(32), "issued_by": "admin"}),
        ),
        entry(
            EntryKind::IdentityCreated,
            "admin",
            json!({"name": "dana", "role": "approver", "applications": [], "groups": ["dba"]}),
        ),
        entry(
            EntryKind::TokenIssued,
            "admin",
            json!({"identity": "dana", "token_sha256": "bb".repeat(32)}),
        ),
    ];
    for (i, e) in es.iter().enumerate() {
        a.apply(i as u64, e).expect("applies");
    }
    a
}

#[test]
fn a_token_acts_as_its_identity_and_says_who_issued_it() {
    let a = seeded();
    let dana = a.actor(&"bb".repeat(32), 0).expect("known");
    assert_eq!(dana.name, "dana");
    assert_eq!(dana.groups, vec!["dba"]);
    let via = dana.via.expect("via");
    assert_eq!(via.issued_by, "admin", "an admin minted it");
    assert!(!via.self_issued("dana"));
    let admin = a.actor(&"aa".repeat(32), 0).expect("known");
    assert!(admin.via.expect("via").self_issued("admin"));
    assert_eq!(
        a.actor(&"cc".repeat(32), 0).err().map(|e| e.code),
        Some("unauthorized")
    );
}

#[test]
fn revocation_and_disabling_take_effect_at_their_entry() {
    let mut a = seeded();
    let id = token_id(&"bb".repeat(32));
    a.apply(
        4,
        &entry(
            EntryKind::TokenRevoked,
            "admin",
            json!({"token": id, "identity": "dana", "reason": "left"}),
        ),
    )
    .expect("revoked");
    let e = a.actor(&"bb".repeat(32), 0).expect_err("refused");
    assert!(e.message.contains("revoked"), "{}", e.message);
    a.apply(
        5,
        &entry(
            EntryKind::IdentityDisabled,
            "admin",
            json!({"name": "admin", "reason": "x"}),
        ),
    )
    .expect("disabled");
    let e = a.actor(&"aa".repeat(32), 0).expect_err("refused");
    assert!(e.message.contains("disabled"), "{}", e.message);
}

#[test]
fn an_entry_naming_what_nobody_introduced_changes_nothing() {
    let mut a = seeded();
    assert!(
        a.apply(
            4,
            &entry(
                EntryKind::TokenIssued,
                "admin",
                json!({"identity": "ghost", "token_sha256": "dd".repeat(32)}),
            ),
        )
        .is_err()
    );
    assert!(a.actor(&"dd".repeat(32), 0).is_err());
    assert!(
        a.apply(
            5,
            &entry(EntryKind::KeyRevoked, "admin", json!({"keyid": "nope"}))
        )
        .is_err()
    );
}

#[test]
fn a_token_issued_with_an_enrollment_code_names_the_admin_who_handed_it_out() {
    let mut a = seeded();
    a.apply(
        4,
        &entry(
            EntryKind::EnrollmentCreated,
            "admin",
            json!({"identity": "dana", "code_sha256": "c0".repeat(32),
                   "expires_at": "2026-12-08T00:00:00Z"}),
        ),
    )
    .expect("handed out");
    a.apply(
        5,
        &entry(
            EntryKind::TokenIssued,
            "dana",
            json!({"identity": "dana", "token_sha256": "ff".repeat(32),
                   "issued_by": "dana", "enrollment": "c0".repeat(32)}),
        ),
    )
    .expect("redeemed");
    let t = a.token(&token_id(&"ff".repeat(32))).expect("issued");
    let origin = t.enrollment.as_ref().expect("from a code");
    assert_eq!(
        (origin.created_by.as_str(), origin.created_index),
        ("admin", 4)
    );
    assert_eq!(origin.created_at, "2026-12-01T00:00:00Z");
    assert_eq!(t.issued_by, "dana");
    // A token an admin minted came from no code.
    let minted = a.token(&token_id(&"bb".repeat(32))).expect("issued");
    assert!(minted.enrollment.is_none());
}

#[test]
fn an_expired_token_is_refused() {
    let mut a = seeded();
    a.apply(
        4,
        &entry(
            EntryKind::TokenIssued,
            "admin",
            json!({"identity": "dana", "token_sha256": "ee".repeat(32),
                   "expires_at": "2026-12-02T00:00:00Z"}),
        ),
    )
    .expect("issued");
    let before = millis("2026-12-01T12:00:00Z").expect("time");
    let after = millis("2026-12-02T00:00:01Z").expect("time");
    assert!(a.actor(&"ee".repeat(32), before).is_ok());
    let e = a.actor(&"ee".repeat(32), after).expect_err("expired");
    assert!(e.message.contains("expired"), "{}", e.message);
}

#[test]
fn a_signing_policy_holds_from_its_entry_and_a_malformed_one_changes_nothing() {
    let mut a = seeded();
    assert_eq!(a.signing_policy("pay").threshold, 1);
    let policy = |t: serde_json::Value| {
        entry(
            EntryKind::SigningPolicySet,
            "admin",
            json!({"application": "pay", "threshold": t}),
        )
    };
    a.apply(7, &policy(json!(3))).expect("applied");
    for bad in [json!(0), json!(17), json!("2"), json!(-1)] {
        assert!(a.apply(8, &policy(bad.clone())).is_err(), "{bad}");
    }
    assert_eq!(
        a.signing_policy("pay"),
        SigningPolicy {
            threshold: 3,
            index: Some(7)
        }
    );
    assert_eq!(a.signing_policy("web").threshold, 1);
}
