//! Fuzz target `mail_ballot`: the property lives in `ballot_intake_core::fuzzing::mail_ballot`,
//! which `cargo test` also runs over this target's corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ballot_intake_core::fuzzing::mail_ballot(data));
