//! Random values the server hands out: login salts, challenges, switchboard
//! cookies and session ids, Passport tickets. All come from the operating
//! system's CSPRNG (through `rand`'s thread-local generator, seeded from it).

use rand::Rng;
use rand::distr::Alphanumeric;

/// A login salt in the "number.number" shape the real service used.
pub fn login_salt() -> String {
    let mut rng = rand::rng();
    format!(
        "{}.{:09}",
        rng.random_range(1_000_000_000u64..10_000_000_000),
        rng.random_range(0..1_000_000_000u32)
    )
}

/// A challenge of 20 decimal digits (challenges.md: send exactly 20).
pub fn challenge() -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(20);
    s.push(char::from(b'1' + rng.random_range(0..9u8)));
    for _ in 1..20 {
        s.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    s
}

/// A switchboard cookie: three random 32-bit numbers joined by dots
/// (96 bits, shaped like `17262740.1050826919.32308`).
pub fn sb_cookie() -> String {
    let mut rng = rand::rng();
    format!(
        "{}.{}.{}",
        rng.random::<u32>(),
        rng.random::<u32>(),
        rng.random::<u32>()
    )
}

/// An eight-digit switchboard session id.
pub fn sb_session_id() -> u32 {
    rand::rng().random_range(10_000_000..100_000_000)
}

/// The Passport member id (PUID) of store user `user_id`. The NS sends its
/// halves as `MemberIdHigh`/`MemberIdLow` in the profile, the RST service
/// as `psf:PUID`; both must agree.
pub fn puid(user_id: i64) -> u64 {
    let high = 1 + (user_id >> 32) as u32;
    let low = user_id as u32;
    (u64::from(high) << 32) | u64::from(low)
}

/// `MemberIdHigh` and `MemberIdLow` (the low half printed signed) of a PUID.
pub fn member_id_halves(puid: u64) -> (u32, i32) {
    ((puid >> 32) as u32, puid as u32 as i32)
}

/// A random token of `len` alphanumeric characters.
pub fn token(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A Passport ticket in the conventional `t=…&p=…` shape.
pub fn passport_ticket() -> String {
    format!("t={}$$&p={}$$", token(48), token(32))
}

/// An invitation code for the sign-up page (`msnd invite create`): 20
/// characters from an alphabet without look-alikes (no 0/O, 1/I/L), in
/// groups of five, about 99 bits. Typed by people, so case does not
/// matter: see [`normalize_invite_code`].
pub fn invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let mut s = String::with_capacity(23);
    for i in 0..20 {
        if i > 0 && i % 5 == 0 {
            s.push('-');
        }
        s.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    s
}

/// An invitation code as typed, in the form [`invite_code`] writes:
/// surrounding space dropped, upper case.
pub fn normalize_invite_code(typed: &str) -> String {
    typed.trim().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let salt = login_salt();
        let (a, b) = salt.split_once('.').unwrap();
        assert_eq!((a.len(), b.len()), (10, 9));
        let chl = challenge();
        assert_eq!(chl.len(), 20);
        assert!(chl.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(sb_cookie().split('.').count(), 3);
        assert!((10_000_000..100_000_000).contains(&sb_session_id()));
        assert_eq!(member_id_halves(puid(5)), (1, 5));
        assert_eq!(member_id_halves(0x16005A2D9588B), (90117, -1562814325));
        let t = passport_ticket();
        assert!(t.starts_with("t=") && t.contains("$$&p="));
        assert_ne!(passport_ticket(), t);
    }

    #[test]
    fn invite_codes_are_grouped_and_normalized() {
        let code = invite_code();
        assert_eq!(code.len(), 23);
        assert_eq!(code.matches('-').count(), 3);
        assert_ne!(code, invite_code());
        assert_eq!(
            normalize_invite_code(&format!(" {} ", code.to_lowercase())),
            code
        );
    }
}
