//! `handle_text`: `msn_core::Handle::parse` and the URL-encoded text helpers
//! of `msn_core::text` on arbitrary strings (the input, read as UTF-8 with
//! invalid sequences replaced, and each of its whitespace-separated tokens,
//! which is what a client can put in a parameter).
//!
//! Properties checked:
//! * `Handle::parse` never panics; an accepted handle is the lower-cased
//!   input, ASCII, at most `MAX_HANDLE_LEN` bytes, one `@`, a single
//!   protocol token, and parses to itself; acceptance and the error do not
//!   depend on letter case;
//! * `validate_encoded` never panics, honours `max`, is monotonic in `max`,
//!   and accepts only values that decode to non-empty text without control
//!   characters;
//! * `encode(decode(x))` is a single printable-ASCII token that decodes back
//!   to `decode(x)` and that `validate_encoded` accepts exactly when the
//!   decoded text is non-empty and free of control characters;
//! * `decode(encode(s)) == s` for every string `s`.

use msn_core::handle::{HandleError, MAX_HANDLE_LEN};
use msn_core::{Handle, text};

pub fn run(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    check(&input);
    for token in input.split_ascii_whitespace() {
        check(token);
    }
}

fn check(s: &str) {
    check_handle(s);
    check_text(s);
}

fn check_handle(s: &str) {
    let parsed = Handle::parse(s);
    let upper = Handle::parse(&s.to_ascii_uppercase());
    let lower = Handle::parse(&s.to_ascii_lowercase());
    assert_eq!(parsed, upper, "case changes the outcome for {s:?}");
    assert_eq!(parsed, lower, "case changes the outcome for {s:?}");
    match parsed {
        Ok(h) => {
            let text = h.as_str();
            assert_eq!(text, s.to_ascii_lowercase());
            assert!(text.is_ascii() && text.len() <= MAX_HANDLE_LEN);
            assert_eq!(text.matches('@').count(), 1, "{text:?}");
            assert!(
                text.bytes().all(|b| (0x21..=0x7e).contains(&b)),
                "handle is not a printable token: {text:?}"
            );
            assert_eq!(Handle::parse(text).as_ref(), Ok(&h));
            assert_eq!(h.to_string(), text);
        }
        Err(HandleError::MissingDomain) => assert!(s.ends_with('@'), "{s:?}"),
        Err(HandleError::Malformed) => {}
    }
}

fn check_text(s: &str) {
    let mut accepted_below = false;
    for max in [
        0,
        1,
        text::MAX_GROUP_NAME,
        text::MAX_PROPERTY_VALUE,
        text::MAX_FRIENDLY_NAME,
        usize::MAX,
    ] {
        let r = text::validate_encoded(s, max);
        if s.len() > max {
            assert_eq!(r, Err(text::TextError::TooLong), "max {max}: {s:?}");
        }
        if accepted_below {
            assert_eq!(r, Ok(()), "accepted under a smaller max: {s:?}");
        }
        accepted_below = r.is_ok();
    }
    let decoded = text::decode(s);
    if text::validate_encoded(s, usize::MAX).is_ok() {
        assert!(!decoded.is_empty() && !decoded.chars().any(char::is_control));
    }
    let reencoded = text::encode(&decoded);
    assert!(
        reencoded.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "encode gives a non-token: {reencoded:?}"
    );
    assert_eq!(text::decode(&reencoded), decoded);
    let printable = !decoded.is_empty() && !decoded.chars().any(char::is_control);
    assert_eq!(
        text::validate_encoded(&reencoded, usize::MAX).is_ok(),
        printable,
        "validity of encode(decode({s:?})) = {reencoded:?}"
    );
    let encoded = text::encode(s);
    assert_eq!(text::decode(&encoded), s, "decode(encode(s)) != s");
    if s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'%') {
        assert_eq!(encoded, s, "encode changed a safe value");
    }
}
