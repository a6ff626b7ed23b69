//! Fuzz target `wedge`: the property lives in `ballot_intake_core::fuzzing::wedge`,
//! which `cargo test` also runs over this target's corpus.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ballot_intake_core::fuzzing::wedge(data));
