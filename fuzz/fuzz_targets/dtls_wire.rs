#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::dtls::wire::fuzz_round_trip(data);
});
