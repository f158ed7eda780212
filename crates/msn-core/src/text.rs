//! Text parameters. Friendly names are kept as text: decoded once when a
//! client sends one ([`decode_param`]), checked ([`validate_name`], a limit
//! in characters), and encoded again for each client on the way out
//! (`msn_wire::name::encode`) — SOAP's `displayName` and the web need the
//! text itself. Group names and property values are still stored and
//! echoed in the encoded form the client sent ([`validate_encoded`]).

use percent_encoding::percent_decode_str;
use thiserror::Error;

/// Longest friendly name accepted, in characters (WLM's limit; 387
/// encoded bytes, the old byte limit, is 129 three-byte characters).
pub const MAX_FRIENDLY_NAME: usize = 129;
/// Longest group name accepted, in encoded bytes (YW ADG/LSG).
pub const MAX_GROUP_NAME: usize = 61;
/// Longest phone-property value, in encoded bytes (YW PRP).
pub const MAX_PROPERTY_VALUE: usize = 95;

#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum TextError {
    #[error("value too long")]
    TooLong,
    #[error("value does not decode to printable UTF-8")]
    Invalid,
}

/// Checks an encoded text parameter: at most `max` bytes, decoding to UTF-8
/// without control characters and without the characters that make a name
/// look like another one ([`is_spoofing`]). Such names are refused, not
/// cleaned: the client is told (`209`), and what others see is what the
/// user typed.
pub fn validate_encoded(encoded: &str, max: usize) -> Result<(), TextError> {
    if encoded.len() > max {
        return Err(TextError::TooLong);
    }
    let decoded = percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|_| TextError::Invalid)?;
    if decoded.is_empty() || !is_displayable(&decoded) {
        return Err(TextError::Invalid);
    }
    Ok(())
}

/// Checks a friendly name (text, not encoded): 1 to `max` characters,
/// [`is_displayable`]. Such names are refused, not cleaned (`209`).
pub fn validate_name(name: &str, max: usize) -> Result<(), TextError> {
    if name.chars().count() > max {
        return Err(TextError::TooLong);
    }
    if name.is_empty() || !is_displayable(name) {
        return Err(TextError::Invalid);
    }
    Ok(())
}

/// Decodes a URL-encoded parameter strictly: the bytes must be UTF-8.
pub fn decode_param(encoded: &str) -> Result<String, TextError> {
    percent_decode_str(encoded)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| TextError::Invalid)
}

/// Characters that reorder or break the text around them: the bidi
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and
/// the line and paragraph separators (U+2028, U+2029). In a name or a
/// personal message they make it show as something else in other users'
/// contact lists (and in `msnd user list`).
pub fn is_spoofing(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Text others may be shown as it is: no control characters and nothing
/// [`is_spoofing`].
pub fn is_displayable(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() || is_spoofing(c))
}

/// Decodes an encoded parameter for display or comparison.
pub fn decode(encoded: &str) -> String {
    percent_decode_str(encoded).decode_utf8_lossy().into_owned()
}

/// Encodes text for a parameter (see `msn_wire::name::encode`).
pub fn encode(text: &str) -> String {
    msn_wire::name::encode(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        assert!(validate_encoded("Alice%20Smith", MAX_FRIENDLY_NAME).is_ok());
        assert!(validate_encoded("Gr%C3%BC%C3%9Fe", MAX_FRIENDLY_NAME).is_ok());
        assert_eq!(validate_encoded("%FF%FE", 100), Err(TextError::Invalid));
        assert_eq!(validate_encoded("a%0Ab", 100), Err(TextError::Invalid));
        assert_eq!(validate_encoded("", 100), Err(TextError::Invalid));
        assert_eq!(
            validate_encoded(&"a".repeat(62), MAX_GROUP_NAME),
            Err(TextError::TooLong)
        );
        assert!(validate_encoded(&"a".repeat(61), MAX_GROUP_NAME).is_ok());
    }

    #[test]
    fn names_are_limited_in_characters() {
        assert!(validate_name("Alice Smith", MAX_FRIENDLY_NAME).is_ok());
        assert!(validate_name(&"☺".repeat(129), MAX_FRIENDLY_NAME).is_ok());
        assert_eq!(
            validate_name(&"a".repeat(130), MAX_FRIENDLY_NAME),
            Err(TextError::TooLong)
        );
        assert_eq!(validate_name("", 10), Err(TextError::Invalid));
        assert_eq!(validate_name("a\nb", 10), Err(TextError::Invalid));
        assert_eq!(decode_param("Gr%C3%BC%C3%9Fe").as_deref(), Ok("Grüße"));
        assert_eq!(decode_param("%FF"), Err(TextError::Invalid));
    }

    #[test]
    fn refuses_names_that_spoof_others() {
        // "alice" followed by a right-to-left override: shows reversed.
        assert_eq!(
            validate_encoded("evil%E2%80%AEecila", MAX_FRIENDLY_NAME),
            Err(TextError::Invalid)
        );
        // An isolate, a line separator, a paragraph separator.
        for bad in ["a%E2%81%A6b", "a%E2%80%A8b", "a%E2%80%A9b"] {
            assert_eq!(validate_encoded(bad, 100), Err(TextError::Invalid), "{bad}");
        }
        // Right-to-left text itself is fine.
        assert!(validate_encoded("%D7%A9%D7%9C%D7%95%D7%9D", 100).is_ok());
        assert!(is_displayable("שלום Alice"));
        assert!(!is_displayable("a\u{202E}b"));
    }

    #[test]
    fn encode_decode_round_trip() {
        let s = "Alice (at work) 100% ☺";
        let e = encode(s);
        assert!(!e.contains(' '));
        assert_eq!(decode(&e), s);
        assert_eq!(encode("alice@hotmail.com"), "alice@hotmail.com");
    }
}
