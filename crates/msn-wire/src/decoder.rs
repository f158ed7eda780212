//! Incremental framing. Bytes may arrive split at any position; the decoder
//! returns `Ok(None)` until a whole line (and, for payload commands, the
//! whole payload) is buffered. Line ends are `\r\n` or a bare `\n`; the
//! payload length is a byte count and nothing follows the payload.

use bytes::{Bytes, BytesMut};
use thiserror::Error;

use crate::frame::Frame;

/// Which side wrote the bytes; the set of payload commands depends on it
/// (the server's `QRY TrID` reply has no payload, the client's `QRY` has).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Bytes a client sent to a server.
    FromClient,
    /// Bytes a server sent to a client (used by test clients and the load
    /// generator).
    FromServer,
}

/// Hard caps applied while framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted command line in bytes, terminator excluded.
    pub max_line: usize,
    /// Largest accepted payload in bytes.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 2048,
            max_payload: 65536,
        }
    }
}

/// Why a byte stream cannot be framed. Every variant means the connection
/// is out of sync and must be closed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum WireError {
    #[error("command line longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("payload of {len} bytes exceeds the limit of {limit}")]
    PayloadTooLarge { len: u64, limit: usize },
    #[error("payload command without a valid byte count")]
    BadPayloadLength,
    #[error("command line is not valid UTF-8")]
    NotUtf8,
}

/// Commands a client follows with a payload (MSNP2..MSNP18).
const CLIENT_PAYLOAD_COMMANDS: &[&str] = &[
    "MSG", "QRY", "SDC", "PAG", "UUX", "ADL", "RML", "FQY", "UUN", "UUM", "PUT", "SDG",
];
/// Commands a server follows with a payload when their last parameter is a
/// number (`ADL 6 OK` has none).
const SERVER_PAYLOAD_COMMANDS: &[&str] = &[
    "MSG", "NOT", "IPG", "UBX", "GCF", "ADL", "RML", "FQY", "UBN", "UBM", "NFY", "SDG", "PUT",
];

/// Stateful decoder for one connection.
#[derive(Debug)]
pub struct Decoder {
    direction: Direction,
    limits: Limits,
    /// Bytes of the buffer already searched for a line end.
    scanned: usize,
    /// A payload command whose line is read and whose payload is awaited.
    pending: Option<(String, usize)>,
}

impl Decoder {
    pub fn new(direction: Direction, limits: Limits) -> Self {
        Decoder {
            direction,
            limits,
            scanned: 0,
            pending: None,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Changes the caps (e.g. once the service is known).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// True while a payload is partially received.
    pub fn is_mid_frame(&self) -> bool {
        self.pending.is_some() || self.scanned > 0
    }

    /// Takes the next complete frame out of `buf`, if there is one.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, WireError> {
        loop {
            if let Some((_, len)) = &self.pending {
                let len = *len;
                if buf.len() < len {
                    return Ok(None);
                }
                let payload: Bytes = buf.split_to(len).freeze();
                let (line, _) = self.pending.take().expect("pending payload");
                return Ok(Some(Frame::new(line, Some(payload))));
            }

            let Some(line) = self.take_line(buf)? else {
                return Ok(None);
            };
            if line.is_empty() {
                continue; // stray blank lines are tolerated
            }
            match self.payload_length(&line)? {
                Some(len) => self.pending = Some((line, len)),
                None => return Ok(Some(Frame::new(line, None))),
            }
        }
    }

    /// Extracts one line without its terminator and trailing blanks.
    fn take_line(&mut self, buf: &mut BytesMut) -> Result<Option<String>, WireError> {
        let window = buf.len().min(self.limits.max_line + 2);
        // `scanned` may lie past the window if the limits shrank meanwhile.
        let start = self.scanned.min(window);
        let newline = buf[start..window]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| i + start);
        let Some(end) = newline else {
            if buf.len() > self.limits.max_line + 1 {
                return Err(WireError::LineTooLong {
                    limit: self.limits.max_line,
                });
            }
            self.scanned = buf.len();
            return Ok(None);
        };
        self.scanned = 0;
        let raw = buf.split_to(end + 1);
        let mut content = &raw[..end];
        while let [rest @ .., b'\r' | b' ' | b'\t'] = content {
            content = rest;
        }
        if content.len() > self.limits.max_line {
            return Err(WireError::LineTooLong {
                limit: self.limits.max_line,
            });
        }
        let text = std::str::from_utf8(content).map_err(|_| WireError::NotUtf8)?;
        // A CR that is not part of the line end is a blank, as it already is
        // for `Frame::tokens`; the line itself never contains one.
        let text = text.trim_start_matches([' ', '\t', '\r']);
        Ok(Some(text.replace('\r', " ")))
    }

    /// The payload size announced by `line`, if it is a payload command.
    fn payload_length(&self, line: &str) -> Result<Option<usize>, WireError> {
        let mut tokens = line.split_ascii_whitespace();
        let command = tokens.next().unwrap_or("");
        let last = tokens.next_back();
        let is_payload_command = match self.direction {
            Direction::FromClient => CLIENT_PAYLOAD_COMMANDS.contains(&command),
            Direction::FromServer => {
                SERVER_PAYLOAD_COMMANDS.contains(&command)
                    && last.is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()))
            }
        };
        if !is_payload_command {
            return Ok(None);
        }
        let token = last.ok_or(WireError::BadPayloadLength)?;
        let len = parse_length(token).ok_or(WireError::BadPayloadLength)?;
        if len > self.limits.max_payload as u64 {
            return Err(WireError::PayloadTooLarge {
                len,
                limit: self.limits.max_payload,
            });
        }
        Ok(Some(len as usize))
    }
}

/// A decimal byte count. Huge values saturate so they are reported as too
/// large rather than as malformed.
fn parse_length(token: &str) -> Option<u64> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(token.parse::<u64>().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Decoder {
        Decoder::new(Direction::FromClient, Limits::default())
    }

    fn decode_all(dec: &mut Decoder, bytes: &[u8]) -> Result<Vec<Frame>, WireError> {
        let mut buf = BytesMut::from(bytes);
        let mut frames = Vec::new();
        while let Some(f) = dec.decode(&mut buf)? {
            frames.push(f);
        }
        assert!(buf.is_empty() || dec.is_mid_frame());
        Ok(frames)
    }

    /// Feeds `bytes` in two parts split at every position and checks that the
    /// frames are always the same as when fed at once.
    fn assert_split_invariant(direction: Direction, bytes: &[u8]) -> Vec<Frame> {
        let whole = decode_all(&mut Decoder::new(direction, Limits::default()), bytes).unwrap();
        for cut in 0..=bytes.len() {
            let mut dec = Decoder::new(direction, Limits::default());
            let mut buf = BytesMut::new();
            let mut frames = Vec::new();
            for part in [&bytes[..cut], &bytes[cut..]] {
                buf.extend_from_slice(part);
                while let Some(f) = dec.decode(&mut buf).unwrap() {
                    frames.push(f);
                }
            }
            assert_eq!(frames, whole, "split at byte {cut}");
        }
        whole
    }

    #[test]
    fn plain_lines_with_crlf_and_lf() {
        let frames = decode_all(&mut client(), b"VER 1 MSNP7 CVR0\r\nINF 2\nPNG\r\n").unwrap();
        let lines: Vec<_> = frames.iter().map(|f| f.line()).collect();
        assert_eq!(lines, ["VER 1 MSNP7 CVR0", "INF 2", "PNG"]);
        assert!(frames.iter().all(|f| f.payload().is_none()));
    }

    #[test]
    fn trailing_blanks_and_blank_lines_are_ignored() {
        let frames = decode_all(&mut client(), b"\r\n  CHG 9 NLN \r\n\n").unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].line(), "CHG 9 NLN");
    }

    #[test]
    fn payload_split_at_every_byte() {
        let mut wire = b"MSG 4 A 13\r\nab\r\ncd\x00\xff\r\n\r\nXOUT\r\n".to_vec();
        wire.extend_from_slice(b"QRY 10 msmsgs@msnmsgr.com 32\r\n3b6666b60157322b6fc6e41a115968f5");
        wire.extend_from_slice(b"PNG\r\n");
        let frames = assert_split_invariant(Direction::FromClient, &wire);
        assert_eq!(frames.len(), 4);
        assert_eq!(
            frames[0].payload().unwrap().as_ref(),
            b"ab\r\ncd\x00\xff\r\n\r\nX"
        );
        assert_eq!(frames[1].line(), "OUT");
        assert_eq!(frames[2].payload().unwrap().len(), 32);
        assert_eq!(frames[3].line(), "PNG");
    }

    #[test]
    fn all_byte_values_survive_in_a_payload() {
        let body: Vec<u8> = (0..=255u8).collect();
        let mut wire = format!("MSG 1 D {}\r\n", body.len()).into_bytes();
        wire.extend_from_slice(&body);
        let frames = assert_split_invariant(Direction::FromClient, &wire);
        assert_eq!(frames[0].payload().unwrap().as_ref(), &body[..]);
    }

    #[test]
    fn zero_length_payload() {
        let frames = decode_all(
            &mut client(),
            b"SDC 12 a@b.com 0x0409 MSMSGS MSMSGS X X Alice 0\r\nPNG\r\n",
        )
        .unwrap();
        assert_eq!(frames[0].payload().unwrap().len(), 0);
        assert_eq!(frames[1].line(), "PNG");
    }

    #[test]
    fn server_direction_payload_rules() {
        let wire = b"QRY 10\r\nMSG Hotmail Hotmail 3\r\nabcADL 6 OK\r\nGCF 6 Shields.xml 2\r\nxyUBX a@b.c 0\r\n";
        let frames = assert_split_invariant(Direction::FromServer, wire);
        let lines: Vec<_> = frames.iter().map(|f| f.line()).collect();
        assert_eq!(
            lines,
            [
                "QRY 10",
                "MSG Hotmail Hotmail 3",
                "ADL 6 OK",
                "GCF 6 Shields.xml 2",
                "UBX a@b.c 0"
            ]
        );
        assert!(frames[0].payload().is_none());
        assert_eq!(frames[1].payload().unwrap().as_ref(), b"abc");
        assert!(frames[2].payload().is_none());
        assert_eq!(frames[3].payload().unwrap().as_ref(), b"xy");
        assert_eq!(frames[4].payload().unwrap().len(), 0);
    }

    #[test]
    fn line_too_long_is_an_error_even_without_terminator() {
        let limits = Limits {
            max_line: 16,
            max_payload: 100,
        };
        let mut dec = Decoder::new(Direction::FromClient, limits);
        let mut buf = BytesMut::from(&[b'A'; 40][..]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(WireError::LineTooLong { limit: 16 })
        );
        let mut dec = Decoder::new(Direction::FromClient, limits);
        let mut buf = BytesMut::from(&b"0123456789abcdef\r\n"[..]);
        assert!(
            dec.decode(&mut buf).unwrap().is_some(),
            "exactly at the limit"
        );
        let mut buf = BytesMut::from(&b"0123456789abcdefg\r\n"[..]);
        assert!(dec.decode(&mut buf).is_err());
    }

    #[test]
    fn bad_and_huge_lengths() {
        for line in [
            &b"MSG 1 A -5\r\n"[..],
            b"MSG 1 A\r\n",
            b"MSG\r\n",
            b"MSG 1 A 1e3\r\n",
            b"QRY 1 x 0x20\r\n",
        ] {
            assert_eq!(
                client().decode(&mut BytesMut::from(line)),
                Err(WireError::BadPayloadLength),
                "{line:?}"
            );
        }
        for line in [
            &b"MSG 1 A 65537\r\n"[..],
            b"MSG 1 A 99999999999999999999999999\r\n",
        ] {
            assert!(matches!(
                client().decode(&mut BytesMut::from(line)),
                Err(WireError::PayloadTooLarge { .. })
            ));
        }
    }

    #[test]
    fn invalid_utf8_line_is_rejected() {
        assert_eq!(
            client().decode(&mut BytesMut::from(&b"REA 1 a@b.com \xff\xfe\r\n"[..])),
            Err(WireError::NotUtf8)
        );
    }

    #[test]
    fn bare_cr_inside_a_line_is_a_blank() {
        // Found by fuzz/ (target `decoder`): a CR not followed by LF stayed
        // in the line, so `Frame::line` could contain a CR.
        let frames = decode_all(&mut client(), b"\r\rVER 1\rMSNP8 CVR0\r\r\nOUT\r\r\r\n").unwrap();
        let lines: Vec<_> = frames.iter().map(|f| f.line()).collect();
        assert_eq!(lines, ["VER 1 MSNP8 CVR0", "OUT"]);
        assert_eq!(frames[0].params(), ["1", "MSNP8", "CVR0"]);
    }

    #[test]
    fn shrinking_limits_mid_line_does_not_panic() {
        // Found by fuzz/ (target `decoder`): `set_limits` with a smaller
        // `max_line` while a partial line was buffered sliced the buffer
        // out of range.
        let small = Limits {
            max_line: 16,
            max_payload: 100,
        };
        let mut dec = client();
        let mut buf = BytesMut::from(&[b'A'; 40][..]);
        assert_eq!(dec.decode(&mut buf), Ok(None));
        dec.set_limits(small);
        assert_eq!(
            dec.decode(&mut buf),
            Err(WireError::LineTooLong { limit: 16 })
        );

        let mut dec = client();
        let mut buf = BytesMut::from(&b"PNG"[..]);
        assert_eq!(dec.decode(&mut buf), Ok(None));
        dec.set_limits(small);
        buf.extend_from_slice(b"\r\n");
        assert_eq!(dec.decode(&mut buf).unwrap().unwrap().line(), "PNG");
    }

    #[test]
    fn byte_by_byte_feed_does_not_rescan_quadratically() {
        let mut dec = client();
        let mut buf = BytesMut::new();
        for &b in b"USR 6 MD5 I alice@hotmail.com\r\n" {
            assert!(dec.decode(&mut buf).unwrap().is_none());
            buf.extend_from_slice(&[b]);
        }
        assert_eq!(
            dec.decode(&mut buf).unwrap().unwrap().line(),
            "USR 6 MD5 I alice@hotmail.com"
        );
    }
}
