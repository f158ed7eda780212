//! Password handling. Every account has an argon2id hash (used by Passport
//! logins). The MSNP2–MSNP7 MD5 login needs `md5(salt ‖ password)` for a salt
//! chosen per login, which only works when the server knows the password:
//! accounts opt in to that explicitly (`msnd user add --legacy-md5`).
//!
//! Accounts imported from Escargot (`msnd import-escargot`) arrive with
//! Escargot's PBKDF2-SHA256 hash, `pbkdf2_sha256$<iterations>$<salt>$<hash>`
//! (the salt used as its text's bytes, the 32-byte hash in padded base64).
//! [`HashMemory::verify`] accepts those too, and [`needs_rehash`] tells the
//! login that succeeded with one to store an argon2id hash instead.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

/// argon2id cost parameters for new hashes (existing hashes carry their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashCost {
    /// OWASP's minimum recommendation for argon2id (19 MiB, 2 passes).
    fn default() -> Self {
        HashCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashCost {
    /// Cheap parameters for tests; never use them for real accounts.
    pub fn insecure_for_tests() -> Self {
        HashCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// Hashes `password` with argon2id into a PHC string.
pub fn hash_password(password: &str, cost: HashCost) -> Result<String, String> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks `password` against a PHC string. CPU-heavy: run it off the async
/// runtime's worker threads. Allocates the hash's work memory (19 MiB at the
/// default cost) for this one call; servers verifying many passwords use
/// [`HashMemory::verify`] (through a bounded verifier) instead.
pub fn verify_password(password: &str, phc: &str) -> bool {
    HashMemory::new().verify(password, phc)
}

/// Reusable argon2 work memory.
///
/// An argon2id check at the default cost writes 19 MiB of blocks. Allocated
/// afresh for every login, those buffers are what made the server's memory
/// grow under login floods: glibc's malloc raises its mmap threshold after
/// the first such free and from then on serves them from heaps it never
/// gives back, so 32 clients guessing passwords for 20 s left the process
/// at 849 MB. Keeping one buffer per concurrent check, reused from check to
/// check, bounds that memory by the number of checks running at once
/// (`http.max_concurrent_hashes`) and saves the page faults of touching
/// fresh memory on every check.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl HashMemory {
    /// Empty: the first check allocates what its parameters need.
    pub fn new() -> Self {
        HashMemory::default()
    }

    /// Bytes held.
    pub fn capacity_bytes(&self) -> usize {
        self.blocks.capacity() * Block::SIZE
    }

    /// Checks `password` against a PHC string (argon2id, argon2i or
    /// argon2d, with the parameters and salt the string carries), using and
    /// keeping this memory; it grows if the string asks for more than it
    /// has. The computed hash is compared with the stored one in constant
    /// time. A malformed string, or one with parameters argon2 refuses,
    /// never matches. An Escargot PBKDF2-SHA256 hash is checked with
    /// PBKDF2 (no work memory).
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        if phc.starts_with(PBKDF2_SHA256_PREFIX) {
            return Pbkdf2Hash::parse(phc).is_ok_and(|h| h.matches(password));
        }
        self.try_verify(password, phc).unwrap_or(false)
    }

    fn try_verify(&mut self, password: &str, phc: &str) -> Option<bool> {
        let parsed = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from)
            .ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt_buf = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;

        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::new());
        }
        let argon = Argon2::new(algorithm, version, params);
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = &mut out[..expected.len()];
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut self.blocks)
            .ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(out).ok()? == expected)
    }
}

/// How Escargot's PBKDF2-SHA256 hashes begin.
pub const PBKDF2_SHA256_PREFIX: &str = "pbkdf2_sha256$";

/// The most PBKDF2 iterations a hash may ask for: a check is paid on every
/// login, and Escargot's own hashes use 24 000.
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// Whether a stored hash is anything but argon2id, so that the next
/// successful password login should replace it with [`hash_password`].
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$")
}

/// An Escargot PBKDF2-SHA256 hash, parsed.
struct Pbkdf2Hash<'a> {
    iterations: u32,
    salt: &'a str,
    hash: [u8; 32],
}

impl<'a> Pbkdf2Hash<'a> {
    fn parse(stored: &'a str) -> Result<Pbkdf2Hash<'a>, String> {
        use base64::Engine as _;
        let rest = stored
            .strip_prefix(PBKDF2_SHA256_PREFIX)
            .ok_or("not a pbkdf2_sha256 hash")?;
        let mut parts = rest.split('$');
        let (Some(iterations), Some(salt), Some(hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("a pbkdf2_sha256 hash has four $-separated parts".to_owned());
        };
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| format!("bad PBKDF2 iteration count {iterations:?}"))?;
        if !(1..=MAX_PBKDF2_ITERATIONS).contains(&iterations) {
            return Err(format!(
                "PBKDF2 iteration count {iterations} is not within 1..={MAX_PBKDF2_ITERATIONS}"
            ));
        }
        if salt.is_empty() {
            return Err("empty PBKDF2 salt".to_owned());
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(hash)
            .map_err(|_| "the PBKDF2 hash is not base64".to_owned())?;
        let hash = <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| format!("a PBKDF2-SHA256 hash has 32 bytes, not {}", bytes.len()))?;
        Ok(Pbkdf2Hash {
            iterations,
            salt,
            hash,
        })
    }

    fn matches(&self, password: &str) -> bool {
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            password.as_bytes(),
            self.salt.as_bytes(),
            self.iterations,
            &mut out,
        );
        constant_time_eq(&out, &self.hash)
    }
}

/// Checks that `stored` is a hash a login can be verified against: an
/// argon2 PHC string or an Escargot PBKDF2-SHA256 hash (for imports,
/// which must not store what no password will ever match).
pub fn check_stored_hash(stored: &str) -> Result<(), String> {
    if stored.starts_with(PBKDF2_SHA256_PREFIX) {
        return Pbkdf2Hash::parse(stored).map(|_| ());
    }
    let parsed = PasswordHash::new(stored).map_err(|e| format!("not a PHC string: {e}"))?;
    Algorithm::try_from(parsed.algorithm)
        .map_err(|_| format!("unsupported password hash algorithm {}", parsed.algorithm))?;
    Params::try_from(&parsed).map_err(|e| format!("bad argon2 parameters: {e}"))?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err("the PHC string has no salt or no hash".to_owned());
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `lower_hex(md5(salt ‖ password))`, the MSNP2–MSNP7 login response.
pub fn md5_login_response(salt: &str, password: &str) -> String {
    let mut h = Md5::new();
    h.update(salt.as_bytes());
    h.update(password.as_bytes());
    hex::encode(h.finalize())
}

/// Compares a client's MD5 login response (any case) in constant time.
pub fn verify_md5_login(salt: &str, password: &str, response: &str) -> bool {
    let expected = md5_login_response(salt, password);
    let got = response.to_ascii_lowercase();
    constant_time_eq(expected.as_bytes(), got.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let phc = hash_password("p@ss,word", HashCost::insecure_for_tests()).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("p@ss,word", &phc));
        assert!(!verify_password("p@ss,wort", &phc));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn reused_memory_agrees_with_the_argon2_crate() {
        use argon2::password_hash::PasswordVerifier as _;
        let mut memory = HashMemory::new();
        let cheap = hash_password("first", HashCost::insecure_for_tests()).unwrap();
        let dearer = hash_password(
            "second",
            HashCost {
                memory_kib: 256,
                iterations: 2,
                parallelism: 2,
            },
        )
        .unwrap();
        // Grows for the dearer hash, then serves the cheaper one from the
        // same (larger) buffer.
        for (phc, right) in [(&cheap, "first"), (&dearer, "second"), (&cheap, "first")] {
            let parsed = PasswordHash::new(phc).unwrap();
            assert!(memory.verify(right, phc));
            assert!(
                Argon2::default()
                    .verify_password(right.as_bytes(), &parsed)
                    .is_ok()
            );
            assert!(!memory.verify("wrong", phc));
            assert!(!memory.verify(&format!("{right} "), phc));
        }
        assert_eq!(memory.capacity_bytes(), 256 * 1024);
    }

    #[test]
    fn other_argon2_variants_and_bad_strings() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        for algorithm in [Algorithm::Argon2i, Algorithm::Argon2d] {
            let params = Params::new(64, 1, 1, Some(16)).unwrap();
            let phc = Argon2::new(algorithm, Version::V0x10, params)
                .hash_password(b"pw", &salt)
                .unwrap()
                .to_string();
            assert!(HashMemory::new().verify("pw", &phc), "{phc}");
            assert!(!HashMemory::new().verify("pv", &phc), "{phc}");
        }
        let good = hash_password("pw", HashCost::insecure_for_tests()).unwrap();
        let no_hash = good.rsplit_once('$').unwrap().0;
        for bad in [
            "",
            "$argon2id$",
            no_hash,
            &good.replace("m=64", "m=1"),
            &good.replace("$argon2id$", "$scrypt$"),
        ] {
            assert!(!HashMemory::new().verify("pw", bad), "{bad}");
        }
    }

    /// `pbkdf2_sha256$24000$salt$…` as Escargot's hasher writes it: PBKDF2
    /// with HMAC-SHA256 over the salt's text, 32 bytes, padded base64. The
    /// vector is RFC 7914 §11's PBKDF2-HMAC-SHA-256 one ("passwd", "salt",
    /// 1 iteration, first 32 of its 64 bytes).
    #[test]
    fn escargot_pbkdf2_hashes() {
        use base64::Engine as _;
        let rfc = hex::decode("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
            .unwrap();
        let stored = format!(
            "pbkdf2_sha256$1$salt${}",
            base64::engine::general_purpose::STANDARD.encode(&rfc)
        );
        check_stored_hash(&stored).unwrap();
        assert!(needs_rehash(&stored));
        assert!(verify_password("passwd", &stored));
        assert!(!verify_password("passwe", &stored));
        for bad in [
            stored.replace("$1$", "$0$"),
            stored.replace("$1$", "$1000001$"),
            stored.replace("$1$", "$x$"),
            stored.replace("$salt$", "$$"),
            stored.replace("$salt$", "$a$b$"),
            format!("{}AAAA", stored),
            "pbkdf2_sha256$1$salt$!!".to_owned(),
        ] {
            assert!(check_stored_hash(&bad).is_err(), "{bad}");
            assert!(!verify_password("passwd", &bad), "{bad}");
        }
        let argon = hash_password("pw", HashCost::insecure_for_tests()).unwrap();
        check_stored_hash(&argon).unwrap();
        assert!(!needs_rehash(&argon));
        assert!(check_stored_hash("md5$abc$def").is_err());
        assert!(check_stored_hash("").is_err());
    }

    #[test]
    fn md5_login_vectors() {
        // YW USR check value.
        assert_eq!(
            md5_login_response("1234567890.123456789", "password"),
            "f59af8f2fa91d38aff7c870c17f99903"
        );
        // transcripts/msnp2-login.txt
        assert!(verify_md5_login(
            "1013928519.693957190",
            "alicepass",
            "e938940c21cf00fa0bc349db5d258ada"
        ));
        assert!(verify_md5_login(
            "1013928519.693957190",
            "alicepass",
            "E938940C21CF00FA0BC349DB5D258ADA"
        ));
        assert!(!verify_md5_login(
            "1013928519.693957190",
            "alicepass",
            "e93894"
        ));
    }
}
