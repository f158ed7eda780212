//! `CHL`/`QRY` challenge answers (challenges.md): `md5(challenge ‖ key)` for
//! MSNP6–MSNP10 and the product-key mixing function for MSNP11 and later.

use md5::{Digest, Md5};
use msn_wire::dialect::ChallengeKind;

/// Client ids and keys of the MD5 era (MSNP6–MSNP10).
pub const MD5_CLIENT_KEYS: &[(&str, &str)] = &[
    ("msmsgs@msnmsgr.com", "Q1P7W2E4J9R8U3S5"),
    ("PROD0038W!61ZTF9", "VT6PX?UQTM4WM%YR"),
    ("PROD0058#7IL2{QD", "QHDCY@7R1TB6W?5B"),
    ("PROD0061VRRZH@4F", "JXQ6J@TUOGYV@N0M"),
    ("PROD00504RLUG%WL", "I2EBK%PYNLZL5_J4"),
    ("PROD0076ENE8*@AW", "CEQJ8}OE0!WTSWII"),
];

/// Product ids and keys of the product-key era (MSNP11+).
pub const PRODUCT_KEYS: &[(&str, &str)] = &[
    ("PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL"),
    ("PROD00974#MT*RC2", "LMCVO*18PQJ3H!K3"),
    ("PROD0101{0RM?UBW", "CFHUR$52U_{VIX5T"),
    ("PROD0104U6VVM{UJ", "VK67B}379XYM5}$T"),
    ("PROD01065C%ZFN6F", "O4BG@C7BWLYQX?5G"),
    ("PROD0112J1LW7%NB", "RH96F{PHI8PPX_TJ"),
    ("PROD0113H11T8$X_", "RG@XY*28Q5QHS%Q5"),
    ("PROD0114ES4Z%Q5W", "PK}_A_0N_K%O?A9S"),
    ("PROD0118R6%2WYOS", "YIXPX@5I2P0UT*LK"),
    ("PROD0119GSJUC$18", "ILTXC!4IXB5FB*PX"),
    ("PROD0120PW!CCV9@", "C1BX{V4W}Q3*10SM"),
];

/// The key belonging to a client/product id for the given algorithm.
pub fn key_for(kind: ChallengeKind, id: &str) -> Option<&'static str> {
    let table = match kind {
        ChallengeKind::None => return None,
        ChallengeKind::Md5 => MD5_CLIENT_KEYS,
        ChallengeKind::ProductKey => PRODUCT_KEYS,
    };
    table.iter().find(|(i, _)| *i == id).map(|(_, k)| *k)
}

/// The expected answer to `challenge` from client `id`, or `None` when the
/// id is unknown for this dialect's algorithm.
pub fn expected_answer(kind: ChallengeKind, id: &str, challenge: &str) -> Option<String> {
    let key = key_for(kind, id)?;
    Some(match kind {
        ChallengeKind::Md5 => md5_answer(challenge, key),
        ChallengeKind::ProductKey => product_key_answer(challenge, id, key),
        ChallengeKind::None => return None,
    })
}

/// Whether `response` (32 hex digits, any case) answers `challenge`.
pub fn verify(kind: ChallengeKind, id: &str, challenge: &str, response: &[u8]) -> bool {
    match expected_answer(kind, id, challenge) {
        Some(expected) => response.eq_ignore_ascii_case(expected.as_bytes()),
        None => false,
    }
}

/// `lower_hex(md5(challenge ‖ key))`.
pub fn md5_answer(challenge: &str, key: &str) -> String {
    let mut h = Md5::new();
    h.update(challenge.as_bytes());
    h.update(key.as_bytes());
    hex::encode(h.finalize())
}

/// The MSNP11+ algorithm (challenges.md §3), written from its description.
pub fn product_key_answer(challenge: &str, product_id: &str, product_key: &str) -> String {
    const M: u64 = 0x7FFF_FFFF;
    let mut h = Md5::new();
    h.update(challenge.as_bytes());
    h.update(product_key.as_bytes());
    let digest = h.finalize();
    let raw: [u32; 4] =
        std::array::from_fn(|i| u32::from_le_bytes(digest[i * 4..i * 4 + 4].try_into().unwrap()));
    let k: [u64; 4] = raw.map(|r| u64::from(r & 0x7FFF_FFFF));

    let mut s = Vec::with_capacity(challenge.len() + product_id.len() + 8);
    s.extend_from_slice(challenge.as_bytes());
    s.extend_from_slice(product_id.as_bytes());
    while s.len() % 8 != 0 {
        s.push(b'0');
    }
    let words: Vec<u64> = s
        .chunks_exact(4)
        .map(|c| u64::from(u32::from_le_bytes(c.try_into().unwrap())))
        .collect();

    let (mut high, mut low) = (0u64, 0u64);
    for pair in words.chunks_exact(2) {
        let mut t = (pair[0] * 0x0E79_A9C1) % M;
        t = (k[0] * (t + high) + k[1]) % M;
        high = (pair[1] + t) % M;
        high = (k[2] * high + k[3]) % M;
        low += high + t;
    }
    high = (high + k[1]) % M;
    low = (low + k[3]) % M;

    let out = [
        raw[0] ^ high as u32,
        raw[1] ^ low as u32,
        raw[2] ^ high as u32,
        raw[3] ^ low as u32,
    ];
    let bytes: Vec<u8> = out.iter().flat_map(|w| w.to_le_bytes()).collect();
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSNP11_ID: &str = "PROD0090YUAUV{2B";
    const MSNP11_KEY: &str = "YMM8C_H7KCQ2S_KL";

    #[test]
    fn md5_vectors() {
        let key = "Q1P7W2E4J9R8U3S5";
        assert_eq!(
            md5_answer("22299241447072743325", key),
            "20dba7e6e9817826b9cd5240cc8add99"
        );
        assert_eq!(
            md5_answer("15570131571988941333", key),
            "8f2f5a91b72102cd28355e9fc9000d6e"
        );
        assert_eq!(
            md5_answer("11111111111111111111", key),
            "3b6666b60157322b6fc6e41a115968f5"
        );
        assert_eq!(
            md5_answer("12345678901234567890", key),
            "8ba1bb9d6dbf624fee31a2053af5fdd0"
        );
    }

    #[test]
    fn product_key_vectors() {
        let cases = [
            ("22210219642164014968", "85ecb0db8f32113df79ce0892b9a102c"),
            ("36819795137093047918", "e7ad3cb09d3e9e4e7c720175984809e9"),
            ("21948129323261853323", "59bcf63ed21f44906c3d3e121ddbed65"),
            ("41525959199453244913", "dcb8ff529e4dd12cc43389851128d2db"),
            ("31744216663023315951", "d15553d0ea89c9f63bbb98a208fa4235"),
            ("14494180082586329971", "4e11d4cd56a65bdf04f60aa133db7ebc"),
        ];
        for (chl, want) in cases {
            assert_eq!(
                product_key_answer(chl, MSNP11_ID, MSNP11_KEY),
                want,
                "{chl}"
            );
        }
        let (id, key) = ("PROD0113H11T8$X_", "RG@XY*28Q5QHS%Q5");
        assert_eq!(
            product_key_answer("11533365622852247127", id, key),
            "f086d1ded067186deca8dba2231602cf"
        );
        assert_eq!(
            product_key_answer("237191752526424888127371168", id, key),
            "65b6b623c649c25629af048d34066040"
        );
        assert_eq!(
            product_key_answer(
                "22210219642164014968",
                "PROD0120PW!CCV9@",
                "C1BX{V4W}Q3*10SM"
            ),
            "6e92a312bf6b70ee58e75a1e3315695c"
        );
    }

    #[test]
    fn verify_by_dialect_kind() {
        let chl = "36819795137093047918";
        assert!(verify(
            ChallengeKind::ProductKey,
            MSNP11_ID,
            chl,
            b"E7AD3CB09D3E9E4E7C720175984809E9"
        ));
        assert!(!verify(
            ChallengeKind::Md5,
            MSNP11_ID,
            chl,
            b"e7ad3cb09d3e9e4e7c720175984809e9"
        ));
        assert!(!verify(
            ChallengeKind::ProductKey,
            "PROD9999XXXXXXXX",
            chl,
            b"0"
        ));
        assert!(verify(
            ChallengeKind::Md5,
            "msmsgs@msnmsgr.com",
            "22299241447072743325",
            b"20dba7e6e9817826b9cd5240cc8add99"
        ));
    }
}
