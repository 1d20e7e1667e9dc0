#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::sdp::wire::fuzz_round_trip(data);
});
