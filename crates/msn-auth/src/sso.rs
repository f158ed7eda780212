//! The MSNP15+ single sign-on proof (`USR SSO S <ticket> <proof>`).
//!
//! The NS sends a nonce with the policy `MBI_KEY_OLD`; the client gets the
//! `messengerclear.live.com` token and its proof key (the RST
//! `BinarySecret`), derives two keys from it and answers with a 128-byte
//! structure: an HMAC-SHA1 of the nonce and the nonce encrypted with
//! 3DES-CBC, behind a CryptoAPI-style header. The server recomputes both
//! with the key it issued and the nonce it sent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;
type TdesCbc = cbc::Encryptor<des::TdesEde3>;

/// Length of the nonce the server sends: 48 random bytes in base64. The
/// clients need a multiple of 8 (their padding rules only agree then), and
/// some third-party clients crash on anything shorter than the 64
/// characters the real service sent.
pub const NONCE_LEN: usize = 64;

/// The header words every proof starts with: header size, CRYPT_MODE_CBC,
/// CALG_3DES, CALG_SHA1, IV length, hash length.
const HEADER: [u32; 6] = [28, 1, 0x6603, 0x8004, 8, 20];
const HEADER_LEN: usize = 28;
const IV_LEN: usize = 8;
const HASH_LEN: usize = 20;

/// A fresh nonce for `USR … SSO S MBI_KEY_OLD <nonce>`.
pub fn new_nonce() -> String {
    let bytes: [u8; 48] = rand::random();
    BASE64.encode(bytes)
}

/// The key derivation of WS-SecureConversation as the clients do it:
/// P_SHA1 cut to 24 bytes.
fn derive(key: &[u8], label: &[u8]) -> [u8; 24] {
    let hmac = |parts: &[&[u8]]| {
        let mut mac = HmacSha1::new_from_slice(key).expect("HMAC takes any key length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes()
    };
    let a1 = hmac(&[label]);
    let b1 = hmac(&[&a1, label]);
    let a2 = hmac(&[&a1]);
    let b2 = hmac(&[&a2, label]);
    let mut out = [0u8; 24];
    out[..20].copy_from_slice(&b1);
    out[20..].copy_from_slice(&b2[..4]);
    out
}

/// The HMAC and the ciphertext a correct proof carries for `iv`.
fn expected(secret: &[u8], nonce: &str, iv: &[u8; IV_LEN]) -> ([u8; HASH_LEN], Vec<u8>) {
    let hash_key = derive(secret, b"WS-SecureConversationSESSION KEY HASH");
    let cipher_key = derive(secret, b"WS-SecureConversationSESSION KEY ENCRYPTION");
    let mut mac = HmacSha1::new_from_slice(&hash_key).expect("HMAC takes any key length");
    mac.update(nonce.as_bytes());
    let hash: [u8; HASH_LEN] = mac.finalize().into_bytes().into();
    // The clients append eight 0x08 bytes (libpurple always; the others
    // PKCS#5-pad, which is the same for a nonce whose length is a
    // multiple of 8).
    let mut plain = nonce.as_bytes().to_vec();
    plain.extend_from_slice(&[8u8; 8]);
    let len = plain.len();
    let pad = (8 - len % 8) % 8;
    plain.extend(std::iter::repeat_n(0u8, pad));
    let cipher = TdesCbc::new(&cipher_key.into(), iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len + pad)
        .expect("the buffer is a whole number of blocks")
        .to_vec();
    (hash, cipher)
}

/// The proof a client computes for `nonce` with the proof key `secret`
/// and the IV `iv`, base64-encoded (172 characters for a 64-character
/// nonce). The server only verifies; this is for tests and test clients.
pub fn compute_proof(secret: &[u8], nonce: &str, iv: [u8; IV_LEN]) -> String {
    let (hash, cipher) = expected(secret, nonce, &iv);
    let mut blob = Vec::with_capacity(HEADER_LEN + IV_LEN + HASH_LEN + cipher.len());
    for word in &HEADER {
        blob.extend_from_slice(&word.to_le_bytes());
    }
    blob.extend_from_slice(&(cipher.len() as u32).to_le_bytes());
    blob.extend_from_slice(&iv);
    blob.extend_from_slice(&hash);
    blob.extend_from_slice(&cipher);
    BASE64.encode(blob)
}

/// Whether `proof` (base64, as sent on `USR … SSO S`) proves knowledge of
/// `secret` for `nonce`: the header as the clients write it, the lengths
/// consistent, and the HMAC and ciphertext equal to what `secret` gives
/// with the proof's own IV.
pub fn verify_proof(secret: &[u8], nonce: &str, proof: &str) -> bool {
    let Ok(blob) = BASE64.decode(proof) else {
        return false;
    };
    if blob.len() < HEADER_LEN + IV_LEN + HASH_LEN {
        return false;
    }
    let word = |i: usize| u32::from_le_bytes(blob[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
    if (0..HEADER.len()).any(|i| word(i) != HEADER[i]) {
        return false;
    }
    let cipher_len = word(6) as usize;
    if blob.len() != HEADER_LEN + IV_LEN + HASH_LEN + cipher_len {
        return false;
    }
    let iv: [u8; IV_LEN] = blob[HEADER_LEN..HEADER_LEN + IV_LEN]
        .try_into()
        .expect("8 bytes");
    let given_hash = &blob[HEADER_LEN + IV_LEN..HEADER_LEN + IV_LEN + HASH_LEN];
    let given_cipher = &blob[HEADER_LEN + IV_LEN + HASH_LEN..];
    let (hash, cipher) = expected(secret, nonce, &iv);
    // Compared without early exits: both are derived from the secret.
    constant_time_eq(&hash, given_hash) & constant_time_eq(&cipher, given_cipher)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of the project's auth-services notes (§5.3),
    // cross-checked with OpenSSL when it was written.
    const SECRET: &str = "tgoPVK67sU36fQKlGLMgWgTXp7oiaQgE";
    const NONCE: &str = "E4Fhehbe0q2Je+SUSp7IRnJV+rN4uME75ljIpUjIZ1Si+DgmrfuiIL+AFmkMA6Wv";
    const PROOF: &str = "HAAAAAEAAAADZgAABIAAAAgAAAAUAAAASAAAAAECAwQFBgcI7GGBdlCDPUKtE5RJRyZke4Y0onGGNDZ7utXNXAQrkCzLqtIHqpHky5UoRnDJ+CAzTBmACR3FplRAiuQTQrmJAcPfJYcOh3DDYEI9mEry8A/eBTsfuGb/CDj3gKE=";

    fn secret() -> Vec<u8> {
        BASE64.decode(SECRET).unwrap()
    }

    #[test]
    fn derived_keys_match_the_worked_example() {
        let s = secret();
        assert_eq!(
            hex(&derive(&s, b"WS-SecureConversationSESSION KEY HASH")),
            "95ea4c0a5a17c1d44033d538daa557608bcddbf98d24ff34"
        );
        assert_eq!(
            hex(&derive(&s, b"WS-SecureConversationSESSION KEY ENCRYPTION")),
            "6530da2f44646e36224a43abe0ddb89f6165033b74a8dff1"
        );
    }

    #[test]
    fn proof_matches_the_worked_example() {
        assert_eq!(
            compute_proof(&secret(), NONCE, [1, 2, 3, 4, 5, 6, 7, 8]),
            PROOF
        );
        assert!(verify_proof(&secret(), NONCE, PROOF));
    }

    #[test]
    fn wrong_proofs_are_refused() {
        let s = secret();
        let mut other = s.clone();
        other[0] ^= 1;
        assert!(!verify_proof(&other, NONCE, PROOF), "another key");
        let other_nonce = NONCE.replace('E', "F");
        assert!(!verify_proof(&s, &other_nonce, PROOF), "another nonce");
        let mut blob = BASE64.decode(PROOF).unwrap();
        for i in [0, 4, 8, 12, 16, 20, 24, 40, 60, 127] {
            blob[i] ^= 0x40;
            assert!(!verify_proof(&s, NONCE, &BASE64.encode(&blob)), "byte {i}");
            blob[i] ^= 0x40;
        }
        assert!(!verify_proof(&s, NONCE, &BASE64.encode(&blob[..100])));
        assert!(!verify_proof(&s, NONCE, "not base64!"));
        assert!(!verify_proof(&s, NONCE, ""));
    }

    #[test]
    fn any_iv_and_fresh_nonces_round_trip() {
        let s = secret();
        let nonce = new_nonce();
        assert_eq!(nonce.len(), NONCE_LEN);
        let proof = compute_proof(&s, &nonce, [9; 8]);
        assert_eq!(proof.len(), 172);
        assert!(proof.starts_with("HAAAAAEAAAADZgAABIAAAAgAAAAUAAAASAAAA"));
        assert!(verify_proof(&s, &nonce, &proof));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
