#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::stun::fuzz::fuzz_message(data);
});
