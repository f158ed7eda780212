//! The `Mail-Data` document (`<MD>`, msnp13-18.md §7.1) that lists waiting
//! offline messages: sent by the NS in the sign-in summary and the live
//! OIM notice, and returned by the RSI service's `GetMetadata`. One
//! writer, so both say the same about each message.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use time::OffsetDateTime;
use time::macros::format_description;

/// The folder id of offline messages (`<F>`).
pub const OIM_FOLDER: &str = "00000000-0000-0000-0000-000000000009";

/// One waiting offline message, as `<M>` lists it.
#[derive(Clone, Copy, Debug)]
pub struct OimEntry<'a> {
    /// The sender's address (`<E>`).
    pub sender: &'a str,
    /// The sender's display name (decoded text; sent RFC 2047-encoded).
    pub sender_name: &'a str,
    /// The message id (`<I>`), a GUID.
    pub id: &'a str,
    /// When it arrived, Unix seconds UTC (`<RT>`).
    pub received_at: i64,
    /// Size in bytes (`<SZ>`).
    pub size: usize,
}

/// `<MD>…</MD>`: no e-mail counts (msnd has no mailbox), the quota values
/// the real service sent, one `<M>` per message in the order given
/// (clients show them in that order).
pub fn document(oims: &[OimEntry<'_>]) -> String {
    let mut s = String::with_capacity(128 + oims.len() * 256);
    s.push_str("<MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E>");
    for m in oims {
        s.push_str("<M><T>11</T><S>6</S><RT>");
        s.push_str(&received_time(m.received_at));
        s.push_str("</RT><RS>0</RS><SZ>");
        s.push_str(&m.size.to_string());
        s.push_str("</SZ><E>");
        crate::xml::push_escaped(&mut s, m.sender);
        s.push_str("</E><I>");
        crate::xml::push_escaped(&mut s, m.id);
        s.push_str("</I><F>");
        s.push_str(OIM_FOLDER);
        s.push_str("</F><N>");
        crate::xml::push_escaped(&mut s, &rfc2047(m.sender_name));
        s.push_str("</N></M>");
    }
    s.push_str("<Q><QTM>409600</QTM><QNM>204800</QNM></Q></MD>");
    s
}

/// `2005-11-15T22:24:27.000Z` (`<RT>`; whole seconds).
pub fn received_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].000Z"
    ))
    .expect("a date formats")
}

/// `=?utf-8?B?<base64 of the UTF-8 text>?=`: how names travel in `<N>`
/// and in the `From:` of a fetched message.
pub fn rfc2047(text: &str) -> String {
    format!("=?utf-8?B?{}?=", BASE64.encode(text.as_bytes()))
}

/// Decodes RFC 2047 encoded words (`=?charset?B|Q?…?=`, UTF-8 or
/// ISO-8859-1) in `text`, as clients write the sender's name; text
/// outside encoded words is kept. `None` if an encoded word is malformed
/// or not valid text.
pub fn decode_rfc2047(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let between = &rest[..start];
        // Whitespace between two encoded words is not part of the text.
        if !(last_was_word && between.trim().is_empty()) {
            out.push_str(between);
        }
        let word = &rest[start + 2..];
        let (charset, word) = word.split_once('?')?;
        let (encoding, word) = word.split_once('?')?;
        let end = word.find("?=")?;
        let bytes = match encoding {
            "B" | "b" => BASE64.decode(word[..end].trim()).ok()?,
            "Q" | "q" => decode_q(&word[..end])?,
            _ => return None,
        };
        let decoded = match charset.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" | "us-ascii" => String::from_utf8(bytes).ok()?,
            "iso-8859-1" | "latin1" => bytes.iter().map(|&b| char::from(b)).collect(),
            _ => return None,
        };
        out.push_str(&decoded);
        rest = &word[end + 2..];
        last_was_word = true;
    }
    out.push_str(rest);
    Some(out)
}

/// The `Q` encoding: `_` is a space, `=XX` a byte.
fn decode_q(word: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(word.len());
    let mut bytes = word.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = [bytes.next()?, bytes.next()?];
                let hex = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
            }
            _ => out.push(b),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_document_is_the_zero_summary() {
        assert_eq!(
            document(&[]),
            "<MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><Q><QTM>409600</QTM><QNM>204800</QNM></Q></MD>"
        );
    }

    #[test]
    fn lists_each_message_with_encoded_name() {
        let md = document(&[OimEntry {
            sender: "alice@example.com",
            sender_name: "Ålice",
            id: "08CBD8BE-9972-433C-A9DA-84A0A725ABFA",
            received_at: 1_132_093_467,
            size: 950,
        }]);
        assert_eq!(
            md,
            "<MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><M><T>11</T><S>6</S>\
             <RT>2005-11-15T22:24:27.000Z</RT><RS>0</RS><SZ>950</SZ><E>alice@example.com</E>\
             <I>08CBD8BE-9972-433C-A9DA-84A0A725ABFA</I><F>00000000-0000-0000-0000-000000000009</F>\
             <N>=?utf-8?B?w4VsaWNl?=</N></M><Q><QTM>409600</QTM><QNM>204800</QNM></Q></MD>"
        );
    }

    #[test]
    fn rfc2047_round_trips_and_reads_client_forms() {
        for name in ["Alice", "Ålice ☃", "", "a?=b =?x"] {
            assert_eq!(decode_rfc2047(&rfc2047(name)).as_deref(), Some(name));
        }
        assert_eq!(decode_rfc2047("plain").as_deref(), Some("plain"));
        assert_eq!(
            decode_rfc2047("=?iso-8859-1?Q?J=F6rg_M?= =?utf-8?B?w6Q=?=").as_deref(),
            Some("Jörg Mä")
        );
        assert_eq!(decode_rfc2047("=?utf-8?B?/w==?="), None);
        assert_eq!(decode_rfc2047("=?utf-8?X?abc?="), None);
        assert_eq!(decode_rfc2047("=?utf-8?B?abc"), None);
    }
}
