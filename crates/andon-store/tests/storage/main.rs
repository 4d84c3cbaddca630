//! The storage behaviours, written once and run on SQLite and on PostgreSQL.

use andon_domain::scm::{ChangeEvent, Commit, Review, ScmDeployment, SourceFacts, TicketLink};
use andon_store::{Append, Batch, Effect, EvidenceFilter, Store};
use andon_testkit::{Backend, TestDb, both_backends};

mod commit_order;
mod sizes;
mod snapshot;
mod statistics;
mod wal;

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
            commits: vec![],
            scm: None,
            // Odd entries stand for keyless bundles.
            keyless: (index % 2 == 1).then(|| format!("{{\"identity\":\"ci-{index}\"}}")),
            components: Default::default(),
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
        // A newer Andon migrated this database with an expand step: this one still opens
        // it (a rolling upgrade); after a contract step it refuses it rather than write to
        // tables whose meaning it does not know.
        again
            .raw_execute_for_tests(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)",
            )
            .await
            .expect("a future migration");
        again.close().await;
        let expanded = Store::connect(&db.url)
            .await
            .expect("a database expanded by a newer Andon opens");
        expanded
            .raw_execute_for_tests("UPDATE schema_compat SET writers_from = 9999")
            .await
            .expect("a future contract step");
        expanded.close().await;
        match Store::connect(&db.url).await {
            Err(e) => assert!(
                e.to_string()
                    .contains("schema version 9999, newer than this Andon knows"),
                "{e}"
            ),
            Ok(_) => panic!("a database of a newer schema was opened"),
        }
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
        assert_eq!(e.keyless.as_deref(), Some(r#"{"identity":"ci-3"}"#));
        let even = s
            .evidence(&format!("{:064x}", 2))
            .await
            .expect("read")
            .expect("exists");
        assert_eq!(even.keyless, None);
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
                    groups: "[]".into(),
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
            (
                key.identity.as_str(),
                key.public_key.as_slice(),
                key.revoked_at
            ),
            ("ci", &[7u8; 32][..], None)
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

fn push(repo: &str, sha: &str, message: &str) -> Commit {
    Commit {
        repository: repo.into(),
        sha: sha.into(),
        author: Some("alice".into()),
        message: message.into(),
        git_ref: Some("refs/heads/main".into()),
        ..Default::default()
    }
}

fn change(number: u64, action: &str, head: &str, merge: Option<&str>) -> ChangeEvent {
    ChangeEvent {
        repository: "acme/payments".into(),
        number,
        action: action.into(),
        title: "PAY-1 refunds".into(),
        author: Some("alice".into()),
        source_branch: "feature/PAY-1".into(),
        target_branch: "main".into(),
        head_sha: Some(head.into()),
        merge_sha: merge.map(Into::into),
        state: if merge.is_some() { "merged" } else { "open" }.into(),
        ..Default::default()
    }
}

fn delivery(index: u64, id: &str, facts: SourceFacts) -> Append {
    Append {
        index,
        kind: "scm.event",
        entry: format!("entry {index}").into_bytes(),
        leaf_hash: leaf(index),
        time_ms: 1_000 + index as i64,
        effect: Effect::SourceEvent {
            provider: "github".into(),
            delivery: id.into(),
            event: "push".into(),
            payload: format!("payload {index}").into_bytes(),
            facts,
        },
    }
}

fn source_control_facts_are_indexed_for_tracing(b: Backend) {
    let db = TestDb::new(b);
    block_on(async {
        let s = Store::connect(&db.url).await.expect("connect");
        let (a, c, m) = ("a".repeat(40), "c".repeat(40), "e".repeat(40));
        let first = SourceFacts {
            commits: vec![push("acme/payments", &a, "PAY-1 cap refunds")],
            changes: vec![change(7, "opened", &a, None)],
            tickets: vec![TicketLink {
                repository: "acme/payments".into(),
                ticket: "PAY-1".into(),
                source: "commit_message".into(),
                reference: a.clone(),
            }],
            ..Default::default()
        };
        let second = SourceFacts {
            // The same commit delivered again (a later push of the branch) is kept once.
            commits: vec![
                push("acme/payments", &a, "PAY-1 cap refunds"),
                push("acme/payments", &c, "fix"),
            ],
            changes: vec![
                change(7, "synchronize", &c, None),
                change(7, "merged", &c, Some(&m)),
            ],
            reviews: vec![Review {
                repository: "acme/payments".into(),
                number: 7,
                reviewer: "bob".into(),
                state: "approved".into(),
                commit: Some(a.clone()),
                ..Default::default()
            }],
            deployments: vec![ScmDeployment {
                repository: "acme/payments".into(),
                sha: m.clone(),
                environment: "production".into(),
                state: "success".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        s.commit_batch(&batch(vec![
            delivery(0, "d-1", first),
            delivery(1, "d-2", second),
        ]))
        .await
        .expect("commit");
        assert!(s.delivery_seen("github", "d-1").await.expect("seen"));
        assert!(!s.delivery_seen("gitlab", "d-1").await.expect("seen"));
        assert_eq!(
            s.delivery_payload(1).await.expect("payload"),
            Some(b"payload 1".to_vec())
        );
        let commits = s.commits(&a).await.expect("commits");
        assert_eq!(commits.len(), 1);
        assert_eq!(
            (commits[0].ledger_index, commits[0].fact.message.as_str()),
            (0, "PAY-1 cap refunds")
        );
        assert_eq!(
            s.pull_requests_of(&m).await.expect("prs"),
            vec![("acme/payments".to_owned(), 7)]
        );
        assert_eq!(s.pull_requests_of(&a).await.expect("prs").len(), 1);
        let history: Vec<String> = s
            .pull_request_history("acme/payments", 7)
            .await
            .expect("history")
            .into_iter()
            .map(|e| e.fact.action)
            .collect();
        assert_eq!(history, vec!["opened", "synchronize", "merged"]);
        let reviews = s.reviews("acme/payments", 7).await.expect("reviews");
        assert_eq!(
            (
                reviews[0].fact.reviewer.as_str(),
                reviews[0].fact.commit.as_deref()
            ),
            ("bob", Some(a.as_str()))
        );
        assert_eq!(
            s.tickets("acme/payments", &a).await.expect("tickets")[0].ticket,
            "PAY-1"
        );
        assert_eq!(
            s.scm_deployments(&m).await.expect("deployments")[0]
                .fact
                .environment,
            "production"
        );
        assert_eq!(
            s.resolve_commit("eeeeeee").await.expect("resolve"),
            vec![m.clone()]
        );
        assert!(
            s.resolve_commit("0123456")
                .await
                .expect("resolve")
                .is_empty()
        );
        // A delivery id is recorded once: a second row for it fails the whole batch.
        let again = s
            .commit_batch(&batch(vec![delivery(2, "d-1", SourceFacts::default())]))
            .await;
        assert!(again.is_err());
        assert_eq!(s.ledger_size().await.expect("size"), 2);
    });
}

use commit_order::commits_keep_their_push_order_across_an_upgrade;
use sizes::every_table_reports_its_rows_and_indexes_and_grows_with_them;
use statistics::stale_tables_are_analyzed_once;

both_backends!(
    commits_keep_their_push_order_across_an_upgrade,
    source_control_facts_are_indexed_for_tracing,
    migrations_are_applied_once_and_a_reopened_store_keeps_its_data,
    a_committed_batch_reads_back_in_order_with_its_documents,
    a_failing_batch_writes_nothing_at_all,
    ledger_rows_refuse_updates_and_deletes,
    evidence_is_found_by_each_filter_and_paged_newest_first,
    identities_tokens_and_keys_are_recorded_and_revocable,
    every_table_reports_its_rows_and_indexes_and_grows_with_them,
    stale_tables_are_analyzed_once,
);
