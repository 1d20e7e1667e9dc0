#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::rtp::fuzz::fuzz_rtp(data);
});
