//! The notification outbox delivers every event at least once: a database error while an
//! event's body is being built leaves the cursor where it was, and the event goes out once
//! the database answers again.

use crate::common::release::{Twist, world};
use crate::common::{Harness, receiver};
use andon_domain::api::GateRequest;
use andon_testkit::{Backend, both_backends};
use sqlx::Executor as _;

/// Runs one statement on the test's database, as an operator with database access could.
fn execute(url: &str, sql: &'static str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.expect("connect");
        pool.execute(sql).await.expect(sql);
        pool.close().await;
    });
}

/// The events the receiver got, as (event, change number).
fn received(got: &crate::common::Received) -> Vec<(String, String)> {
    got.lock()
        .expect("lock")
        .iter()
        .map(|(_, b)| {
            let v: serde_json::Value = serde_json::from_slice(b).expect("json body");
            (
                v["event"].as_str().unwrap_or("").to_owned(),
                v["change"]["number"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn a_database_error_while_building_a_notification_does_not_skip_the_event(b: Backend) {
    // A change is created while no notifications are configured.
    let w = world(b);
    let artifact = w.release("pay-7.0.0", Twist::None);
    let decision =
        w.ci.gate(&GateRequest {
            application: "pay".into(),
            artifact,
            environment: "production".into(),
            ..Default::default()
        })
        .expect("decided");
    let change = decision
        .change
        .clone()
        .expect("a production gate opens a change");

    // The server stops; the table the change events are built from is out of reach.
    let Harness { rt, db, .. } = w.h;
    drop(rt);
    execute(&db.url, "ALTER TABLE changes RENAME TO changes_away");

    // A server with the outbox starts while every body fails to build.
    let (url, got) = receiver();
    let h = Harness::start_on_with_token(
        db,
        |c| {
            c.notify_url = Some(url.clone());
            c.notify_retry_base = std::time::Duration::from_millis(100);
        },
        Some("unused".into()),
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        !received(&got).iter().any(|(e, _)| e == "change.created"),
        "nothing about the change can have been built yet"
    );

    // The database answers again: the event that failed goes out.
    execute(&h.db.url, "ALTER TABLE changes_away RENAME TO changes");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let events = received(&got);
        if events
            .iter()
            .any(|(e, id)| e == "change.created" && *id == change)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "change.created for {change} never delivered; got {events:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

both_backends!(a_database_error_while_building_a_notification_does_not_skip_the_event);
