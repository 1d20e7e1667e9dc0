#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = polyrtc::dtls::fuzz::fuzz_dtls_server(data);
});
