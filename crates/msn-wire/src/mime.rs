//! The MIME-style payloads of `MSG` and `UUM`: `Name: value` header lines
//! ended by CRLF, a blank line, then the body.

/// The header block and the body of `payload`; a payload without the blank
/// line is all headers, with no body.
pub fn split(payload: &[u8]) -> (&[u8], Option<&[u8]>) {
    match payload.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => (&payload[..at], Some(&payload[at + 4..])),
        None => (payload, None),
    }
}

/// The value of header `name` (ASCII case-insensitive) in `payload`'s
/// header block, trimmed; `None` when absent or not UTF-8.
pub fn header<'a>(payload: &'a [u8], name: &str) -> Option<&'a str> {
    let head = std::str::from_utf8(split(payload).0).ok()?;
    head.lines().find_map(|line| {
        let (n, value) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(value.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::{header, split};

    #[test]
    fn headers_and_body() {
        let msg =
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi\r\n\r\nthere";
        assert_eq!(split(msg).1, Some(&b"hi\r\n\r\nthere"[..]));
        assert_eq!(
            header(msg, "content-type"),
            Some("text/plain; charset=UTF-8")
        );
        assert_eq!(header(msg, "X-None"), None);
        assert_eq!(split(b"Only: headers"), (&b"Only: headers"[..], None));
    }
}
