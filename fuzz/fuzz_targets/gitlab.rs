//! Fuzz the GitLab webhook reader, and the ticket finder over the facts it returns.
#![no_main]
use std::sync::LazyLock;

static TICKETS: LazyLock<andon_evidence::tickets::TicketPatterns> =
    LazyLock::new(andon_evidence::tickets::TicketPatterns::default);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(Some(mut facts)) = andon_evidence::gitlab::parse(data) {
        TICKETS.link(&mut facts);
    }
});
