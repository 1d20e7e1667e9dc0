#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::codec::fuzz::fuzz_depacketize(data);
});
