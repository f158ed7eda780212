//! The protocol trace (`debug` level): every line in and out, with secrets
//! (password hashes, tickets, cookies) replaced and payloads summarised.
//!
//! Incoming frames are logged as they are handled ([`incoming`]); every
//! outgoing line, replies and pushed events alike (NLN, RNG, JOI, relayed
//! MSG, OUT OTH…), is logged once where all output passes
//! ([`crate::conn::Conn::trace_output`]). Payloads (message text, profile
//! cookies, ADL/UUX documents) are never logged: only their length and, for
//! `MSG`, their `Content-Type`.

use bytes::BytesMut;
use msn_wire::{Decoder, Direction, Frame, Limits, Out};
use tracing::{Level, debug, enabled};

/// Replaces the secret parts of a protocol line.
pub fn redact(line: &str) -> String {
    // Split like the parser does, so odd spacing cannot hide a secret.
    let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
    let hide = |positions: &[usize]| {
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if positions.contains(&i) {
                    "<redacted>"
                } else {
                    t
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    match tokens.as_slice() {
        // NS: USR t MD5 S hash / USR t TWN S ticket / USR t CTP S password
        ["USR", _, _, "S", _] => hide(&[4]),
        // NS, MSNP15+: USR t SSO S ticket proof [{machine-guid}]; the nonce
        // of `USR t SSO S MBI_KEY_OLD nonce` is no secret.
        ["USR", _, "SSO", "S", ticket, _, ..] if *ticket != "MBI_KEY_OLD" => hide(&[4, 5]),
        // NS, MSNP18: USR t SHA A circle-ticket
        ["USR", _, "SHA", _, _, ..] => hide(&[4]),
        // SB: USR t handle cookie / ANS t handle cookie session
        ["USR", _, _, _] => hide(&[3]),
        ["ANS", _, _, _, _] => hide(&[3]),
        // MSNP13+ adds `U messenger.msn.com 1` after the cookie.
        ["XFR", _, "SB", _, "CKI", _, ..] => hide(&[5]),
        ["RNG", _, _, "CKI", _, ..] => hide(&[4]),
        _ => tokens.join(" "),
    }
}

fn describe(frame: &Frame) -> String {
    let line = redact(frame.line());
    match frame.payload() {
        Some(p) => match content_type(frame.command(), p) {
            Some(ct) => format!("{line} (+{} payload bytes, {ct})", p.len()),
            None => format!("{line} (+{} payload bytes)", p.len()),
        },
        None => line,
    }
}

/// The media type of a `MSG` payload (`text/plain`,
/// `text/x-msmsgscontrol`…), without parameters; printable ASCII only, so
/// that a payload cannot forge log lines.
fn content_type(command: &str, payload: &[u8]) -> Option<String> {
    if command != "MSG" {
        return None;
    }
    let value = msn_wire::mime::header(payload, "Content-Type")?;
    let media = value.split(';').next().unwrap_or("").trim();
    let safe: String = media
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(80)
        .collect();
    (!safe.is_empty()).then_some(safe)
}

/// Logs a command received from a client.
pub fn incoming(frame: &Frame) {
    if enabled!(Level::DEBUG) {
        debug!("C: {}", describe(frame));
    }
}

/// Logs what was appended to `out` after byte `mark`.
pub fn outgoing(out: &Out, mark: usize) {
    if !enabled!(Level::DEBUG) || out.len() <= mark {
        return;
    }
    let mut copy = BytesMut::from(&out_bytes(out)[mark..]);
    let mut decoder = Decoder::new(
        Direction::FromServer,
        Limits {
            max_line: usize::MAX / 4,
            max_payload: usize::MAX / 4,
        },
    );
    while let Ok(Some(frame)) = decoder.decode(&mut copy) {
        debug!("S: {}", describe(&frame));
    }
}

fn out_bytes(out: &Out) -> &[u8] {
    out.bytes()
}

#[cfg(test)]
mod tests {
    use super::{describe, redact};
    use bytes::Bytes;
    use msn_wire::Frame;

    #[test]
    fn payloads_are_summarised() {
        let body =
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nsecret words";
        let frame = Frame::new("MSG bob@x.com Bob 73", Some(Bytes::from(body)));
        let text = describe(&frame);
        assert_eq!(
            text,
            format!(
                "MSG bob@x.com Bob 73 (+{} payload bytes, text/plain)",
                body.len()
            )
        );
        let profile = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nMSPAuth: 7abc\r\nkv: 9\r\nsid: 507\r\n\r\n";
        let frame = Frame::new("MSG Hotmail Hotmail 120", Some(Bytes::from(profile)));
        let text = describe(&frame);
        assert!(text.ends_with("text/x-msmsgsprofile)"), "{text}");
        assert!(!text.contains("7abc") && !text.contains("507"), "{text}");
        let frame = Frame::new("UUX 5 12", Some(Bytes::from("<Data></Data>")));
        assert_eq!(describe(&frame), "UUX 5 12 (+13 payload bytes)");
    }

    #[test]
    fn secrets_are_hidden() {
        assert_eq!(
            redact("USR 7 MD5 S e938940c21cf00fa0bc349db5d258ada"),
            "USR 7 MD5 S <redacted>"
        );
        assert_eq!(redact("USR 4 TWN S t=abc&p=def"), "USR 4 TWN S <redacted>");
        assert_eq!(
            redact("USR 1 alice@hotmail.com 123.456"),
            "USR 1 alice@hotmail.com <redacted>"
        );
        assert_eq!(
            redact("ANS 1 bob@x.com 12.34 1175"),
            "ANS 1 bob@x.com <redacted> 1175"
        );
        assert_eq!(
            redact("XFR 19 SB 1.2.3.4:1865 CKI 1.2.3"),
            "XFR 19 SB 1.2.3.4:1865 CKI <redacted>"
        );
        assert_eq!(
            redact("RNG 1175 1.2.3.4:1865 CKI 9.9 alice@x.com Alice"),
            "RNG 1175 1.2.3.4:1865 CKI <redacted> alice@x.com Alice"
        );
        assert_eq!(redact("USR 6 MD5 I alice@x.com"), "USR 6 MD5 I alice@x.com");
        assert_eq!(
            redact("USR 4 SSO S t=abc&p= HAAAAAEAAAAD {F26D1F07-95E2-403C-BC18-D4BFED493428}"),
            "USR 4 SSO S <redacted> <redacted> {F26D1F07-95E2-403C-BC18-D4BFED493428}"
        );
        assert_eq!(
            redact("USR 4 SSO S t=abc&p= HAAAAAEAAAAD"),
            "USR 4 SSO S <redacted> <redacted>"
        );
        assert_eq!(redact("CHG 9 NLN"), "CHG 9 NLN");
        assert_eq!(
            redact("XFR 10 SB 1.2.3.4:1865 CKI 17.42 U messenger.msn.com 1"),
            "XFR 10 SB 1.2.3.4:1865 CKI <redacted> U messenger.msn.com 1"
        );
        assert_eq!(
            redact("USR 9 SHA A PFNpZ25lZFRpY2tldD4="),
            "USR 9 SHA A <redacted>"
        );
        assert_eq!(redact("USR 3 CTP S hunter2"), "USR 3 CTP S <redacted>");
        assert_eq!(redact("USR 7 MD5 S\t e938940c"), "USR 7 MD5 S <redacted>");
    }
}
