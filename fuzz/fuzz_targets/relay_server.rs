#![no_main]
// The relay's sans-IO TURN server driven by a script (see relay/src/fuzz.rs); its seeds
// live in relay/fuzz-corpus/relay_server (replayed by relay/tests/fuzz.rs):
// `cargo fuzz run relay_server ../relay/fuzz-corpus/relay_server`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = polyrtc_relay::fuzz::fuzz_server(data);
});
