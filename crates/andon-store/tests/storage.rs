//! The storage behaviours, written once and run on SQLite and on PostgreSQL.

use andon_store::{Append, Batch, Effect, EvidenceFilter, Store};
use andon_testkit::{Backend, TestDb, both_backends};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn leaf(i: u64) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&i.to_be_bytes());
    h
}

fn evidence(index: u64, app: &str, run: &str, digest: &str, ptype: &str) -> Append {
    let id = format!("{index:064x}");
    Append {
        index,
        kind: "evidence",
        entry: format!("entry {index}").into_bytes(),
        leaf_hash: leaf(index),
        time_ms: 1_000 + index as i64,
        effect: Effect::Evidence {
            id: id.clone(),
            application: app.into(),
            run: Some(run.into()),
            predicate_type: ptype.into(),
            signer: "ci".into(),
            keyid: "k".repeat(64),
            subjects: vec![("app.tar".into(), digest.into())],
            document: format!("document {index}").into_bytes(),
            summary: None,
        },
    }
}

fn batch(appends: Vec<Append>) -> Batch {
    let size = appends.last().map_or(0, |a| a.index + 1);
    Batch {
        appends,
        checkpoint: Some((size, [9; 32], format!("note {size}"))),
    }
}

fn migrations_are_applied_once_and_a_reopened_store_keeps_its_data(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        s.commit_batch(&batch(vec![evidence(0, "pay", "r1", &"a".repeat(64), "p")]))
            .await
            .expect("commit");
        s.close().await;
        let again = Store::connect(&db.url).await.expect("reconnect");
        assert_eq!(again.ledger_size().await.expect("size"), 1);
        assert_eq!(again.meta_init("origin", "x").await.expect("meta"), "x");
        assert_eq!(
            again.meta_init("origin", "y").await.expect("meta"),
            "x",
            "settings are set once"
        );
    });
}

fn a_committed_batch_reads_back_in_order_with_its_documents(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let d = "b".repeat(64);
        s.commit_batch(&batch(
            (0..5).map(|i| evidence(i, "pay", "r1", &d, "p")).collect(),
        ))
        .await
        .expect("commit");
        assert_eq!(s.ledger_size().await.expect("size"), 5);
        assert_eq!(
            s.leaf_hashes(0, 5).await.expect("leaves"),
            (0..5).map(leaf).collect::<Vec<_>>()
        );
        let entries = s.entries(2, 10).await.expect("entries");
        assert_eq!(
            entries.iter().map(|e| e.index).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(entries[0].entry, b"entry 2");
        assert_eq!(entries[0].document.as_deref(), Some(&b"document 2"[..]));
        let cp = s.latest_checkpoint().await.expect("cp").expect("some");
        assert_eq!((cp.size, cp.note.as_str()), (5, "note 5"));
        let e = s
            .evidence(&format!("{:064x}", 3))
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(e.ledger_index, 3);
        assert_eq!(e.subjects, vec![("app.tar".to_owned(), d.clone())]);
        assert_eq!(
            s.document(&e.id).await.expect("document").as_deref(),
            Some(&b"document 3"[..])
        );
    });
}

fn a_failing_batch_writes_nothing_at_all(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        s.commit_batch(&batch(vec![evidence(0, "pay", "r1", &"a".repeat(64), "p")]))
            .await
            .expect("commit");
        let before = s.counts().await.expect("counts");
        // Index 1 is new, index 0 collides: the whole batch must roll back.
        let err = s
            .commit_batch(&batch(vec![
                evidence(1, "pay", "r2", &"c".repeat(64), "p"),
                evidence(0, "pay", "r3", &"d".repeat(64), "p"),
            ]))
            .await;
        assert!(err.is_err(), "a colliding index must fail the batch");
        assert_eq!(s.counts().await.expect("counts"), before);
        assert_eq!(s.ledger_size().await.expect("size"), 1);
    });
}

fn ledger_rows_refuse_updates_and_deletes(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        s.commit_batch(&batch(vec![evidence(0, "pay", "r1", &"a".repeat(64), "p")]))
            .await
            .expect("commit");
        let update = s
            .raw_execute_for_tests("UPDATE ledger_entries SET kind = 'x' WHERE idx = 0")
            .await;
        assert!(update.is_err(), "update was allowed");
        let delete = s.raw_execute_for_tests("DELETE FROM ledger_entries").await;
        assert!(delete.is_err(), "delete was allowed");
        assert_eq!(s.ledger_size().await.expect("size"), 1);
    });
}

fn evidence_is_found_by_each_filter_and_paged_newest_first(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let (d1, d2) = ("1".repeat(64), "2".repeat(64));
        s.commit_batch(&batch(vec![
            evidence(0, "pay", "r1", &d1, "https://slsa.dev/provenance/v1"),
            evidence(1, "pay", "r2", &d2, "https://example.com/test/v1"),
            evidence(2, "web", "r3", &d1, "https://example.com/test/v1"),
        ]))
        .await
        .expect("commit");
        let ids = |rows: Vec<andon_store::EvidenceRow>| {
            rows.iter().map(|r| r.ledger_index).collect::<Vec<_>>()
        };
        let all = EvidenceFilter {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            ids(s.list_evidence(&all).await.expect("list")),
            vec![2, 1, 0]
        );
        let by_app = EvidenceFilter {
            application: Some("pay".into()),
            ..all.clone()
        };
        assert_eq!(
            ids(s.list_evidence(&by_app).await.expect("list")),
            vec![1, 0]
        );
        let by_subject = EvidenceFilter {
            subject_digest: Some(d1.clone()),
            ..all.clone()
        };
        assert_eq!(
            ids(s.list_evidence(&by_subject).await.expect("list")),
            vec![2, 0]
        );
        let by_type = EvidenceFilter {
            predicate_type: Some("https://example.com/test/v1".into()),
            application: Some("web".into()),
            ..all.clone()
        };
        assert_eq!(ids(s.list_evidence(&by_type).await.expect("list")), vec![2]);
        let by_run = EvidenceFilter {
            run: Some("r2".into()),
            ..all.clone()
        };
        assert_eq!(ids(s.list_evidence(&by_run).await.expect("list")), vec![1]);
        let by_time = EvidenceFilter {
            since_ms: Some(1_001),
            until_ms: Some(1_002),
            ..all.clone()
        };
        assert_eq!(ids(s.list_evidence(&by_time).await.expect("list")), vec![1]);
        let page = EvidenceFilter {
            limit: 2,
            ..all.clone()
        };
        assert_eq!(ids(s.list_evidence(&page).await.expect("list")), vec![2, 1]);
        let next = EvidenceFilter {
            before_index: Some(1),
            ..page
        };
        assert_eq!(ids(s.list_evidence(&next).await.expect("list")), vec![0]);
        let known = s
            .existing_evidence(&[format!("{:064x}", 1), "f".repeat(64)])
            .await
            .expect("exists");
        assert_eq!(known, vec![(format!("{:064x}", 1), 1)]);
    });
}

fn identities_tokens_and_keys_are_recorded_and_revocable(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let mk = |index: u64, effect| Append {
            index,
            kind: "x",
            entry: vec![index as u8],
            leaf_hash: leaf(index),
            time_ms: 5,
            effect,
        };
        s.commit_batch(&batch(vec![
            mk(
                0,
                Effect::Application {
                    name: "pay".into(),
                    team: "payments".into(),
                },
            ),
            mk(
                1,
                Effect::Identity {
                    name: "ci".into(),
                    role: "pipeline".into(),
                    applications: r#"["pay"]"#.into(),
                },
            ),
            mk(
                2,
                Effect::Token {
                    hash: "h".repeat(64),
                    identity: "ci".into(),
                },
            ),
            mk(
                3,
                Effect::Key {
                    keyid: "k".repeat(64),
                    identity: "ci".into(),
                    public_key: vec![7; 32],
                },
            ),
        ]))
        .await
        .expect("commit");
        let who = s
            .identity_by_token(&"h".repeat(64))
            .await
            .expect("auth")
            .expect("known");
        assert_eq!(
            (
                who.name.as_str(),
                who.role.as_str(),
                who.applications.clone()
            ),
            ("ci", "pipeline", vec!["pay".to_owned()])
        );
        assert!(
            s.identity_by_token(&"z".repeat(64))
                .await
                .expect("auth")
                .is_none()
        );
        let key = s.key(&"k".repeat(64)).await.expect("key").expect("known");
        assert_eq!(
            (key.identity.as_str(), key.public_key, key.revoked_at),
            ("ci", [7; 32], None)
        );
        s.commit_batch(&batch(vec![mk(
            4,
            Effect::KeyRevoked {
                keyid: "k".repeat(64),
            },
        )]))
        .await
        .expect("revoke");
        assert_eq!(
            s.key(&"k".repeat(64))
                .await
                .expect("key")
                .expect("known")
                .revoked_at,
            Some(5)
        );
        assert_eq!(s.applications().await.expect("apps")[0].team, "payments");
        assert_eq!(s.identities().await.expect("ids").len(), 1);
    });
}

both_backends!(
    migrations_are_applied_once_and_a_reopened_store_keeps_its_data,
    a_committed_batch_reads_back_in_order_with_its_documents,
    a_failing_batch_writes_nothing_at_all,
    ledger_rows_refuse_updates_and_deletes,
    evidence_is_found_by_each_filter_and_paged_newest_first,
    identities_tokens_and_keys_are_recorded_and_revocable,
);
