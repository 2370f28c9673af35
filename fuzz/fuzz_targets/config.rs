#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ssot_fuzz::config(data));
