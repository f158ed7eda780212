//! The routing envelope of MSNP18's circle traffic (`PUT`, `NFY`, `SDG`;
//! msnp13-18.md §3.12): a `Routing: 1.0` header block naming `To` and
//! `From`, a blank line, then the `Reliability` block and the message
//! block, which the server passes on as they are.
//!
//! ```text
//! Routing: 1.0
//! To: 9:00000000-0000-0000-0009-0123456789ab@live.com;path=IM
//! From: 1:alice@example.com;epid={F26D1F07-95E2-403C-BC18-D4BFED493428}
//!
//! Reliability: 1.0
//! …
//! ```

use bytes::Bytes;

/// The routing block of a payload, read without copying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The `To:` value (`9:<id>@live.com`, maybe with `;path=IM`).
    pub to: &'a str,
    /// The `From:` value as the client wrote it.
    pub from: &'a str,
    /// Everything after the routing block's blank line.
    pub rest: &'a [u8],
}

/// Reads the routing block; `None` if the payload does not start with
/// `Routing: 1.0` or lacks a `To:`, a `From:` or the blank line.
pub fn parse(payload: &[u8]) -> Option<Envelope<'_>> {
    let end = payload.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&payload[..end]).ok()?;
    let mut lines = head.split("\r\n");
    if lines.next()?.trim() != "Routing: 1.0" {
        return None;
    }
    let (mut to, mut from) = (None, None);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        match name.trim() {
            n if n.eq_ignore_ascii_case("To") => to = Some(value.trim()),
            n if n.eq_ignore_ascii_case("From") => from = Some(value.trim()),
            _ => {}
        }
    }
    Some(Envelope {
        to: to?,
        from: from?,
        rest: &payload[end + 4..],
    })
}

/// The payload with its routing block's `From:` value replaced by
/// `from` (the server states who sent it); every other byte is kept.
pub fn with_sender(payload: &[u8], from: &str) -> Option<Bytes> {
    let envelope = parse(payload)?;
    let end = payload.len() - envelope.rest.len() - 4;
    let head = std::str::from_utf8(&payload[..end]).ok()?;
    let mut out = Vec::with_capacity(payload.len() + from.len());
    for (i, line) in head.split("\r\n").enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        match line.split_once(':') {
            Some((name, _)) if i > 0 && name.trim().eq_ignore_ascii_case("From") => {
                out.extend_from_slice(format!("{name}: {from}").as_bytes());
            }
            _ => out.extend_from_slice(line.as_bytes()),
        }
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(envelope.rest);
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDG: &[u8] = b"Routing: 1.0\r\nTo: 9:00000000-0000-0000-0009-0123456789ab@live.com;path=IM\r\nFrom: 1:alice@example.com;epid={f26d1f07-95e2-403c-bc18-d4bfed493428}\r\n\r\nReliability: 1.0\r\nStream: 0\r\nSegment: 1\r\n\r\nMessaging: 1.0\r\nContent-Length: 5\r\n\r\nh\xc3\xa9llo";

    #[test]
    fn reads_the_routing_block() {
        let e = parse(SDG).unwrap();
        assert_eq!(
            e.to,
            "9:00000000-0000-0000-0009-0123456789ab@live.com;path=IM"
        );
        assert!(e.from.starts_with("1:alice@example.com;epid="));
        assert!(e.rest.starts_with(b"Reliability: 1.0\r\n"));
        assert_eq!(parse(b"Reliability: 1.0\r\n\r\n"), None);
        assert_eq!(parse(b"Routing: 1.0\r\nTo: x\r\n\r\n"), None);
        assert_eq!(parse(b"Routing: 1.0\r\nTo: x\r\nFrom: y"), None);
    }

    #[test]
    fn rewrites_only_the_sender() {
        let out = with_sender(SDG, "1:bob@example.com").unwrap();
        let e = parse(&out).unwrap();
        assert_eq!(e.from, "1:bob@example.com");
        assert_eq!(e.rest, parse(SDG).unwrap().rest);
        let same = with_sender(SDG, parse(SDG).unwrap().from).unwrap();
        assert_eq!(&same[..], SDG);
    }
}
