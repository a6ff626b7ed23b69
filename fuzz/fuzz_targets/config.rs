//! Fuzz target `config`: the property lives in `ballot_intake_core::fuzzing::config`,
//! which `cargo test` also runs over this target's corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ballot_intake_core::fuzzing::config(data));
