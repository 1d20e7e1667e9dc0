#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::crypto::fuzz::fuzz_certificate(data);
});
