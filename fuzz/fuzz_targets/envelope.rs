//! Fuzz intake's first steps: DSSE envelope parsing, then the in-toto statement.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(env) = andon_domain::Envelope::parse(data) {
        let _ = andon_domain::Statement::parse(&env.payload_type, &env.payload);
    }
    let _ = andon_domain::Statement::parse("application/vnd.in-toto+json", data);
});
