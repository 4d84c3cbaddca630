//! Alerts that are about Andon itself: a stored ledger changed behind the server's back
//! is found by its own verification, alerted once, on both backends.

use crate::common;
use andon_testkit::{Backend, both_backends};
use sqlx::Executor as _;

fn a_ledger_changed_behind_the_servers_back_raises_an_alert(b: Backend) {
    let h = common::start(b);
    h.admin.create_application("pay", "team").expect("app");
    h.admin.create_application("shop", "team").expect("app");
    let clean = h.admin.verify_ledger().expect("verified");
    assert_eq!(clean["verified"], true, "{clean}");
    assert!(
        h.admin
            .alerts()
            .expect("alerts")
            .iter()
            .all(|a| a.kind != "ledger_verification_failed")
    );

    // An operator with database access renames the application in its creation entry
    // (dropping the guard first).
    let idx: i64 = h.rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&h.db.url).await.expect("connect");
        let drop = match b {
            Backend::Sqlite => "DROP TRIGGER ledger_entries_no_update",
            Backend::Postgres => "DROP TRIGGER ledger_entries_append_only ON ledger_entries",
        };
        pool.execute(drop).await.expect("drop trigger");
        let (idx, entry): (i64, Vec<u8>) = sqlx::query_as(
            "SELECT idx, entry FROM ledger_entries WHERE kind = 'application.created' ORDER BY idx DESC LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .expect("entry");
        let forged = String::from_utf8(entry.clone())
            .expect("utf-8")
            .replace("shop", "shoq");
        assert!(forged.contains("shoq"), "{forged}");
        sqlx::query("UPDATE ledger_entries SET entry = $1 WHERE idx = $2")
            .bind(forged.into_bytes())
            .bind(idx)
            .execute(&pool)
            .await
            .expect("forge");
        idx
    });
    let r = h.admin.verify_ledger().expect("checked");
    assert_eq!(r["verified"], false, "{r}");
    assert_eq!(r["first_bad_index"], idx, "{r}");
    let again = h.admin.verify_ledger().expect("checked");
    assert_eq!(again["first_bad_index"], idx);
    let raised: Vec<_> = h
        .admin
        .alerts()
        .expect("alerts")
        .into_iter()
        .filter(|a| a.kind == "ledger_verification_failed")
        .collect();
    assert_eq!(raised.len(), 1, "alerted once: {raised:?}");
    assert_eq!(raised[0].severity, "high");
    assert_eq!(raised[0].subject, format!("ledger:{idx}"));
    assert!(
        raised[0]
            .message
            .contains(&format!("entry {idx} (application.created): its bytes")),
        "{}",
        raised[0].message
    );
}

both_backends!(a_ledger_changed_behind_the_servers_back_raises_an_alert);
