//! Fuzz the review and pipeline-definition predicates, and the review verdict over whatever
//! facts they give.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(facts) = andon_evidence::review::parse_review(&v) {
        let events: Vec<_> = facts.changes.into_iter().enumerate().map(|(i, e)| (i as u64, e)).collect();
        let reviews: Vec<_> = facts.reviews.into_iter().enumerate().map(|(i, r)| (i as u64, r)).collect();
        let _ = andon_domain::scm::analyze_review(&events, &reviews);
    }
    let _ = andon_evidence::review::parse_pipeline_definition(&v, data);
});
