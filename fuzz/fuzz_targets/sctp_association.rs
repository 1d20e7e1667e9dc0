#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = polyrtc::sctp::fuzz::fuzz_association(data);
});
