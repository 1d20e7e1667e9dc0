#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::ice::fuzz::fuzz_candidate(data);
});
