//! Backup while the server runs, restore into an empty database of either backend: the
//! restored server's ledger verifies, holds exactly the backup's entries, and extends the
//! last checkpoint published before the backup.

use crate::common;
use crate::common::Harness;
use andon_store::Store;
use andon_testkit::{Backend, TestDb, both_backends};

fn a_backup_taken_under_load_restores_and_verifies(b: Backend) {
    let h = common::start(b);
    let (ci, key) = h.pipeline("pay");
    for n in 0..20 {
        ci.submit_evidence("pay", None, None, &common::envelope(&key, n))
            .expect("accepted");
    }
    let before = h.admin.ledger_info().expect("info");
    // Writers keep going while the backup reads.
    let writer = {
        let ci = ci.clone();
        let key = key.clone();
        std::thread::spawn(move || {
            for n in 100..160 {
                ci.submit_evidence("pay", None, None, &common::envelope(&key, n))
                    .expect("accepted");
            }
        })
    };
    let mut file = Vec::new();
    let summary = h.rt.block_on(async {
        Store::connect(&h.db.url)
            .await
            .expect("store")
            .backup(&mut file)
            .await
            .expect("backup")
    });
    writer.join().expect("writer");
    assert!(summary.ledger_entries >= before.size, "{summary:?}");

    // Restore into an empty database of the other backend too: the file is portable.
    let other = match b {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    for target in [b, other] {
        let db = TestDb::new(target);
        let restored = h.rt.block_on(async {
            let store = Store::connect(&db.url).await.expect("store");
            let r = store.restore(&file[..]).await.expect("restore");
            // A second restore into a database holding a ledger is refused.
            assert!(store.restore(&file[..]).await.is_err());
            r
        });
        assert_eq!(restored.ledger_entries, summary.ledger_entries);
        assert_eq!(
            restored.rows,
            summary.rows - summary.schema as u64 - 1,
            "all but the migrations' rows (one per migration, and schema_compat's one)"
        );
        let r = Harness::start_on_with_token(db, |_| {}, h.admin.token().map(str::to_owned));
        let info = r.admin.ledger_info().expect("info");
        assert_eq!(
            info.size,
            summary.ledger_entries + 1,
            "the backup's entries, all of them, and the restore's own"
        );
        let restore_entry = r.admin.entries(summary.ledger_entries, 1).expect("entries");
        let restore_entry: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                &restore_entry.entries[0].entry,
            )
            .expect("base64"),
        )
        .expect("entry");
        assert_eq!(restore_entry["kind"], "ledger.restored", "{restore_entry}");
        assert_eq!(
            restore_entry["body"]["backup"]["size"], summary.ledger_entries,
            "{restore_entry}"
        );
        assert_eq!(info.verifier_key, before.verifier_key);
        // It extends the checkpoint published before the backup.
        let proof = r
            .admin
            .consistency_proof(before.size, Some(info.size))
            .expect("consistency");
        let verifier = andon_ledger::NoteVerifier::parse(&info.verifier_key).expect("key");
        let old = verifier
            .verify(&before.checkpoint)
            .expect("the old checkpoint");
        let new = verifier
            .verify(&info.checkpoint)
            .expect("the restored checkpoint");
        let hashes: Vec<andon_ledger::Hash> = proof
            .proof
            .iter()
            .map(|h| hex::decode(h).expect("hex").try_into().expect("32 bytes"))
            .collect();
        andon_ledger::verify_consistency(old.size, new.size, &hashes, &old.root, &new.root)
            .expect("the restored log extends the checkpoint published before the backup");
        let checked = r.admin.verify_ledger().expect("verify");
        assert_eq!(checked["verified"], true, "{checked}");
        assert_eq!(r.admin.list_applications().expect("apps").len(), 1);
        let evidence = r
            .admin
            .list_evidence(&andon_client::EvidenceQuery {
                app: Some("pay".into()),
                limit: Some(1000),
                ..Default::default()
            })
            .expect("evidence");
        assert_eq!(
            evidence.evidence.len() as u64,
            summary.ledger_entries - (before.size - 20),
            "every evidence record in the backup"
        );
    }
    // Not a backup: refused, nothing written.
    let db = TestDb::new(b);
    h.rt.block_on(async {
        let store = Store::connect(&db.url).await.expect("store");
        assert!(
            store
                .restore(&b"{\"format\":\"other\"}\n"[..])
                .await
                .is_err()
        );
        assert_eq!(store.counts().await.expect("counts").ledger_entries, 0);
    });
}

both_backends!(a_backup_taken_under_load_restores_and_verifies);
