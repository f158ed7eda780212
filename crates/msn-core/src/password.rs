//! Password handling. Every account has an argon2id hash (used by Passport
//! logins). The MSNP2–MSNP7 MD5 login needs `md5(salt ‖ password)` for a salt
//! chosen per login, which only works when the server knows the password:
//! accounts opt in to that explicitly (`msnd user add --legacy-md5`).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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
/// runtime's worker threads.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
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
    expected.len() == got.len()
        && expected
            .bytes()
            .zip(got.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
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
