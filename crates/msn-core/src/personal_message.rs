//! The personal message document (`UUX`, MSNP11+): `<Data><PSM>…</PSM>
//! <CurrentMedia>…</CurrentMedia>…</Data>`. It is relayed to other users'
//! clients, so it is parsed with an XML library and re-written before it is
//! stored or sent: one `<Data>` root, no DOCTYPE, entity declarations or
//! processing instructions, nothing after the root, and no text that
//! spoofs other users ([`crate::text::is_spoofing`]).

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

use crate::text::is_spoofing;

/// Largest document accepted (bytes); real clients send far less.
pub const MAX_DOCUMENT: usize = 4096;

/// The document as it is stored and relayed, or `None` if it is refused.
/// The XML declaration, comments and whitespace outside the root are
/// dropped; elements, attributes and text are kept as the client wrote
/// them (escaped).
pub fn normalize(document: &[u8]) -> Option<Vec<u8>> {
    if document.len() > MAX_DOCUMENT {
        return None;
    }
    let text = std::str::from_utf8(document).ok()?;
    let mut reader = Reader::from_str(text);
    let mut writer = Writer::new(Vec::with_capacity(document.len()));
    let mut depth = 0usize;
    let mut closed = false;
    loop {
        let event = reader.read_event().ok()?;
        match &event {
            Event::Eof => return closed.then(|| writer.into_inner()),
            Event::DocType(_) | Event::PI(_) => return None,
            Event::Decl(_) | Event::Comment(_) => continue,
            Event::Start(e) | Event::Empty(e) => {
                if closed || (depth == 0 && e.name().as_ref() != b"Data") {
                    return None;
                }
                for attribute in e.attributes() {
                    let value = attribute.ok()?.unescape_value().ok()?;
                    if value.chars().any(is_spoofing) {
                        return None;
                    }
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                } else if depth == 0 {
                    closed = true;
                }
            }
            Event::End(_) => {
                depth = depth.checked_sub(1)?;
                closed = depth == 0;
            }
            Event::Text(t) => {
                // Unknown entities fail to unescape; character references
                // are checked as the characters they stand for.
                let value = t.unescape().ok()?;
                if depth == 0 {
                    if value.trim().is_empty() {
                        continue;
                    }
                    return None;
                }
                if value.chars().any(is_spoofing) {
                    return None;
                }
            }
            Event::CData(c) => {
                let value = std::str::from_utf8(c).ok()?;
                if depth == 0 || value.chars().any(is_spoofing) {
                    return None;
                }
            }
        }
        writer.write_event(event).ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    fn ok(doc: &str) -> String {
        String::from_utf8(normalize(doc.as_bytes()).expect(doc)).unwrap()
    }

    #[test]
    fn documents_clients_send() {
        let doc = "<Data><PSM>At work</PSM><CurrentMedia></CurrentMedia></Data>";
        assert_eq!(ok(doc), doc);
        let doc = "<Data><PSM>a &amp; b</PSM><CurrentMedia/><MachineGuid>{1}</MachineGuid></Data>";
        assert_eq!(ok(doc), doc);
        // Declaration, comments and surrounding whitespace are dropped.
        assert_eq!(
            ok("<?xml version=\"1.0\"?>\r\n<Data><!-- x --><PSM>hi</PSM></Data>\r\n"),
            "<Data><PSM>hi</PSM></Data>"
        );
    }

    #[test]
    fn refused_documents() {
        for bad in [
            "<Data><PSM>x</Data>",
            "<Other/>",
            "not xml",
            "<Data/><Data/>",
            "<Data></Data>junk",
            "<!DOCTYPE Data [<!ENTITY x \"y\">]><Data><PSM>&x;</PSM></Data>",
            "<Data><PSM>&x;</PSM></Data>",
            "<?php x?><Data/>",
            "<Data><PSM>evil\u{202E}moc</PSM></Data>",
            "<Data><PSM>evil&#x202E;moc</PSM></Data>",
            "<Data><PSM a=\"&#x2028;\"/></Data>",
        ] {
            assert!(normalize(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(normalize(b"\xff\xfe").is_none());
        let big = format!("<Data><PSM>{}</PSM></Data>", "a".repeat(5000));
        assert!(normalize(big.as_bytes()).is_none());
    }
}
