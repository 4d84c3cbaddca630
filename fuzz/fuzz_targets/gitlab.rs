//! Fuzz the GitLab webhook reader, and the ticket finder over the facts it returns.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(Some(mut facts)) = andon_evidence::gitlab::parse(data) {
        andon_evidence::tickets::TicketPatterns::default().link(&mut facts);
    }
});
