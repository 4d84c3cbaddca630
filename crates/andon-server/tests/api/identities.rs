//! Who may act is what the ledger says, not what the database's tables say: tokens, keys,
//! identities, roles and groups inserted or changed directly in the database grant nothing;
//! nobody approves with a token somebody else issued them; revoked tokens and disabled
//! identities are refused at once. On both backends, through the HTTP API.

use crate::common::{self, code, envelope};
use andon_client::Client;
use andon_domain::{SigningKey, token_id};
use andon_testkit::{Backend, both_backends};

fn status<T>(r: Result<T, andon_client::ClientError>) -> Option<u16> {
    r.err().and_then(|e| e.status())
}

fn rows_the_ledger_never_wrote_grant_nothing(b: Backend) {
    let h = common::start(b);
    let (ci, _) = h.pipeline("pay");
    h.wait_for_start_check();
    let size = h.admin.ledger_info().expect("info").size;

    // A token row for the admin, and an identity with a token, inserted by hand.
    let forged = "andon_forged_admin_token";
    let forged_new = "andon_forged_new_identity";
    let hash = |t: &str| andon_app::token_hash(t);
    let blob = match b {
        Backend::Sqlite => |k: &str| format!("X'{k}'"),
        Backend::Postgres => |k: &str| format!("'\\x{k}'::bytea"),
    };
    let stranger = SigningKey::from_seed([9; 32]);
    let stranger_pub = hex::encode(stranger.public_bytes());
    crate::operator::execute(&h, &[
            format!(
                "INSERT INTO tokens (hash, identity, ledger_idx, created_at) VALUES ('{}', 'admin', 1, 0)",
                hash(forged)
            ),
            "INSERT INTO identities (name, role, applications, ledger_idx, created_at) VALUES ('mallory', 'admin', '[]', 2, 0)".into(),
            format!(
                "INSERT INTO tokens (hash, identity, ledger_idx, created_at) VALUES ('{}', 'mallory', 2, 0)",
                hash(forged_new)
            ),
            // A key for the pipeline that no entry registered.
            format!(
                "INSERT INTO signing_keys (keyid, identity, public_key, ledger_idx, created_at) VALUES ('{}', 'ci-pay', {}, 3, 0)",
                stranger.public_key().key_id(),
                blob(&stranger_pub)
            ),
            // The pipeline made an admin, an approver in group dba.
            "UPDATE identities SET role = 'admin', approver_groups = '[\"dba\"]' WHERE name = 'ci-pay'".into(),
        ],
    );
    for t in [forged, forged_new] {
        let c = Client::new(&h.url, Some(t.to_owned()));
        assert_eq!(status(c.whoami()), Some(401), "a token no entry issued");
        assert_eq!(status(c.create_application("x", "t")), Some(401));
    }
    assert_eq!(
        code(ci.submit_evidence("pay", None, None, &envelope(&stranger, 1))),
        (403, "unknown_key".into()),
        "evidence signed with a key no entry registered"
    );
    let me = ci.whoami().expect("the pipeline still acts");
    assert_eq!(
        me.role, "pipeline",
        "its role is the ledger's, not the table's"
    );
    assert_eq!(status(ci.create_application("x", "t")), Some(403));
    assert_eq!(
        h.admin.ledger_info().expect("info").size,
        size,
        "nothing was written"
    );
    // The listing is the ledger's too: mallory is not an identity.
    let names: Vec<String> = h
        .admin
        .list_identities()
        .expect("list")
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["admin", "ci-pay"]);
}

fn only_a_token_the_identity_issued_itself_approves(b: Backend) {
    let h = common::start(b);
    let (ci, _) = h.pipeline("pay");
    // dana enrolls (the client redeems the code as dana would): her own token.
    let dana = h
        .admin
        .create_identity("dana", "approver", &[])
        .expect("dana");
    assert_eq!(dana.issued_by.as_deref(), Some("dana"), "self-issued");
    assert!(dana.expires_at.is_some(), "a person's token expires");
    // The admin mints a token for dana.
    let minted = h.admin.issue_token("dana").expect("minted");
    assert_eq!(minted.issued_by.as_deref(), Some("admin"));
    let as_admin = Client::new(&h.url, Some(minted.token.clone()));
    assert_eq!(as_admin.whoami().expect("it reads").name, "dana");

    let req = andon_domain::api::AccessRequestInput {
        application: "pay".into(),
        environment: "production".into(),
        level: "read".into(),
        reason: "investigate INC-1".into(),
        ticket: "INC-1".into(),
        minutes: 30,
    };
    let r = ci.request_access(&req).expect("requested");
    let id = r["id"].as_str().expect("id").to_owned();
    let size = h.admin.ledger_info().expect("info").size;
    assert_eq!(
        code_of(as_admin.decide_access(&id, "approve", Some("ok"))),
        (403, "token_not_own".into()),
        "dana's name on a token the admin issued approves nothing"
    );
    assert_eq!(
        h.admin.ledger_info().expect("info").size,
        size,
        "nothing written"
    );
    let own = Client::new(&h.url, Some(dana.token.clone()));
    own.decide_access(&id, "approve", Some("ok"))
        .expect("dana approves with her own token");
    // The approval's entry names the token and who issued it.
    let entries = h.admin.entries(size, 10).expect("entries").entries;
    let approval = entries
        .iter()
        .find(|e| e.kind == "access.granted")
        .expect("the grant entry");
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &approval.entry)
        .expect("base64");
    let entry: andon_domain::LedgerEntry = serde_json::from_slice(&bytes).expect("an entry");
    let via = entry.via.expect("the token is recorded");
    assert_eq!(via.token, dana.token_id.clone().expect("id"));
    assert_eq!(via.issued_by, "dana");
    assert!(
        !bytes
            .windows(dana.token.len())
            .any(|w| w == dana.token.as_bytes()),
        "never the secret"
    );
}

fn revoked_tokens_and_disabled_identities_are_refused_at_once(b: Backend) {
    let h = common::start(b);
    let (ci, key) = h.pipeline("pay");
    let carol = h
        .admin
        .create_identity("carol", "approver", &[])
        .expect("carol");
    let carol_client = Client::new(&h.url, Some(carol.token.clone()));
    carol_client.whoami().expect("carol acts");

    // Only an admin disables; a refused request writes nothing.
    let size = h.admin.ledger_info().expect("info").size;
    assert_eq!(
        status(carol_client.disable_identity("ci-pay", "x")),
        Some(403)
    );
    assert_eq!(
        code_of(h.admin.revoke_token("tok_nope", "x")),
        (404, "not_found".into())
    );
    assert_eq!(h.admin.ledger_info().expect("info").size, size);

    // carol revokes her own token: refused from the next request on.
    let id = carol.token_id.clone().expect("id");
    let revoked = carol_client
        .revoke_token(&id, "laptop lost")
        .expect("revoked");
    assert_eq!(revoked.revoked.expect("revoked").reason, "laptop lost");
    assert_eq!(status(carol_client.whoami()), Some(401));
    assert_eq!(
        status(carol_client.revoke_token(&id, "again")),
        Some(401),
        "a revoked token does nothing more"
    );

    // Disabling the pipeline refuses its token and its key's evidence.
    ci.submit_evidence("pay", None, None, &envelope(&key, 1))
        .expect("accepted before");
    let size = h.admin.ledger_info().expect("info").size;
    let disabled = h
        .admin
        .disable_identity("ci-pay", "repository archived")
        .expect("disabled");
    assert_eq!(
        disabled.disabled.expect("disabled").ledger_index,
        size,
        "the disabling is the next entry"
    );
    assert_eq!(status(ci.whoami()), Some(401));
    let fresh = h.admin.issue_token("ci-pay");
    assert_eq!(
        code_of(fresh),
        (409, "identity_disabled".into()),
        "no new token for a disabled identity"
    );
    // The last admin cannot be disabled; the listing shows who is disabled and why.
    assert_eq!(
        code_of(h.admin.disable_identity("admin", "oops")),
        (409, "last_admin".into())
    );
    let detail = h.admin.show_identity("ci-pay").expect("show");
    assert_eq!(
        detail.identity.disabled.expect("disabled").reason,
        "repository archived"
    );
    assert_eq!(detail.keys.len(), 1);
    let tokens = h.admin.list_tokens(Some("carol")).expect("tokens");
    assert!(tokens.iter().all(|t| t.revoked.is_some()), "{tokens:?}");
    // Both steps are ledger entries that a restart reads back: still refused after it.
    let kinds: Vec<String> = h
        .admin
        .entries(0, 100)
        .expect("entries")
        .entries
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"token.revoked".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"identity.disabled".to_owned()), "{kinds:?}");
    let url = h.db.url.clone();
    let token = h.admin.token().expect("token").to_owned();
    drop(h.rt);
    let db = h.db;
    let again = common::Harness::start_on_with_token(db, |_| {}, Some(token));
    assert_eq!(
        status(Client::new(&again.url, Some(carol.token)).whoami()),
        Some(401)
    );
    assert_eq!(
        status(Client::new(&again.url, ci.token().map(str::to_owned)).whoami()),
        Some(401)
    );
    assert!(!url.is_empty());
}

fn an_enrollment_code_works_once(b: Backend) {
    let h = common::start(b);
    let created = h
        .admin
        .create_identity_only("erin", "approver", &[], &[])
        .expect("erin");
    assert!(
        created.token.is_empty(),
        "a person gets no token from the admin"
    );
    let code = created.enrollment.expect("an enrollment code").code;
    let anonymous = Client::new(&h.url, None);
    let first = anonymous.enroll(&code).expect("enrolled");
    assert_eq!(first.issued_by.as_deref(), Some("erin"));
    let size = h.admin.ledger_info().expect("info").size;
    assert_eq!(status(anonymous.enroll(&code)), Some(401), "used");
    assert_eq!(status(anonymous.enroll("enroll_guess")), Some(401));
    assert_eq!(
        h.admin.ledger_info().expect("info").size,
        size,
        "nothing written"
    );
    // A pipeline does not enroll: the admin issues its tokens.
    let (_, _) = h.pipeline("pay");
    assert_eq!(
        code_of(h.admin.create_enrollment("ci-pay")),
        (400, "pipeline_enrollment".into())
    );
    let erin = Client::new(&h.url, Some(first.token));
    assert_eq!(erin.whoami().expect("erin").role, "approver");
    assert_eq!(
        erin.list_tokens(None).expect("own tokens").len(),
        1,
        "a non-admin sees only its own tokens"
    );
    assert_eq!(status(erin.show_identity("admin")), Some(404));
}

fn code_of<T: std::fmt::Debug>(r: Result<T, andon_client::ClientError>) -> (u16, String) {
    match r {
        Err(andon_client::ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

both_backends!(
    rows_the_ledger_never_wrote_grant_nothing,
    only_a_token_the_identity_issued_itself_approves,
    revoked_tokens_and_disabled_identities_are_refused_at_once,
    an_enrollment_code_works_once,
);

/// The same identity name is needed by nothing else; `token_id` is what entries carry.
#[test]
fn a_token_id_never_reveals_the_token() {
    let hash = andon_app::token_hash("andon_secret");
    let id = token_id(&hash);
    assert!(id.starts_with("tok_") && id.len() == 20, "{id}");
    assert!(!id.contains("secret"));
}

/// Two servers on one PostgreSQL ledger, evidence sent to both while the key that signs it
/// is revoked on one of them: no evidence signed by the key lands after its `key.revoked`
/// entry in ledger order, round after round; and a token revoked on one server is refused
/// by the other.
#[test]
fn nothing_signed_lands_after_its_keys_revocation_on_several_servers() {
    let h = common::start(Backend::Postgres);
    let (ci, _) = h.pipeline("pay");
    let other = h.another_server();
    let ci_other = Client::new(&other, ci.token().map(str::to_owned));
    for round in 0..4u8 {
        let key = SigningKey::from_seed([40 + round; 32]);
        let keyid = key.public_key().key_id().to_string();
        h.admin
            .register_key("ci-pay", &key.public_key().to_ledger_text())
            .expect("key");
        let accepted = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for (n, c) in [&ci, &ci_other].into_iter().enumerate() {
                let (key, accepted) = (&key, &accepted);
                s.spawn(move || {
                    for i in 0..60u32 {
                        let env = envelope(key, u32::from(round) * 10_000 + n as u32 * 1_000 + i);
                        match c.submit_evidence("pay", None, None, &env) {
                            Ok(_) => {
                                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            }
                            Err(_) => return,
                        }
                    }
                });
            }
            while accepted.load(std::sync::atomic::Ordering::SeqCst) < 10 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            h.admin.revoke_key(&keyid).expect("revoked");
        });
        // Read the whole ledger: every evidence entry of this key precedes its revocation.
        let size = h.admin.ledger_info().expect("info").size;
        let mut revoked_at = None;
        let mut last_signed = None;
        let mut start = 0;
        while start < size {
            let page = h.admin.entries(start, 500).expect("entries").entries;
            for e in &page {
                let bytes =
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &e.entry)
                        .expect("base64");
                let entry: andon_domain::LedgerEntry =
                    serde_json::from_slice(&bytes).expect("entry");
                if entry.body["keyid"] == keyid.as_str() {
                    match entry.kind.as_str() {
                        "key.revoked" => revoked_at = Some(e.index),
                        "evidence" => last_signed = Some(e.index),
                        _ => {}
                    }
                }
            }
            start += page.len() as u64;
        }
        let revoked_at = revoked_at.expect("the revocation is ledgered");
        let last_signed = last_signed.expect("some evidence was accepted first");
        assert!(
            last_signed < revoked_at,
            "round {round}: evidence at {last_signed} signed by {keyid}, revoked at {revoked_at}"
        );
    }
    // A token revoked through one server is refused by the other at once for writes, and
    // for reads once it has taken in the revocation (its refresh runs every 0.5 s).
    let dana = h
        .admin
        .create_identity("dana", "approver", &[])
        .expect("dana");
    let dana_other = Client::new(&other, Some(dana.token.clone()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while dana_other.whoami().is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the other server never took in dana's token"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Client::new(&h.url, Some(dana.token.clone()))
        .revoke_token(dana.token_id.as_deref().expect("id"), "left")
        .expect("revoked");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while dana_other.whoami().is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the other server still accepts a revoked token"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
