#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| msnd_fuzz::sb_parser::run(data));
