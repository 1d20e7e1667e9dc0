#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    polyrtc::datachannel::fuzz::fuzz_dcep(data);
});
