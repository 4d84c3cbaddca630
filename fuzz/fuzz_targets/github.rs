//! Fuzz the GitHub webhook reader with every event it reads, and the ticket finder over the
//! facts it returns.
#![no_main]
use std::sync::LazyLock;

static TICKETS: LazyLock<andon_evidence::tickets::TicketPatterns> =
    LazyLock::new(andon_evidence::tickets::TicketPatterns::default);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for event in ["push", "pull_request", "pull_request_review", "deployment", "deployment_status"] {
        if let Ok(Some(mut facts)) = andon_evidence::github::parse(event, data) {
            TICKETS.link(&mut facts);
        }
    }
});
