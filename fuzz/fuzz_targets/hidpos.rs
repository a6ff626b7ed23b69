//! Fuzz target `hidpos`: the property lives in `ballot_intake_core::fuzzing::hidpos`,
//! which `cargo test` also runs over this target's corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ballot_intake_core::fuzzing::hidpos(data));
