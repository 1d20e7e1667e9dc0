#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::sctp::fuzz::fuzz_packet(data);
});
