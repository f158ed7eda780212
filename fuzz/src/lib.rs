//! The bodies of the fuzz targets in `fuzz_targets/`, kept in a library so
//! that they can also be run on stable Rust without libFuzzer
//! (`cargo test --manifest-path fuzz/Cargo.toml` replays every file of
//! `fuzz/corpus/<target>/` and `fuzz/artifacts/<target>/` through them).
//!
//! Every target panics (and so makes libFuzzer report a crash) when the code
//! under test panics or when one of the properties checked here fails.

pub mod common;
pub mod decoder;
pub mod handle_text;
pub mod ns_parser;
pub mod sb_parser;

/// Runs the target called `name` on one input; `false` for unknown names.
pub fn run_target(name: &str, data: &[u8]) -> bool {
    match name {
        "decoder" => decoder::run(data),
        "ns_parser" => ns_parser::run(data),
        "sb_parser" => sb_parser::run(data),
        "handle_text" => handle_text::run(data),
        _ => return false,
    }
    true
}

/// The names of all targets.
pub const TARGETS: &[&str] = &["decoder", "ns_parser", "sb_parser", "handle_text"];
