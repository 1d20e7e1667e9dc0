#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::srtp::fuzz::fuzz_unprotect(data);
});
