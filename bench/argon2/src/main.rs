//! ms per argon2id hash at msnd's default cost (19 MiB, 2 passes, 1 lane;
//! `msn_core::password::HashCost::default`), for each implementation at
//! identical parameters, each checked to give the same bytes. Run from the
//! repository root:
//!
//! ```sh
//! cargo run --release --manifest-path bench/argon2/Cargo.toml -- 40
//! RUSTFLAGS="-C target-cpu=native" ARGON2_KDF_C_COMPILER_FLAGS="-march=native" \
//!   cargo run --release --manifest-path bench/argon2/Cargo.toml -- 40
//! ```
//!
//! The argument is the number of hashes per implementation (default 30);
//! the implementations take turns, round after round, so that a noisy
//! machine disturbs them alike. Reports the median and the fastest.

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Block, Params, Version};

const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
const OUT_LEN: usize = 32;
const PASSWORD: &[u8] = b"not-the-password";
const SALT: &[u8] = b"0123456789abcdef";

type Run = Box<dyn FnMut() -> Vec<u8>>;

fn rustcrypto() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(OUT_LEN)).expect("params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn implementations() -> Vec<(&'static str, Run)> {
    let mut list: Vec<(&'static str, Run)> = vec![
        (
            "argon2 0.5.3 (RustCrypto), new memory per hash (msnd before)",
            Box::new(|| {
                let mut out = vec![0u8; OUT_LEN];
                rustcrypto()
                    .hash_password_into(PASSWORD, SALT, &mut out)
                    .expect("hash");
                out
            }),
        ),
        ("argon2 0.5.3 (RustCrypto), memory reused (msnd now)", {
            let mut blocks = vec![Block::new(); MEMORY_KIB as usize];
            Box::new(move || {
                let mut out = vec![0u8; OUT_LEN];
                rustcrypto()
                    .hash_password_into_with_memory(PASSWORD, SALT, &mut out, &mut blocks)
                    .expect("hash");
                out
            })
        }),
        (
            "rust-argon2 3.0",
            Box::new(|| {
                let config = rust_argon2::Config {
                    ad: &[],
                    hash_length: OUT_LEN as u32,
                    lanes: LANES,
                    mem_cost: MEMORY_KIB,
                    secret: &[],
                    thread_mode: rust_argon2::ThreadMode::Sequential,
                    time_cost: PASSES,
                    variant: rust_argon2::Variant::Argon2id,
                    version: rust_argon2::Version::Version13,
                };
                rust_argon2::hash_raw(PASSWORD, SALT, &config).expect("hash")
            }),
        ),
    ];
    #[cfg(feature = "c")]
    list.push((
        "argon2-kdf 1.7 (reference C, opt.c)",
        Box::new(|| {
            argon2_kdf::Hasher::new()
                .algorithm(argon2_kdf::Algorithm::Argon2id)
                .custom_salt(SALT)
                .hash_length(OUT_LEN as u32)
                .iterations(PASSES)
                .memory_cost_kib(MEMORY_KIB)
                .threads(LANES)
                .hash(PASSWORD)
                .expect("hash")
                .as_bytes()
                .to_vec()
        }),
    ));
    list
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("a number of hashes"))
        .unwrap_or(30);
    let mut list = implementations();
    // Same bytes from every implementation (and a warm-up).
    let reference = (list[0].1)();
    for (name, run) in &mut list {
        assert_eq!(run(), reference, "{name} disagrees");
    }
    let avx2 = std::arch::is_x86_feature_detected!("avx2");
    println!(
        "argon2id m={MEMORY_KIB} KiB t={PASSES} p={LANES}, {rounds} hashes each; CPU has AVX2: {avx2}"
    );
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); list.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in list.iter_mut().enumerate() {
            let t = Instant::now();
            std::hint::black_box(run());
            times[i].push(t.elapsed());
        }
    }
    for ((name, _), mut t) in list.iter().zip(times) {
        t.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:>8.2} ms median {:>8.2} ms fastest  {name}",
            ms(t[t.len() / 2]),
            ms(t[0])
        );
    }
}
