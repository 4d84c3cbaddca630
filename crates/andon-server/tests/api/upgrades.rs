//! Rolling upgrades, on both backends: a newer Andon's migrations are simulated in the
//! database the server runs on. An expand step (a migration that only adds) leaves this
//! server writing and starting; a contract step (the oldest schema that may write raised
//! past this server's) stops its writes within its watch interval, turns `/readyz` to 503
//! saying why, writes nothing, and refuses a start.

use std::time::Duration;

use crate::common::{self, Harness};
use andon_testkit::{Backend, both_backends};

fn ready(h: &Harness) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .get(&format!("{}/readyz", h.url))
        .call()
        .expect("response");
    (
        r.status().as_u16(),
        r.body_mut().read_to_string().expect("body"),
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not happen within five seconds");
}

fn an_older_server_writes_through_expand_steps_and_stops_at_a_contract(b: Backend) {
    let h = Harness::start_configured(b, |c| {
        c.schema_check_interval = Duration::from_millis(100);
    });
    h.admin.create_application("pay", "team").expect("app");
    let store =
        h.rt.block_on(andon_store::Store::connect(&h.db.url))
            .expect("store");
    let known = andon_store::schema_known(store.backend());
    let sql = |s: String| {
        h.rt.block_on(store.raw_execute_for_tests(&s))
            .expect("simulated migration")
    };

    // A newer Andon applies an expand migration: this server goes on, and starts on it.
    sql(format!(
        "INSERT INTO schema_migrations (version, applied_at) VALUES ({}, 0)",
        known + 1
    ));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(ready(&h), (200, "ready".to_owned()));
    h.admin
        .create_application("shop", "team")
        .expect("writes after an expand step");
    h.rt.block_on(andon_store::Store::connect(&h.db.url))
        .expect("a start on an expanded schema");

    // Then a contract migration: this server stops writing and says why.
    sql(format!(
        "UPDATE schema_compat SET writers_from = {}",
        known + 1
    ));
    wait_until("readiness turning to 503", || ready(&h).0 == 503);
    let (_, why) = ready(&h);
    assert!(
        why.contains(&format!("schema {} or newer", known + 1)) && why.contains("writes nothing"),
        "{why}"
    );
    let size = h.admin.ledger_info().expect("info").size;
    let (status, _, message) = common::refusal(h.admin.create_application("web", "team"));
    assert_eq!(status, 503, "{message}");
    assert!(
        message.contains("replace it with the newer Andon"),
        "{message}"
    );
    assert_eq!(h.admin.ledger_info().expect("info").size, size);
    assert!(
        !h.admin
            .list_applications()
            .expect("applications")
            .iter()
            .any(|a| a["name"] == "web")
    );
    let refused = match h.rt.block_on(andon_store::Store::connect(&h.db.url)) {
        Ok(_) => panic!("a start on a contracted schema is not refused"),
        Err(e) => e.to_string(),
    };
    assert!(refused.contains("newer than this Andon knows"), "{refused}");

    // Reads go on: an auditor can still verify what is there.
    assert!(h.admin.ledger_info().is_ok());
}

both_backends!(an_older_server_writes_through_expand_steps_and_stops_at_a_contract);
