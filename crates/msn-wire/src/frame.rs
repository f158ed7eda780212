//! One decoded protocol unit: a command line and, for payload commands, the
//! raw payload bytes that followed it.

use bytes::Bytes;

/// A command line (already stripped of its terminator and of trailing
/// blanks) plus the payload of payload commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    line: String,
    payload: Option<Bytes>,
}

impl Frame {
    /// Builds a frame from a line (no terminator) and an optional payload.
    pub fn new(line: impl Into<String>, payload: Option<Bytes>) -> Self {
        Frame {
            line: line.into(),
            payload,
        }
    }

    /// The command line as received, without its terminator.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The three-letter command (or error code), i.e. the first token.
    pub fn command(&self) -> &str {
        self.tokens().next().unwrap_or("")
    }

    /// Every token of the line, command included. Runs of blanks count as
    /// one separator because real clients were not strict about it.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.line.split_ascii_whitespace()
    }

    /// Tokens after the command name.
    pub fn params(&self) -> Vec<&str> {
        self.tokens().skip(1).collect()
    }

    /// The payload bytes of a payload command (`None` for plain commands).
    pub fn payload(&self) -> Option<&Bytes> {
        self.payload.as_ref()
    }
}

/// Parses a transaction id: a decimal number that fits 32 bits.
pub fn parse_trid(token: &str) -> Option<u32> {
    if token.is_empty() || token.len() > 10 || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_runs_of_blanks() {
        let f = Frame::new("CHG  9 NLN\t 0", None);
        assert_eq!(f.command(), "CHG");
        assert_eq!(f.params(), vec!["9", "NLN", "0"]);
    }

    #[test]
    fn trid_must_be_decimal_u32() {
        assert_eq!(parse_trid("0"), Some(0));
        assert_eq!(parse_trid("4294967295"), Some(u32::MAX));
        assert_eq!(parse_trid("4294967296"), None);
        assert_eq!(parse_trid("-1"), None);
        assert_eq!(parse_trid("+1"), None);
        assert_eq!(parse_trid("1a"), None);
        assert_eq!(parse_trid(""), None);
    }
}
