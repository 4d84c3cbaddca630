//! People sign in through their identity provider (a real oidc-provider started by the
//! test): the first sign-in creates their identity with the role a person rule gives, each
//! sign-in is a session they issued for themselves, and once a person signs in that way an
//! admin can no longer decide in their name, with a token minted or an enrollment code
//! redeemed: the approval is refused and the attempt stays visible in the ledger.

use andon_client::Client;
use andon_domain::api::AccessRequestInput;
use andon_domain::oidc::{OidcIssuer, PersonRule};
use andon_testkit::oidc::{OidcProvider, ProviderConfig};
use andon_testkit::{Backend, both_backends};
use serde_json::{Value, json};

use crate::common::{Harness, refusal};

struct World {
    h: Harness,
    idp: OidcProvider,
}

/// The provider registered as issuer `corp` for the CLI's client `andon-cli`, and rules:
/// release approvers are approvers in group cab, the audit group are auditors.
fn world(backend: Backend) -> World {
    let h = Harness::start(backend, 4 << 20);
    let idp = OidcProvider::start(&ProviderConfig {
        ci_audiences: vec!["andon-cli".into()],
        ..Default::default()
    });
    h.admin.create_application("pay", "payments").expect("app");
    h.admin
        .set_oidc_issuer(
            "corp",
            &OidcIssuer {
                issuer: idp.issuer.clone(),
                audiences: vec!["andon-cli".into()],
                algorithms: vec![],
                jwks: None,
                clock_skew_seconds: None,
            },
        )
        .expect("issuer");
    for (name, group, role, groups) in [
        (
            "approvers",
            "release-approvers",
            "approver",
            vec!["cab".to_owned()],
        ),
        ("auditors", "audit", "auditor", vec![]),
    ] {
        h.admin
            .set_person_rule(
                name,
                &PersonRule {
                    issuer: "corp".into(),
                    claims: [("groups".to_owned(), group.to_owned())].into(),
                    role: role.into(),
                    groups,
                },
            )
            .expect("rule");
    }
    World { h, idp }
}

/// An ID token the provider issues for a person (as the device grant would hand it to
/// `andon login`).
fn person_token(w: &World, sub: &str, groups: &[&str]) -> String {
    w.idp.ci_token(
        "andon-cli",
        json!({"sub": sub, "email": format!("{sub}@example.com"), "name": sub, "groups": groups}),
        "RS256",
        300,
    )
}

fn anonymous(w: &World) -> Client {
    Client::new(&w.h.url, None)
}

fn people_sign_in_with_their_providers_id_token(backend: Backend) {
    let w = world(backend);
    let first = anonymous(&w)
        .sign_in_sso(&person_token(&w, "alice", &["release-approvers", "staff"]))
        .expect("first sign-in");
    assert_eq!(first.identity, "alice");
    assert_eq!(first.issued_by.as_deref(), Some("alice"), "her own session");
    let alice = w.h.admin.show_identity("alice").expect("created");
    assert_eq!(alice.identity.role, "approver");
    assert_eq!(alice.identity.groups, vec!["cab".to_owned()]);
    assert_eq!(alice.identity.created_by, "andon");
    let me = Client::new(&w.h.url, Some(first.token.clone()))
        .whoami()
        .expect("whoami");
    assert_eq!(me.name, "alice");

    // A second sign-in finds the same identity; a replayed token is refused.
    let again = person_token(&w, "alice", &["release-approvers"]);
    anonymous(&w).sign_in_sso(&again).expect("second sign-in");
    assert_eq!(
        w.h.admin.list_identities().expect("ids").len(),
        2,
        "admin and alice"
    );
    let before = w.h.counts();
    let (s, c, m) = refusal(anonymous(&w).sign_in_sso(&again));
    assert_eq!((s, c.as_str()), (401, "id_token_replayed"), "{m}");
    // Nobody without a rule gets in; a disabled person stays out.
    let (s, c, m) =
        refusal(anonymous(&w).sign_in_sso(&person_token(&w, "mallory", &["contractors"])));
    assert_eq!((s, c.as_str()), (403, "no_person_rule"), "{m}");
    assert_eq!(w.h.counts(), before, "a refused sign-in wrote something");
    w.h.admin
        .disable_identity("alice", "left the company")
        .expect("disabled");
    let before = w.h.counts();
    let (s, c, m) =
        refusal(anonymous(&w).sign_in_sso(&person_token(&w, "alice", &["release-approvers"])));
    assert_eq!((s, c.as_str()), (403, "identity_disabled"), "{m}");
    assert_eq!(w.h.counts(), before);
    // Her sessions ended with her identity, on every server.
    let (s, _, _) = refusal(Client::new(&w.h.url, Some(first.token)).whoami());
    assert_eq!(s, 401);
    let report = w.h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

fn an_admin_cannot_decide_in_a_signed_in_persons_name(backend: Backend) {
    let w = world(backend);
    let alice = anonymous(&w)
        .sign_in_sso(&person_token(&w, "alice", &["release-approvers"]))
        .expect("alice");
    let bob = anonymous(&w)
        .sign_in_sso(&person_token(&w, "bob", &["release-approvers"]))
        .expect("bob");
    let alice = Client::new(&w.h.url, Some(alice.token));
    let request = alice
        .request_access(&AccessRequestInput {
            application: "pay".into(),
            environment: "production".into(),
            level: "read".into(),
            reason: "INC-7 payments stuck".into(),
            ticket: "INC-7".into(),
            minutes: 30,
        })
        .expect("requested");
    let id = request["id"].as_str().expect("id").to_owned();

    // The admin mints a token for bob, and redeems an enrollment code made for him: both
    // are entries anyone can read, and neither decides in bob's name.
    let minted =
        w.h.admin
            .issue_token("bob")
            .expect("the admin mints a token");
    let code =
        w.h.admin
            .create_enrollment("bob")
            .expect("an enrollment code");
    let enrolled = anonymous(&w)
        .enroll(&code.enrollment.expect("code").code)
        .expect("the admin redeems it");
    for (how, token) in [("minted", minted.token), ("enrolled", enrolled.token)] {
        let before = w.h.counts();
        let (s, c, m) =
            refusal(Client::new(&w.h.url, Some(token)).decide_access(&id, "approve", None));
        assert_eq!((s, c.as_str()), (403, "sso_required"), "{how}: {m}");
        assert_eq!(
            w.h.counts(),
            before,
            "{how}: a refused approval wrote something"
        );
    }
    let size = w.h.admin.ledger_info().expect("info").size;
    let entries: Vec<Value> =
        w.h.admin
            .entries(0, size as u32)
            .expect("entries")
            .entries
            .iter()
            .map(|e| {
                use base64::Engine;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(&e.entry)
                    .expect("base64");
                serde_json::from_slice(&bytes).expect("entry")
            })
            .collect();
    let attempts: Vec<&Value> = entries
        .iter()
        .filter(|e| e["body"]["identity"] == "bob")
        .filter(|e| e["kind"] == "token.issued" || e["kind"] == "enrollment.created")
        .filter(|e| e["actor"] == "admin" || e["body"]["enrollment"].is_string())
        .collect();
    assert_eq!(
        attempts.len(),
        3,
        "the minted token, the code and its redemption: {attempts:?}"
    );

    // Bob, signed in himself, approves.
    let decided = Client::new(&w.h.url, Some(bob.token))
        .decide_access(&id, "approve", Some("checked INC-7"))
        .expect("bob approves with his own sign-in");
    assert_eq!(decided["status"], "granted", "{decided}");
    let report = w.h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

fn sessions_end_one_by_one_and_an_enrolled_person_links_their_identity(backend: Backend) {
    let w = world(backend);
    // Two sessions of alice's (a laptop and a phone); she ends one, an admin the other.
    let laptop = anonymous(&w)
        .sign_in_sso(&person_token(&w, "alice", &["release-approvers"]))
        .expect("laptop");
    let phone = anonymous(&w)
        .sign_in_sso(&person_token(&w, "alice", &["release-approvers"]))
        .expect("phone");
    let on_phone = Client::new(&w.h.url, Some(phone.token.clone()));
    let listed = on_phone.list_tokens(Some("alice")).expect("her sessions");
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .all(|t| t.federated.as_ref().is_some_and(|f| f.subject == "alice"))
    );
    on_phone
        .revoke_token(
            laptop.token_id.as_deref().expect("id"),
            "left the laptop on a train",
        )
        .expect("she ends one");
    assert_eq!(
        refusal(Client::new(&w.h.url, Some(laptop.token)).whoami()).0,
        401
    );
    on_phone.whoami().expect("the other lives on");
    w.h.admin
        .revoke_token(
            phone.token_id.as_deref().expect("id"),
            "phone reported stolen",
        )
        .expect("an admin ends the other");
    assert_eq!(refusal(on_phone.whoami()).0, 401);

    // Carol enrolled before single sign-on: with her own token beside her first ID token,
    // her identity is linked, not duplicated; an admin-minted token cannot link anybody.
    let carol =
        w.h.admin
            .create_identity_in("carol", "approver", &[], &["cab".into()])
            .expect("carol");
    let minted = w.h.admin.issue_token("carol").expect("minted");
    let before = w.h.counts();
    let (s, c, m) = refusal(
        Client::new(&w.h.url, Some(minted.token)).sign_in_sso(&person_token(
            &w,
            "carol-at-idp",
            &["release-approvers"],
        )),
    );
    assert_eq!((s, c.as_str()), (403, "link_refused"), "{m}");
    assert_eq!(w.h.counts(), before, "a refused link wrote something");
    let linked = Client::new(&w.h.url, Some(carol.token))
        .sign_in_sso(&person_token(&w, "carol-at-idp", &["release-approvers"]))
        .expect("linked");
    assert_eq!(linked.identity, "carol");
    let again = anonymous(&w)
        .sign_in_sso(&person_token(&w, "carol-at-idp", &["release-approvers"]))
        .expect("later sign-ins find her");
    assert_eq!(again.identity, "carol");
    assert!(
        w.h.admin.show_identity("carol-at-idp").is_err(),
        "no second identity"
    );
    let report = w.h.admin.verify_ledger().expect("verify");
    assert_eq!(report["verified"], true, "{report}");
}

both_backends!(
    people_sign_in_with_their_providers_id_token,
    sessions_end_one_by_one_and_an_enrolled_person_links_their_identity,
    an_admin_cannot_decide_in_a_signed_in_persons_name,
);
