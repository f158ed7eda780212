//! Text in command parameters (friendly names above all) travels
//! URL-encoded: a parameter is one space-free token. The server keeps such
//! text decoded and encodes it here, on the way out, for every dialect
//! alike; clients decode whatever form they are sent.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What must be encoded: controls (CR and LF above all), space, `%`, and
/// every byte of a non-ASCII character.
const PARAM: &AsciiSet = &CONTROLS.add(b' ').add(b'%');

/// `text` as a parameter: every byte that is not printable ASCII, plus
/// `%` and space, as `%XX`.
pub fn encode(text: &str) -> Cow<'_, str> {
    utf8_percent_encode(text, PARAM).into()
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn encodes_what_would_break_a_line() {
        assert_eq!(encode("Alice Smith"), "Alice%20Smith");
        assert_eq!(encode("100% ☺"), "100%25%20%E2%98%BA");
        assert_eq!(encode("a\r\nOUT"), "a%0D%0AOUT");
        assert_eq!(encode("alice@hotmail.com"), "alice@hotmail.com");
    }
}
