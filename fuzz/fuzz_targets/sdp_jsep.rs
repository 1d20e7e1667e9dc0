#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::sdp::fuzz::fuzz_jsep(data);
});
