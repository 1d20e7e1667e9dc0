#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = polyrtc::peer::fuzz::fuzz_peer(data);
});
